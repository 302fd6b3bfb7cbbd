/// @file terms.hpp
/// @brief The cost terms that cost models are built from, each a small function object of
/// (device params, device load, request view).
///
/// Each term states in `monotone_in_load` whether, for devices of equal parameters, it never decreases as
/// the device's reserved work (its backlog, device_load::reserved_ns) grows and reads nothing else of the
/// load. A weighted sum of monotone terms is monotone, which lets routers take the exact class-indexed path.
/// Every term is O(1), noexcept and allocation-free. A term may also state `non_negative` (its value is never below
/// zero) and provide a floor (see FlooredCostModel), which lets weighted_cost give the router a bound to stop early on.
#pragma once

#include <cmath>

#include "joulesched/cost/service.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

/// @brief The joules the request costs on the device at its operating point: prefill and decode
/// (predict_service's energy_j). It ignores the load, so it has a floor: eps_n times the decode tokens, the
/// decode part at zero context, which is never above the whole and rises with eps_n (the floor key) for every
/// request (see FlooredCostModel). Prefill-heavy requests make that floor loose, which costs the floor-ordered
/// router early stops, never exactness.
struct energy_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params& d, const device_load&,
                                            const request_view& r) const noexcept {
    return predict_service(d, r).energy_j;
  }
  [[nodiscard]] constexpr double floor(const device_params& d, const request_view& r) const noexcept {
    return d.energy_j_per_tok * decode_tokens(r);
  }
  [[nodiscard]] constexpr double floor_key(const device_params& d) const noexcept { return d.energy_j_per_tok; }
  /// The rest of the energy (prefill, per-request and context joules) at the component-wise least parameters of
  /// a fleet's classes, less a relative 1e-12 for rounding: at most what any class adds to its floor, so a router
  /// may add it to every floor (see argmin_router). Tightens the floor of prefill-heavy requests.
  [[nodiscard]] constexpr double floor_offset(const device_params& least, const request_view& r) const noexcept {
    const double rest = prefill_energy_j(least, r) + decode_tokens(r) * (least.ctx_j_per_tok * mean_context_tok(r));
    return rest * (1.0 - 1e-12);
  }
};

/// @brief ETA(n, r) = B_n + latency(n, r): seconds until the request's last token if the device served its
/// backlog B_n (reserved device-seconds) first. No floor: the ETA on an empty device is a valid one, but it is far
/// below the ETA of any loaded device, so it almost never stops a visit early.
struct eta_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params& d, const device_load& l,
                                            const request_view& r) const noexcept {
    return l.reserved_s() + predict_service(d, r).latency_s;
  }
};

namespace detail {
/// max(0, x) as (x + |x|) / 2, exactly equal for every finite x below DBL_MAX / 2: compilers emit branch-free
/// arithmetic for it, where std::max becomes a branch, and whether a device is late is unpredictable from one
/// class to the next. Not constexpr: std::fabs is constexpr only from C++23.
[[nodiscard]] inline double positive_part(double x) noexcept { return 0.5 * (x + std::fabs(x)); }

/// The pacing target a request's step is priced against on a device of pacing guard `pacing_s` (device_params):
/// the stricter of the two that are set, 0 when neither is.
[[nodiscard]] constexpr double pacing_target_s(double request_tbt_s, double pacing_s) noexcept {
  if (request_tbt_s > 0.0 && pacing_s > 0.0) return request_tbt_s < pacing_s ? request_tbt_s : pacing_s;
  return request_tbt_s > 0.0 ? request_tbt_s : pacing_s;
}

/// Seconds by which a request predicted as `e` (times from now) misses its SLOs on a device of pacing guard
/// `pacing_s`: e2e, TTFT (only with a budget below max_budget_s) and pacing (only with a target,
/// pacing_target_s), the pacing excess counted over its decode tokens.
[[nodiscard]] inline double slo_lateness(const service_estimate& e, const request_view& r, double pacing_s) noexcept {
  double late = positive_part(e.latency_s - r.budget_s);
  if (r.ttft_budget_s < max_budget_s) late += positive_part(e.first_token_s - r.ttft_budget_s);
  const double tbt = pacing_target_s(r.tbt_s, pacing_s);
  if (tbt > 0.0) late += positive_part(e.tbt_s - tbt) * decode_tokens(r);
  return late;
}
}  // namespace detail

/// @brief Seconds by which the request would miss its SLOs on the device, summed over the kinds, as
/// predict_behind serves it behind the device's backlog B_n (reserved device-seconds):
/// max(0, first_token - D_ttft) + max(0, latency - D_r) + max(0, tbt - target) x decode tokens, where the first
/// token waits only for what exceeds the device's capacity, tbt is the step of the batch the backlog implies,
/// stretched by batch-mates' prefills, and the target the stricter of the request's and the device's pacing guard
/// (detail::slo_lateness). A TTFT budget of max_budget_s and no target contribute nothing.
struct slo_penalty_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    return detail::slo_lateness(predict_behind(d, r, l.reserved_s()), r, d.pacing_s);
  }
};

/// @brief B_n: seconds of work already reserved on the device (least-loaded routing: least reserved work).
struct reserved_work_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params&, const device_load& l,
                                            const request_view&) const noexcept {
    return l.reserved_s();
  }
};

}  // namespace joulesched
