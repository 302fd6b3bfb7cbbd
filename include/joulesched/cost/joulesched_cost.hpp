/// @file joulesched_cost.hpp
/// @brief The JouleSched cost: energy(n, r) + lambda * lateness(n, r), each from the request's predicted service on
/// the device (cost/service.hpp): prefill and decode joules; seconds late against the TTFT budget, the end-to-end
/// deadline and the pacing target.
///
/// Energy (J) plus a price lambda (J per second of lateness) on the time by which the request would miss
/// its deadline. lambda = 0 routes purely by energy; a large lambda routes by latency once deadlines are
/// at risk. A lambda_controller can retune it while routing (set_lambda). Monotone in load, so argmin_router
/// takes the exact class-indexed path: O(classes + log n) per decision.
#pragma once

#include "joulesched/cost/lambda_weighted.hpp"
#include "joulesched/cost/weighted_cost.hpp"

namespace joulesched {

class joulesched_cost : public detail::lambda_weighted<weighted_cost<energy_term, slo_penalty_term>> {
 public:
  using lambda_weighted::lambda_weighted;

  /// energy + lambda x lateness, with the request's service predicted once for both terms.
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    const service_estimate e = predict_behind(d, r, l.reserved_s());
    return weight(0) * e.energy_j + lambda() * detail::slo_lateness(e, r, d.pacing_s);
  }
};

static_assert(CostModel<joulesched_cost> && joulesched_cost::monotone_in_load && FlooredCostModel<joulesched_cost>);

}  // namespace joulesched
