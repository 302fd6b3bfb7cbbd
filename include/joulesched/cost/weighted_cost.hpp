/// @file weighted_cost.hpp
/// @brief A cost model built at compile time as a weighted sum of cost terms.
///
/// Use it to compose energy, SLO penalty, carbon or cache-affinity terms without writing a new cost model:
/// `weighted_cost<energy_term, slo_penalty_term> c({1.0, lambda});`. The terms are fixed at compile time,
/// the weights at run time (a controller may retune one). The sum is monotone in load exactly when every
/// term is, since weights are non-negative. Cost: one call of each term, no allocation.
#pragma once

#include <array>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "joulesched/concepts.hpp"
#include "joulesched/cost/terms.hpp"
#include "joulesched/error.hpp"

namespace joulesched {

template <CostModel... Terms>
  requires(sizeof...(Terms) > 0)
class weighted_cost {
 public:
  static constexpr std::size_t size = sizeof...(Terms);
  static constexpr bool monotone_in_load = (Terms::monotone_in_load && ...);

  /// All weights 1.
  constexpr weighted_cost() { weights_.fill(1.0); }

  /// @throws config_error when a weight is negative, NaN or infinite (it would break monotonicity).
  explicit weighted_cost(std::array<double, size> weights, Terms... terms) : terms_(std::move(terms)...) {
    for (std::size_t i = 0; i < size; ++i) set_weight(i, weights[i]);
  }

  /// As above, with default-constructed terms.
  explicit weighted_cost(std::array<double, size> weights)
    requires(std::default_initializable<Terms> && ...)
      : weighted_cost(weights, Terms{}...) {}

  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    return sum(d, l, r, std::index_sequence_for<Terms...>{});
  }

  [[nodiscard]] double weight(std::size_t i) const noexcept {
    assert(i < size);
    return weights_[i];
  }

  /// @brief Sets weight i. Complexity: O(1). @throws config_error when w is negative, NaN or infinite.
  void set_weight(std::size_t i, double w) {
    assert(i < size);
    detail::require_non_negative(w, "weighted_cost", "weight[" + std::to_string(i) + "]");
    weights_[i] = w;
  }

  template <std::size_t I>
  [[nodiscard]] const auto& term() const noexcept {
    return std::get<I>(terms_);
  }

 private:
  template <std::size_t... I>
  [[nodiscard]] double sum(const device_params& d, const device_load& l, const request_view& r,
                           std::index_sequence<I...>) const noexcept {
    return ((weights_[I] * std::get<I>(terms_)(d, l, r)) + ...);
  }

  std::array<double, size> weights_{};
  std::tuple<Terms...> terms_;
};

/// Latency-only cost: the device that would finish the request first (ETA).
using eta_cost = weighted_cost<eta_term>;
/// Least-loaded by queued tokens.
using queued_tokens_cost = weighted_cost<queued_tokens_term>;

static_assert(CostModel<eta_cost> && eta_cost::monotone_in_load);

}  // namespace joulesched
