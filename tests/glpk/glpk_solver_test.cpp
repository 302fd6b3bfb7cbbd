// solvers/glpk: the GLPK adapter finds the same optimum as the exact enumerator on random programs, solves
// continuous variables, reports unbounded and infeasible programs, and refuses malformed ones before GLPK
// could abort the process.
#include "joulesched/plan/glpk_solver.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "joulesched/plan/exhaustive_solver.hpp"
#include "support/errors.hpp"
#include "support/random_milp.hpp"

namespace jp = joulesched::plan;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

TEST_CASE("glpk_solver: agrees with exhaustive_solver on random integer programs") {
  std::mt19937_64 rng(7);
  int optimal = 0, infeasible = 0;
  const jp::glpk_solver glpk;
  const jp::exhaustive_solver exact;
  for (int trial = 0; trial < 400; ++trial) {
    const jp::milp m = joulesched::test::random_milp(rng, static_cast<std::size_t>(1 + trial % 7),
                                                     static_cast<std::size_t>(1 + trial % 5));
    const jp::milp_result want = exact.solve(m), got = glpk.solve(m);
    INFO("trial ", trial);
    REQUIRE(got.status == want.status);
    if (want.status == jp::milp_status::optimal) {
      CHECK(got.objective == doctest::Approx(want.objective).epsilon(1e-9));
      CHECK_FALSE(m.violation(got.values));
      ++optimal;
    } else {
      ++infeasible;
    }
  }
  CHECK(optimal > 50);
  CHECK(infeasible > 50);
}

TEST_CASE("glpk_solver: continuous and integer variables") {
  jp::milp m;
  const std::size_t x = m.add_variable(0, std::numeric_limits<double>::infinity(), 1.0, "x", false);
  const std::size_t y = m.add_variable(0, std::numeric_limits<double>::infinity(), 1.0, "y");
  m.add_row({{x, 2.0}}, jp::row_sense::greater_equal, 3.0);
  m.add_row({{y, 2.0}}, jp::row_sense::greater_equal, 3.0);
  const jp::milp_result r = jp::glpk_solver{}.solve(m);
  REQUIRE(r.status == jp::milp_status::optimal);
  CHECK(r.values[0] == doctest::Approx(1.5));
  CHECK(r.values[1] == 2.0);  // whole, exactly
  CHECK(r.objective == doctest::Approx(3.5));
}

TEST_CASE("glpk_solver: an unbounded program is an error, an empty range infeasible") {
  jp::milp unbounded;
  unbounded.add_variable(0, std::numeric_limits<double>::infinity(), -1.0, "x", false);
  const jp::milp_result r = jp::glpk_solver{}.solve(unbounded);
  CHECK(r.status == jp::milp_status::error);
  CHECK(joulesched::test::has(r.message, "unbounded"));
  jp::milp empty;
  empty.add_variable(0.2, 0.8, 1.0);
  CHECK(jp::glpk_solver{}.solve(empty).status == jp::milp_status::infeasible);
}

TEST_CASE("glpk_solver: malformed programs are refused, naming the row or variable") {
  jp::milp twice;
  const std::size_t x = twice.add_variable(0, 1, 1.0);
  twice.add_row({{x, 1.0}, {x, 2.0}}, jp::row_sense::less_equal, 1.0, "r");
  check_mentions(error_of([&] { (void)jp::glpk_solver{}.solve(twice); }), {"row r", "appears twice"});
  jp::milp missing;
  missing.add_variable(0, 1, 1.0);
  missing.add_row({{5, 1.0}}, jp::row_sense::less_equal, 1.0, "r");
  check_mentions(error_of([&] { (void)jp::glpk_solver{}.solve(missing); }), {"row r", "variable = 5"});
  jp::milp nan;
  nan.add_variable(std::nan(""), 1, 1.0, "v");
  check_mentions(error_of([&] { (void)jp::glpk_solver{}.solve(nan); }), {"variable v", "lower", "NaN"});
  check_mentions(error_of([] { (void)jp::glpk_solver{-1}; }), {"time_limit_ms", "-1"});
}
