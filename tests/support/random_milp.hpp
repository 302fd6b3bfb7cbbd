// Small random integer programs for the MILP solver tests, and a naive enumerator that is their oracle: it
// visits every integer point of the box and keeps the first best feasible one, with no pruning, so it shares
// no logic with plan/exhaustive_solver.hpp beyond milp::violation().
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "joulesched/plan/milp.hpp"

namespace joulesched::test {

/// A random pure-integer program: `variables` variables with bounds in [-2, 3], costs and coefficients
/// whole numbers in [-5, 5], `rows` rows of random sense and rhs; about half of them are infeasible or have
/// several optima, which is what the tests need to see.
inline plan::milp random_milp(std::mt19937_64& rng, std::size_t variables, std::size_t rows) {
  std::uniform_int_distribution<int> bound(-2, 3), coef(-5, 5), sense(0, 2), rhs(-6, 10);
  plan::milp m;
  for (std::size_t j = 0; j < variables; ++j) {
    int lo = bound(rng), hi = bound(rng);
    if (lo > hi) std::swap(lo, hi);
    m.add_variable(lo, hi, coef(rng));
  }
  for (std::size_t i = 0; i < rows; ++i) {
    std::vector<plan::milp_term> terms;
    for (std::size_t j = 0; j < variables; ++j)
      if (const int c = coef(rng); c != 0) terms.push_back(plan::milp_term{j, static_cast<double>(c)});
    m.add_row(std::move(terms), static_cast<plan::row_sense>(sense(rng)), rhs(rng));
  }
  return m;
}

/// The least objective over every integer point of `m`'s (finite) box that milp::violation() accepts, or
/// +infinity when none does.
inline double naive_minimum(const plan::milp& m) {
  const std::size_t n = m.variables.size();
  std::vector<double> x(n);
  for (std::size_t j = 0; j < n; ++j) x[j] = std::ceil(m.variables[j].lower);
  double best = std::numeric_limits<double>::infinity();
  for (;;) {
    if (!m.violation(x)) best = std::min(best, m.objective(x));
    std::size_t j = 0;
    while (j < n && x[j] + 1.0 > m.variables[j].upper) x[j] = std::ceil(m.variables[j].lower), ++j;
    if (j == n) return best;
    x[j] += 1.0;
  }
}

}  // namespace joulesched::test
