/// @file joulesched_cost.hpp
/// @brief The JouleSched cost: eps_n * t_r + lambda * max(0, ETA(n, r) - D_r).
///
/// Energy (J) plus a price lambda (J per second of lateness) on the time by which the request would miss
/// its deadline. lambda = 0 routes purely by energy; a large lambda routes by latency once deadlines are
/// at risk. A lambda_controller can retune it while routing (set_lambda). Monotone in load, so argmin_router
/// takes the exact class-indexed path: O(classes + log n) per decision.
#pragma once

#include "joulesched/cost/weighted_cost.hpp"

namespace joulesched {

class joulesched_cost : public weighted_cost<energy_term, slo_penalty_term> {
 public:
  /// @throws config_error when lambda_j_per_s is negative, NaN or infinite.
  explicit joulesched_cost(double lambda_j_per_s = 0.0)
      : weighted_cost<energy_term, slo_penalty_term>({1.0, lambda_j_per_s}) {}

  [[nodiscard]] double lambda() const noexcept { return weight(1); }

  /// @throws config_error when lambda_j_per_s is negative, NaN or infinite.
  void set_lambda(double lambda_j_per_s) { set_weight(1, lambda_j_per_s); }
};

static_assert(CostModel<joulesched_cost> && joulesched_cost::monotone_in_load && FlooredCostModel<joulesched_cost>);

}  // namespace joulesched
