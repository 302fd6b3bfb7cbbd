/// @file request_view.hpp
/// @brief Builds the view a router decides on from an engine's request, the current time and an estimate of
/// its output tokens.
///
/// make_request_view is for the hot path: no throw, no allocation, preconditions asserted in debug builds (and
/// thrown as usage_error in checked mode, see usage_error.hpp). checked_request_view is for input the engine has
/// not validated (a trace, a client): it throws config_error naming where the request came from.
///
/// What "valid" means: the inputs finite and every quantity derived from them in range, because finite inputs can
/// still overflow: a deadline of 1.7e308 at now = -1.7e308 gives an infinite budget, whose cost is NaN. So the
/// token counts must fit a request_view's 32-bit fields (rather than be cut to 2^32 - 1) and the budget,
/// deadline_s - now_s, must lie within +-max_budget_s.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief The largest token count a request_view holds: 2^32 - 1.
inline constexpr double max_view_tok = std::numeric_limits<std::uint32_t>::max();

namespace detail {
/// Rounds a finite, non-negative token count up to whole tokens, saturating at 2^32 - 1.
[[nodiscard]] inline std::uint32_t whole_tokens(double tok) noexcept {
  constexpr double top = std::numeric_limits<std::uint32_t>::max();
  return tok >= top ? std::numeric_limits<std::uint32_t>::max() : static_cast<std::uint32_t>(std::ceil(tok));
}
}  // namespace detail

/// @brief The router's view of `r` at time `now_s`, given an estimate of its output tokens: budgets relative to
/// now (end to end, and time to first token when `r` has a TTFT deadline, else max_budget_s: none), its pacing
/// target (tbt_s) and SLO class.
/// Preconditions (asserted; checked mode: usage_error): tokens finite, >= 0 and <= max_view_tok; deadlines and
/// now finite, and each |deadline - now| <= max_budget_s; tbt_s finite, >= 0 and <= max_budget_s. A past
/// deadline is legal.
template <Request R>
[[nodiscard]] request_view make_request_view(const R& r, double now_s,
                                             double output_estimate_tok) JOULESCHED_HOT_NOEXCEPT {
  using tr = request_traits<R>;
  const double in = tr::input_tok(r);
  const double deadline = tr::deadline_s(r);
  const double budget = deadline - now_s;  // NaN when either is NaN, infinite when either is or it overflows
  JOULESCHED_EXPECTS(in >= 0.0 && in <= max_view_tok, "make_request_view", "input_tok", in, "must be in [0, 2^32 - 1]");
  JOULESCHED_EXPECTS(output_estimate_tok >= 0.0 && output_estimate_tok <= max_view_tok, "make_request_view",
                     "output_estimate_tok", output_estimate_tok, "must be in [0, 2^32 - 1]");
  JOULESCHED_EXPECTS(std::fabs(budget) <= max_budget_s, "make_request_view", "budget_s (deadline_s - now_s)", budget,
                     "must be finite and within +-max_budget_s (1e12 s)");
  // A request_traits specialisation may lack the optional fields (see traits.hpp): each is read only if present.
  std::optional<double> ttft_deadline;
  if constexpr (requires { tr::ttft_deadline_s(r); }) ttft_deadline = tr::ttft_deadline_s(r);
  const double ttft_budget = ttft_deadline ? *ttft_deadline - now_s : max_budget_s;
  JOULESCHED_EXPECTS(std::fabs(ttft_budget) <= max_budget_s, "make_request_view",
                     "ttft_budget_s (ttft_deadline_s - now_s)", ttft_budget,
                     "must be finite and within +-max_budget_s (1e12 s)");
  double tbt = 0.0;
  if constexpr (requires { tr::tbt_s(r); }) tbt = tr::tbt_s(r);
  JOULESCHED_EXPECTS(tbt >= 0.0 && tbt <= max_budget_s, "make_request_view", "tbt_s", tbt,
                     "must be in [0, max_budget_s]");
  std::optional<tier> declared;
  if constexpr (requires { tr::declared_tier(r); }) declared = tr::declared_tier(r);
  request_view v{detail::whole_tokens(output_estimate_tok), detail::whole_tokens(in), budget,
                 declared.value_or(tier::interactive)};
  v.ttft_budget_s = ttft_budget;
  v.tbt_s = tbt;
  // A request that names no class is in its declared tier's default class (the default set's interactive or bulk).
  if constexpr (requires { tr::slo_class(r); }) v.slo_class = tr::slo_class(r);
  else v.slo_class = declared ? default_slo_class_of(*declared) : default_slo_class;
  if constexpr (requires { tr::model(r); }) {
    const auto m = tr::model(r);
    JOULESCHED_EXPECTS(m < max_models, "make_request_view", "model", m, "must be < max_models (64)");
    v.model = static_cast<model_id>(m);
  }
  return v;
}

/// @brief As make_request_view, but checks its inputs and what they give.
/// @throws config_error naming `where`, the field and its value when a token count is negative, NaN, infinite
/// or above max_view_tok (2^32 - 1), when a deadline or now is NaN or infinite, when a budget (deadline_s - now_s,
/// ttft_deadline_s - now_s) is beyond +-max_budget_s (which includes its overflowing to infinity), or when tbt_s
/// is negative, NaN, infinite or above max_budget_s, or when the model is >= max_models.
template <Request R>
[[nodiscard]] request_view checked_request_view(const R& r, double now_s, double output_estimate_tok,
                                                std::string_view where) {
  using tr = request_traits<R>;
  const auto require_tokens = [&](double tok, std::string_view field) {
    detail::require_non_negative(tok, where, field);
    if (tok > max_view_tok) detail::fail(where, field, tok, "must be <= 4294967295 (2^32 - 1)");
  };
  require_tokens(tr::input_tok(r), "input_tok");
  require_tokens(output_estimate_tok, "output_estimate_tok");
  detail::require_finite(now_s, where, "now_s");
  const auto require_budget = [&](double deadline, std::string_view field) {
    if (const double budget = deadline - now_s; !(std::fabs(budget) <= max_budget_s)) {
      const auto text = [](double x) {
        char buf[32];
        return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
      };
      detail::fail(where,
                   std::string(field) == "deadline_s" ? "budget_s (deadline_s - now_s)"
                                                      : "ttft_budget_s (ttft_deadline_s - now_s)",
                   budget,
                   "must be finite and within +-1e12 s (max_budget_s), from " + std::string(field) + " = " +
                       text(deadline) + " and now_s = " + text(now_s));
    }
  };
  require_budget(detail::require_finite(tr::deadline_s(r), where, "deadline_s"), "deadline_s");
  if constexpr (requires { tr::ttft_deadline_s(r); })
    if (const std::optional<double> ttft = tr::ttft_deadline_s(r))
      require_budget(detail::require_finite(*ttft, where, "ttft_deadline_s"), "ttft_deadline_s");
  if constexpr (requires { tr::tbt_s(r); }) {
    const double tbt = detail::require_non_negative(tr::tbt_s(r), where, "tbt_s");
    if (tbt > max_budget_s) detail::fail(where, "tbt_s", tbt, "must be <= 1e12 s (max_budget_s)");
  }
  if constexpr (requires { tr::model(r); })
    if (const auto m = tr::model(r); m >= max_models) detail::fail(where, "model", m, "must be < 64 (max_models)");
  return make_request_view(r, now_s, output_estimate_tok);
}

}  // namespace joulesched
