/// @file power_of_d.hpp
/// @brief Power-of-d choices: draw d distinct available devices at random and take the one of least cost
/// (ties: less reserved work, then lower id).
///
/// Use it for huge fleets, or when many routers read stale load: its cost is O(d^2) with d small, flat in
/// the fleet's size, and random sampling keeps routers that see the same stale state from herding onto one
/// device, as an exact argmin would. It is not exact: it finds the best of d, not the best of all. With d at
/// least the number of available devices it evaluates all of them and is exact. Not thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

namespace detail {
/// Calls f(i) for d distinct indices drawn uniformly from [0, n), rejecting repeats (d <= n, d <= Max).
/// A draw is `engine() % n`, whose bias is below n / 2^64 with a 64-bit engine. Expected O(d^2).
template <std::uint32_t Max, class Engine, class F>
void for_distinct_draws(Engine& engine, std::size_t n, std::uint32_t d, F&& f) noexcept(noexcept(f(std::size_t{0}))) {
  assert(d <= n && d <= Max);
  std::array<std::size_t, Max> drawn{};
  for (std::uint32_t k = 0; k < d; ++k) {
    std::size_t i = 0;
    do {
      i = static_cast<std::size_t>(engine() % n);
    } while (std::find(drawn.begin(), drawn.begin() + k, i) != drawn.begin() + k);
    drawn[k] = i;
    f(i);
  }
}

/// Offers `offer(i)` each of d distinct draws among indices 0..n-1 (every index when n <= d) whose device serves
/// the request (`serving(i)`). When none of the draws does, it offers every index that serves: the model is
/// rare among the candidates, and a scan still finds its devices.
template <std::uint32_t MaxD, class Engine, class Serving, class Offer>
void offer_serving_draws(Engine& engine, std::size_t n, std::uint32_t d, Serving&& serving, Offer&& offer) {
  if (n <= d) {
    for (std::size_t i = 0; i < n; ++i)
      if (serving(i)) offer(i);
    return;
  }
  bool any = false;
  for_distinct_draws<MaxD>(engine, n, d, [&](std::size_t i) {
    if (!serving(i)) return;
    any = true;
    offer(i);
  });
  if (any) return;
  for (std::size_t i = 0; i < n; ++i)
    if (serving(i)) offer(i);
}
}  // namespace detail

template <CostModel Cost, class Engine = std::mt19937_64>
class power_of_d_router {
 public:
  static constexpr std::uint32_t max_d = 32;

  /// @throws config_error when d is 0 or above max_d.
  power_of_d_router(fleet& f, std::uint32_t d, Cost cost, std::uint64_t seed)
      : fleet_(&f), d_(d), cost_(std::move(cost)), engine_(seed) {
    if (d == 0 || d > max_d) detail::fail("power_of_d_router", "d", d, "must be in [1, " + std::to_string(max_d) + "]");
  }

  /// @brief Chooses the best of d devices drawn without replacement and reserves the request's work on it.
  /// Complexity: O(d^2) expected (O(available) when d >= available). Throws: nothing. No allocation.
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    detail::expect_valid_view(v, "power_of_d_router::route");
    const fleet& f = *fleet_;
    const auto ids = f.available_ids();
    best_candidate best;
    detail::offer_serving_draws<max_d>(
        engine_, ids.size(), d_, [&](std::size_t i) { return serves(f.params(ids[i]), v); },
        [&](std::size_t i) { best.offer(evaluate(cost_, f, ids[i], v)); });
    return assign(*fleet_, best.id(), v, cost_);
  }

  /// Gives back the work of an assignment. Returns: fleet::release's answer (false: refused, see fleet.hpp).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }
  [[nodiscard]] Cost& cost() noexcept { return cost_; }
  [[nodiscard]] const Cost& cost() const noexcept { return cost_; }
  [[nodiscard]] std::uint32_t d() const noexcept { return d_; }
  [[nodiscard]] fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const fleet& state() const noexcept { return *fleet_; }

 private:
  fleet* fleet_;
  std::uint32_t d_;
  Cost cost_;
  Engine engine_;
};

}  // namespace joulesched
