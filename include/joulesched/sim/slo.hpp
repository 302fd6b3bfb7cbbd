/// @file slo.hpp
/// @brief The kinds of SLO a request can miss (time to first token, time between tokens, end to end), and the
/// outcome of one request against all of them.
///
/// When to use: the engine fills one slo_outcome per finished request; metrics count misses by kind, and a
/// controller can be pointed at one kind (or at any miss).
/// Definitions (the simulator's, see metrics.hpp):
/// - ttft: the first token came after the request's ttft_deadline_s;
/// - tbt: the request's mean time between tokens after the first, (done - first token) / (output - 1), exceeded
///   its pacing target tbt_s (requests with one output token, or without a target, cannot miss it);
/// - e2e: the request completed after its deadline_s;
/// - a rejected request misses every kind (it produced no token).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "joulesched/error.hpp"

namespace joulesched::sim {

/// @brief Which SLO a count or a controller is about. `any` is a miss of at least one kind.
enum class slo_kind : std::uint8_t { any = 0, ttft = 1, tbt = 2, e2e = 3 };

inline constexpr std::size_t slo_kind_count = 4;

[[nodiscard]] constexpr const char* to_string(slo_kind k) noexcept {
  switch (k) {
    case slo_kind::any:
      return "any";
    case slo_kind::ttft:
      return "ttft";
    case slo_kind::tbt:
      return "tbt";
    case slo_kind::e2e:
      return "e2e";
  }
  return "?";
}

/// @brief The kind called `name` (any, ttft, tbt, e2e). @throws config_error naming `where` and the value.
[[nodiscard]] inline slo_kind parse_slo_kind(std::string_view name, std::string_view where) {
  for (const slo_kind k : {slo_kind::any, slo_kind::ttft, slo_kind::tbt, slo_kind::e2e})
    if (name == to_string(k)) return k;
  joulesched::detail::fail(where, "slo kind", "'" + std::string(name) + "'", "must be one of any, ttft, tbt, e2e");
}

/// @brief What one request missed.
struct slo_outcome {
  bool ttft = false;
  bool tbt = false;
  bool e2e = false;

  /// A rejected request: every kind missed.
  [[nodiscard]] static constexpr slo_outcome rejected() noexcept { return {true, true, true}; }

  [[nodiscard]] constexpr bool any() const noexcept { return ttft || tbt || e2e; }

  [[nodiscard]] constexpr bool missed(slo_kind k) const noexcept {
    switch (k) {
      case slo_kind::any:
        return any();
      case slo_kind::ttft:
        return ttft;
      case slo_kind::tbt:
        return tbt;
      case slo_kind::e2e:
        return e2e;
    }
    return any();
  }
};

}  // namespace joulesched::sim
