// The two steps the randomized exactness tests of routers repeat: route a request and require what the
// brute-force argmin picks; release an outstanding assignment drawn at random.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "joulesched/cost/service.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/types.hpp"
#include "support/brute_force.hpp"

namespace joulesched::test {

/// Routes v and requires the device that the brute-force argmin over `state` and `cost` picks (none when it
/// finds none), an available one, and the reservation of v's predicted work there; keeps the assignment in
/// `outstanding`.
template <class Router, class State, class Cost>
void route_as_brute_force(Router& router, const State& state, const Cost& cost, const request_view& v,
                          std::vector<assignment>& outstanding) {
  const auto expected = brute_force_argmin(state, cost, v);
  // What the router must reserve there: the cost's own prediction at the load it sees when the cost predicts
  // work (PredictsWork), else predict_service's.
  std::uint64_t work = 0;
  if (expected) {
    if constexpr (PredictsWork<Cost>) work = to_work_ns(cost.work_s(state.params(*expected), state.load(*expected), v));
    else work = reserved_work_ns(state.params(*expected), v);
  }
  const auto got = router.route(v);
  REQUIRE(got.has_value() == expected.has_value());
  if (!got) return;
  REQUIRE(got->device == *expected);
  REQUIRE(state.available(got->device));
  REQUIRE(got->work_ns == work);
  outstanding.push_back(*got);
}

/// Gives back one of `outstanding` (not empty), drawn with one call of rng, through `release`.
template <class Release>
void release_one_at_random(std::mt19937_64& rng, std::vector<assignment>& outstanding, Release release) {
  const auto i = rng() % outstanding.size();
  release(outstanding[i]);
  outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace joulesched::test
