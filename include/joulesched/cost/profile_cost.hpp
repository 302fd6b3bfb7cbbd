/// @file profile_cost.hpp
/// @brief The JouleSched cost with batch- and length-dependent energy and rate from each device's profile:
/// energy at batch b+1 + lambda * lateness at batch b+1 (profile_terms.hpp): prefill from the device's
/// parameters, decode from the profile's eps(b+1, s) and mu(b+1, s).
///
/// Use it when devices carry an energy_profile and batching effects matter more than decision time: it is not
/// monotone in load, so argmin_router takes the exact O(n) scan. For large fleets prefer joulesched_cost
/// (class-indexed) or power_of_d_router over this cost.
#pragma once

#include "joulesched/cost/lambda_weighted.hpp"
#include "joulesched/cost/profile_terms.hpp"
#include "joulesched/cost/weighted_cost.hpp"

namespace joulesched {

class profile_cost : public detail::lambda_weighted<weighted_cost<profile_energy_term, profile_slo_penalty_term>> {
 public:
  using lambda_weighted::lambda_weighted;

  /// The device-seconds the request takes at the batch it would join (what routers over this cost reserve).
  [[nodiscard]] double work_s(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    return detail::profile_service(d, l, r).work_s;
  }

  /// The weighted sum of the two terms, with the profile read once (the scan evaluates it for every device).
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    const service_estimate e = detail::profile_service(d, l, r);
    return weight(0) * e.energy_j + lambda() * detail::slo_lateness(detail::after(l.reserved_s(), e), r, d.pacing_s);
  }
};

static_assert(CostModel<profile_cost> && !profile_cost::monotone_in_load);

}  // namespace joulesched
