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

namespace detail {
template <class T>
concept non_negative_term = requires { requires T::non_negative; };

// The index of the first term that has a floor while every other term is non-negative; sizeof...(Terms) when
// there is none.
template <class... Terms>
consteval std::size_t floored_term() {
  constexpr std::size_t n = sizeof...(Terms);
  constexpr bool floored[] = {FlooredCostModel<Terms>...};
  constexpr bool non_negative[] = {non_negative_term<Terms>...};
  for (std::size_t k = 0; k < n; ++k) {
    bool others_non_negative = true;
    for (std::size_t i = 0; i < n; ++i) others_non_negative = others_non_negative && (i == k || non_negative[i]);
    if (floored[k] && others_non_negative) return k;
  }
  return n;
}
}  // namespace detail

template <CostModel... Terms>
  requires(sizeof...(Terms) > 0)
class weighted_cost {
 public:
  static constexpr std::size_t size = sizeof...(Terms);
  static constexpr bool monotone_in_load = (Terms::monotone_in_load && ...);
  /// The term whose floor bounds the sum (see FlooredCostModel), or `size` when the sum has no floor.
  static constexpr std::size_t floored_term = detail::floored_term<Terms...>();

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

  /// @brief A bound below the cost for every load: the floored term's floor times its weight. Every other
  /// term adds a non-negative amount, and rounding is monotone, so the computed sum never falls below it.
  [[nodiscard]] double floor(const device_params& d, const request_view& r) const noexcept
    requires(floored_term < size)
  {
    return weights_[floored_term] * std::get<floored_term>(terms_).floor(d, r);
  }

  /// @brief What a router may add to every class's floor for `r`, given the component-wise least parameters of
  /// its classes: the floored term's floor_offset times its weight, or 0 when the term has none.
  [[nodiscard]] double floor_offset(const device_params& least, const request_view& r) const noexcept
    requires(floored_term < size)
  {
    using term = std::tuple_element_t<floored_term, std::tuple<Terms...>>;
    if constexpr (requires(const term& t) { t.floor_offset(least, r); })
      return weights_[floored_term] * std::get<floored_term>(terms_).floor_offset(least, r);
    else return 0.0;
  }

  /// @brief The floored term's key: weights are non-negative, so they never change the order of floors.
  [[nodiscard]] double floor_key(const device_params& d) const noexcept
    requires(floored_term < size)
  {
    return std::get<floored_term>(terms_).floor_key(d);
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
  [[nodiscard]] double sum(const device_params& d, const device_load& load, const request_view& r,
                           std::index_sequence<I...>) const noexcept {
    return ((weights_[I] * std::get<I>(terms_)(d, load, r)) + ...);
  }

  std::array<double, size> weights_{};
  std::tuple<Terms...> terms_;
};

/// Latency-only cost: the device that would finish the request first (ETA).
using eta_cost = weighted_cost<eta_term>;
/// Least-loaded: the least reserved work (device-seconds).
using reserved_work_cost = weighted_cost<reserved_work_term>;

static_assert(CostModel<eta_cost> && eta_cost::monotone_in_load);
static_assert(!FlooredCostModel<reserved_work_cost>);

}  // namespace joulesched
