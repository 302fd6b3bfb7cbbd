// plan/milp.hpp: a solution's objective and feasibility are recomputed from scratch, so a caller never has to
// trust a solver; violation() names what is wrong.
#include "joulesched/plan/milp.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/errors.hpp"

namespace jp = joulesched::plan;
using joulesched::test::has;

namespace {
// The file note's example: minimise 2x + y, 4x + y >= 6, x in [0, 3], y in [0, 5].
jp::milp example() {
  jp::milp m;
  const std::size_t x = m.add_variable(0, 3, 2.0, "x");
  const std::size_t y = m.add_variable(0, 5, 1.0, "y");
  m.add_row({{x, 4.0}, {y, 1.0}}, jp::row_sense::greater_equal, 6.0, "demand");
  return m;
}
}  // namespace

TEST_CASE("milp: objective and activity are the plain sums") {
  const jp::milp m = example();
  const std::vector<double> x{1.0, 2.0};
  CHECK(m.objective(x) == 4.0);
  CHECK(m.activity(0, x) == 6.0);
}

TEST_CASE("milp: violation accepts a feasible point and names each kind of breach") {
  const jp::milp m = example();
  CHECK_FALSE(m.violation(std::vector<double>{1.0, 2.0}));
  CHECK_FALSE(m.violation(std::vector<double>{1.0, 2.0 - 1e-12}));  // within the tolerance
  CHECK(has(*m.violation(std::vector<double>{1.0}), "1 values for 2 variables"));
  CHECK(has(*m.violation(std::vector<double>{4.0, 0.0}), "variable x = 4: outside its bounds"));
  CHECK(has(*m.violation(std::vector<double>{1.5, 0.0}), "variable x = 1.5: not a whole number"));
  CHECK(has(*m.violation(std::vector<double>{1.0, 1.0}), "row demand: activity 5 < 6"));
  CHECK(has(*m.violation(std::vector<double>{std::nan(""), 1.0}), "not finite"));
}

TEST_CASE("milp: equality and less-equal rows, and continuous variables") {
  jp::milp m;
  const std::size_t a = m.add_variable(-std::numeric_limits<double>::infinity(), 10, 1.0, "a", false);
  m.add_row({{a, 2.0}}, jp::row_sense::equal, 3.0, "eq");
  m.add_row({{a, 1.0}}, jp::row_sense::less_equal, 1.0, "le");
  CHECK(has(*m.violation(std::vector<double>{1.5}), "row le: activity 1.5 > 1"));
  CHECK(has(*m.violation(std::vector<double>{1.0}), "row eq: activity 2 < 3"));
}

TEST_CASE("milp: status words") {
  CHECK(jp::to_string(jp::milp_status::optimal) == "optimal");
  CHECK(jp::to_string(jp::milp_status::infeasible) == "infeasible");
  CHECK(jp::to_string(jp::milp_status::error) == "error");
}
