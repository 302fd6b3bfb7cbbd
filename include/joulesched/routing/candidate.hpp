/// @file candidate.hpp
/// @brief The order every exact router minimises: cost, then less reserved work, then the lower device id.
///
/// Breaking cost ties by load before id matters: the JouleSched cost is flat in load while a device is not
/// late (its energy is all that remains), and piling every such request onto the lowest id would be both
/// arbitrary and unbalanced. Within a class of identical devices this order is exactly the order of the
/// class heap (load, id), which is what makes the class-indexed router exact.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

#include "joulesched/cost/service.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief A device considered for a request, with the cost it would have.
struct candidate {
  double cost = 0.0;
  std::uint64_t reserved_ns = 0;
  device_id id = 0;
  const device_params* params = nullptr;  ///< the device's parameters (a router reserves by them); not compared

  /// True when this candidate wins against `o`: lower cost, then less reserved work, then lower id.
  [[nodiscard]] constexpr bool beats(const candidate& o) const noexcept {
    if (cost != o.cost) return cost < o.cost;
    if (reserved_ns != o.reserved_ns) return reserved_ns < o.reserved_ns;
    return id < o.id;
  }
};

namespace detail {
/// @brief Checked mode: throws usage_error naming `call` unless the view's budgets (end to end, TTFT) are finite
/// and its pacing target finite and >= 0: any of them NaN or infinite makes a lateness cost NaN, and a NaN cost
/// would win or lose at random. Otherwise asserted.
inline void expect_valid_view([[maybe_unused]] const request_view& v,
                              [[maybe_unused]] std::string_view call) JOULESCHED_HOT_NOEXCEPT {
  JOULESCHED_EXPECTS(std::isfinite(v.budget_s), call, "budget_s", v.budget_s, "must be finite");
  JOULESCHED_EXPECTS(std::isfinite(v.ttft_budget_s), call, "ttft_budget_s", v.ttft_budget_s, "must be finite");
  JOULESCHED_EXPECTS(v.tbt_s >= 0.0 && std::isfinite(v.tbt_s), call, "tbt_s", v.tbt_s, "must be finite and >= 0");
}

/// @brief Checked mode: throws usage_error naming `call` when a cost is NaN. Otherwise asserted.
inline void expect_cost([[maybe_unused]] double cost, [[maybe_unused]] std::string_view call) JOULESCHED_HOT_NOEXCEPT {
  JOULESCHED_EXPECTS(!std::isnan(cost), call, "cost", cost, "a cost model returned NaN");
}
}  // namespace detail

/// @brief Evaluates a cost for device `id` of fleet `f`. Precondition (asserted; checked mode: usage_error): the
/// cost is not NaN.
template <class Cost>
[[nodiscard]] candidate evaluate(const Cost& cost, const fleet& f, device_id id,
                                 const request_view& v) JOULESCHED_HOT_NOEXCEPT {
  const device_load& l = f.load(id);
  const device_params& p = f.params(id);
  const candidate c{static_cast<double>(cost(p, l, v)), l.reserved_ns, id, &p};
  detail::expect_cost(c.cost, "router: evaluate");
  return c;
}

/// @brief Keeps the best of the candidates offered to it.
struct best_candidate {
  candidate best{};
  bool found = false;

  constexpr void offer(const candidate& c) noexcept {
    if (!found || c.beats(best)) {
      best = c;
      found = true;
    }
  }
  /// The best device offered, or empty when none was.
  [[nodiscard]] constexpr std::optional<device_id> id() const noexcept {
    return found ? std::optional<device_id>(best.id) : std::nullopt;
  }
};

/// @brief A cost model that predicts a request's device time itself: `c.work_s(params, load, view)`, seconds.
/// Routers over such a cost reserve what it predicts (a batch-aware cost knows the batch the request joins);
/// over any other cost they reserve predict_service's work_s.
template <class Cost>
concept PredictsWork = requires(const Cost& c, const device_params& d, const device_load& l, const request_view& v) {
  { c.work_s(d, l, v) } noexcept -> std::convertible_to<double>;
};

namespace detail {
/// Reserves `work_ns` on device `id` of `f` and returns the assignment that gives it back.
[[nodiscard]] inline assignment reserve_on(fleet& f, device_id id, std::uint64_t work_ns) JOULESCHED_HOT_NOEXCEPT {
  f.reserve(id, work_ns);
  return assignment{id, work_ns};
}
}  // namespace detail

/// @brief Reserves the request's predicted work on the chosen device (reserved_work_ns of its parameters) and
/// returns the assignment (empty stays empty).
[[nodiscard]] inline std::optional<assignment> assign(fleet& f, std::optional<device_id> id,
                                                      const request_view& v) JOULESCHED_HOT_NOEXCEPT {
  if (!id) return std::nullopt;
  return detail::reserve_on(f, *id, reserved_work_ns(f.params(*id), v));
}

/// @brief The work a router over `cost` reserves for `v` on a device of parameters `p` and load `l`.
template <class Cost>
[[nodiscard]] std::uint64_t work_ns_for(const Cost& cost, const device_params& p, const device_load& l,
                                        const request_view& v) noexcept {
  if constexpr (PredictsWork<Cost>) return to_work_ns(cost.work_s(p, l, v));
  else return reserved_work_ns(p, v);
}

/// @brief As assign(f, id, v), reserving what `cost` predicts (work_ns_for).
template <class Cost>
[[nodiscard]] std::optional<assignment> assign(fleet& f, std::optional<device_id> id, const request_view& v,
                                               const Cost& cost) JOULESCHED_HOT_NOEXCEPT {
  if (!id) return std::nullopt;
  return detail::reserve_on(f, *id, work_ns_for(cost, f.params(*id), f.load(*id), v));
}

/// @brief Reserves, on the best candidate's device, what `cost` predicts for `v` there (work_ns_for), and returns
/// the assignment; empty when nothing was offered. Reads the candidate's parameters, not the fleet's copy: a
/// class-indexed router's are the class's, already in cache.
template <class Cost>
[[nodiscard]] std::optional<assignment> assign_best(fleet& f, const best_candidate& best, const request_view& v,
                                                    const Cost& cost) JOULESCHED_HOT_NOEXCEPT {
  if (!best.found) return std::nullopt;
  const device_id id = best.best.id;
  return detail::reserve_on(f, id, work_ns_for(cost, *best.best.params, f.load(id), v));
}

}  // namespace joulesched
