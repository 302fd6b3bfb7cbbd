/// @file terms.hpp
/// @brief The cost terms that cost models are built from, each a small function object of
/// (device params, device load, request view).
///
/// Each term states in `monotone_in_load` whether, for devices of equal parameters, it never decreases as
/// the device's queued tokens grow and reads nothing else of the load. A weighted sum of monotone terms is
/// monotone, which lets routers take the exact class-indexed path. Every term is O(1), noexcept and
/// allocation-free. A term may also state `non_negative` (its value is never below zero) and provide a floor
/// (see FlooredCostModel), which lets weighted_cost give the router a bound to stop early on.
#pragma once

#include <cmath>

#include "joulesched/types.hpp"

namespace joulesched {

/// @brief eps_n * t_r: joules the request's tokens cost on the device at its nominal operating point.
/// It ignores the load, so it is its own floor, ordered by eps_n (see FlooredCostModel).
struct energy_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params& d, const device_load&,
                                            const request_view& r) const noexcept {
    return floor(d, r);
  }
  [[nodiscard]] constexpr double floor(const device_params& d, const request_view& r) const noexcept {
    return d.energy_j_per_tok * r.work_tok;
  }
  [[nodiscard]] constexpr double floor_key(const device_params& d) const noexcept { return d.energy_j_per_tok; }
};

/// @brief ETA(n, r) = (q_n + t_r) / mu_n: seconds until the request would finish on the device.
/// No floor: the ETA on an empty device, t_r / mu_n, is a valid one, but it is far below the ETA of any loaded
/// device, so it almost never stops a visit early, and its division made least_eta_router slower (route_bench,
/// 320 devices / 16 classes: p50 114 ns without the floor, 179 ns with it).
struct eta_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params& d, const device_load& l,
                                            const request_view& r) const noexcept {
    return (static_cast<double>(l.queued_tok) + r.work_tok) / d.rate_tok_s;
  }
};

/// @brief max(0, ETA(n, r) - D_r): seconds by which the request would miss its deadline.
struct slo_penalty_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  // Not constexpr: std::fabs is constexpr only from C++23.
  [[nodiscard]] double operator()(const device_params& d, const device_load& l,
                                  const request_view& r) const noexcept {
    // max(0, late) as (late + |late|) / 2, exactly equal for every finite late below DBL_MAX / 2: compilers
    // emit branch-free arithmetic for it, where std::max becomes a branch, and whether a device is late is
    // unpredictable from one class to the next.
    const double late = eta_term{}(d, l, r) - r.budget_s;
    return 0.5 * (late + std::fabs(late));
  }
};

/// @brief q_n: tokens already reserved on the device (least-loaded routing).
struct queued_tokens_term {
  static constexpr bool monotone_in_load = true;
  static constexpr bool non_negative = true;
  [[nodiscard]] constexpr double operator()(const device_params&, const device_load& l,
                                            const request_view&) const noexcept {
    return static_cast<double>(l.queued_tok);
  }
};

}  // namespace joulesched
