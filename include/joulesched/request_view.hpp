/// @file request_view.hpp
/// @brief Builds the view a router decides on from an engine's request, the current time and an estimate of
/// its output tokens.
///
/// make_request_view is for the hot path: no throw, no allocation, preconditions asserted in debug builds.
/// checked_request_view is for input the engine has not validated (a trace, a client): it throws
/// config_error naming where the request came from.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

namespace detail {
/// Rounds a finite, non-negative token count up to whole tokens, saturating at 2^32 - 1.
[[nodiscard]] inline std::uint32_t whole_tokens(double tok) noexcept {
  constexpr double top = std::numeric_limits<std::uint32_t>::max();
  return tok >= top ? std::numeric_limits<std::uint32_t>::max() : static_cast<std::uint32_t>(std::ceil(tok));
}
}  // namespace detail

/// @brief The router's view of `r` at time `now_s`, given an estimate of its output tokens.
/// Preconditions (asserted): tokens finite and >= 0, deadline and now finite. A past deadline is legal.
template <Request R>
[[nodiscard]] request_view make_request_view(const R& r, double now_s, double output_estimate_tok) noexcept {
  using tr = request_traits<R>;
  const double in = tr::input_tok(r);
  const double deadline = tr::deadline_s(r);
  assert(std::isfinite(in) && in >= 0.0);
  assert(std::isfinite(output_estimate_tok) && output_estimate_tok >= 0.0);
  assert(std::isfinite(deadline) && std::isfinite(now_s));
  return request_view{detail::whole_tokens(output_estimate_tok), detail::whole_tokens(in), deadline - now_s,
                      tr::declared_tier(r).value_or(tier::interactive)};
}

/// @brief As make_request_view, but checks its inputs.
/// @throws config_error naming `where` and the field when a token count is negative, NaN or infinite, or
/// the deadline or now is NaN or infinite.
template <Request R>
[[nodiscard]] request_view checked_request_view(const R& r, double now_s, double output_estimate_tok,
                                                std::string_view where) {
  using tr = request_traits<R>;
  detail::require_non_negative(tr::input_tok(r), where, "input_tok");
  detail::require_non_negative(output_estimate_tok, where, "output_estimate_tok");
  detail::require_finite(tr::deadline_s(r), where, "deadline_s");
  detail::require_finite(now_s, where, "now_s");
  return make_request_view(r, now_s, output_estimate_tok);
}

}  // namespace joulesched
