// plan/exhaustive_solver.hpp: the exact reference solver finds the true optimum (checked against a naive
// enumeration on random programs), proves infeasibility, and refuses what it cannot enumerate.
#include "joulesched/plan/exhaustive_solver.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "support/errors.hpp"
#include "support/random_milp.hpp"

namespace jp = joulesched::plan;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

TEST_CASE("exhaustive_solver: the file note's example") {
  jp::milp m;
  const std::size_t x = m.add_variable(0, 3, 2.0, "x");
  const std::size_t y = m.add_variable(0, 5, 1.0, "y");
  m.add_row({{x, 4.0}, {y, 1.0}}, jp::row_sense::greater_equal, 6.0, "demand");
  const jp::milp_result r = jp::exhaustive_solver{}.solve(m);
  REQUIRE(r.status == jp::milp_status::optimal);
  CHECK(r.objective == 4.0);
  CHECK(r.values == std::vector<double>{1.0, 2.0});
}

TEST_CASE("exhaustive_solver: matches a naive enumeration on random programs") {
  std::mt19937_64 rng(20261203);
  int optimal = 0, infeasible = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const jp::milp m = joulesched::test::random_milp(rng, static_cast<std::size_t>(1 + trial % 5),
                                                     static_cast<std::size_t>(1 + trial % 4));
    const double best = joulesched::test::naive_minimum(m);
    const jp::milp_result r = jp::exhaustive_solver{}.solve(m);
    INFO("trial ", trial);
    if (std::isinf(best)) {
      CHECK(r.status == jp::milp_status::infeasible);
      CHECK(r.values.empty());
      ++infeasible;
    } else {
      REQUIRE(r.status == jp::milp_status::optimal);
      CHECK(r.objective == best);
      CHECK_FALSE(m.violation(r.values));
      ++optimal;
    }
  }
  CHECK(optimal > 50);  // the generator exercises both outcomes
  CHECK(infeasible > 50);
}

TEST_CASE("exhaustive_solver: an empty range is infeasible, no variable is optimal at 0") {
  jp::milp empty;
  empty.add_variable(0.5, 0.7, 1.0);
  CHECK(jp::exhaustive_solver{}.solve(empty).status == jp::milp_status::infeasible);
  const jp::milp_result none = jp::exhaustive_solver{}.solve(jp::milp{});
  CHECK(none.status == jp::milp_status::optimal);
  CHECK(none.objective == 0.0);
}

TEST_CASE("exhaustive_solver: refuses what it cannot enumerate, naming the variable") {
  jp::milp continuous;
  continuous.add_variable(0, 1, 1.0, "c", false);
  check_mentions(error_of([&] { (void)jp::exhaustive_solver{}.solve(continuous); }), {"variable c", "continuous"});
  jp::milp unbounded;
  unbounded.add_variable(0, std::numeric_limits<double>::infinity(), 1.0, "u");
  check_mentions(error_of([&] { (void)jp::exhaustive_solver{}.solve(unbounded); }), {"variable u", "upper"});
  jp::milp wide;
  wide.add_variable(0, 2e6, 1.0, "w");
  check_mentions(error_of([&] { (void)jp::exhaustive_solver{}.solve(wide); }), {"variable w", "max_range"});
  jp::milp big;
  for (int j = 0; j < 8; ++j) big.add_variable(0, 9, -1.0);  // 10^8 points, none pruned
  check_mentions(error_of([&] { (void)jp::exhaustive_solver{1000}.solve(big); }), {"more than 1000 search nodes"});
}
