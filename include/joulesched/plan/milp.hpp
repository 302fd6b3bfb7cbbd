/// @file milp.hpp
/// @brief A small, solver-neutral mixed-integer linear program (variables with bounds and integrality, linear
/// rows, a linear objective to minimise), the result a solver returns, and the concept a solver satisfies.
///
/// When to use: to state a planning problem once and hand it to any solver (plan/exhaustive_solver.hpp for tiny
/// problems; the optional GLPK adapter `joulesched::glpk`, solvers/glpk/, for real ones). Not a modelling
/// language: no expressions, no names beyond one label per variable and row.
///
/// Design: plain aggregates; a row is a list of (variable, coefficient) terms, a sense and a right-hand side.
/// objective() and violation() recompute a solution's value and check it from scratch, so a caller never has to
/// trust a solver's own report. Cost: O(terms) per evaluation.
///
/// @code
/// joulesched::plan::milp m;
/// const std::size_t x = m.add_variable(0, 3, 2.0, "x");  // integer in [0, 3], cost 2 per unit
/// const std::size_t y = m.add_variable(0, 5, 1.0, "y");
/// m.add_row({{x, 4.0}, {y, 1.0}}, joulesched::plan::row_sense::greater_equal, 6.0, "demand");
/// // a solver's solve(m) returns milp_result{optimal, objective 4 (x = 1, y = 2), values {1, 2}}
/// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/error.hpp"

namespace joulesched::plan {

/// @brief One decision variable: bounds (either may be infinite), integrality and its objective coefficient.
struct milp_variable {
  double lower = 0.0;                                      ///< lower bound; -infinity for none
  double upper = std::numeric_limits<double>::infinity();  ///< upper bound; +infinity for none
  bool integer = true;                                     ///< whether the value must be a whole number
  double cost = 0.0;                                       ///< objective coefficient (the objective is minimised)
  std::string name;                                        ///< label for messages
};

/// @brief The sense of a row: activity <= rhs, activity >= rhs, or activity == rhs.
enum class row_sense { less_equal, greater_equal, equal };

/// @brief One term of a row: coefficient x variable.
struct milp_term {
  std::size_t variable = 0;  ///< index into milp::variables
  double coefficient = 0.0;  ///< multiplies the variable
};

/// @brief One linear constraint: sum of terms, sense, right-hand side.
struct milp_row {
  std::vector<milp_term> terms;             ///< the terms; a variable appears at most once
  row_sense sense = row_sense::less_equal;  ///< how the activity compares with rhs
  double rhs = 0.0;                         ///< right-hand side
  std::string name;                         ///< label for messages
};

/// @brief How close a value must be to satisfy a row or bound: `tolerance * max(1, |bound|)`. 1e-9 is an
/// ASSUMPTION: far above the rounding of sums of a few dozen doubles (about 1e-15 relative each), far below any
/// difference the FREESH inputs make (their quantities have at most 7 significant digits).
inline constexpr double default_feasibility_tolerance = 1e-9;

/// @brief A mixed-integer linear program: minimise sum cost_j x_j subject to the rows and bounds.
struct milp {
  std::vector<milp_variable> variables;  ///< the variables, in index order
  std::vector<milp_row> rows;            ///< the constraints

  /// @brief Adds an integer variable and returns its index. Complexity: amortised O(1).
  std::size_t add_variable(double lower, double upper, double cost, std::string name = {}, bool integer = true) {
    variables.push_back(milp_variable{lower, upper, integer, cost, std::move(name)});
    return variables.size() - 1;
  }

  /// @brief Adds a row. Complexity: O(terms).
  void add_row(std::vector<milp_term> terms, row_sense sense, double rhs, std::string name = {}) {
    rows.push_back(milp_row{std::move(terms), sense, rhs, std::move(name)});
  }

  /// @brief The objective of `x` (one value per variable), summed in variable order. Complexity: O(variables).
  [[nodiscard]] double objective(std::span<const double> x) const {
    double sum = 0.0;
    for (std::size_t j = 0; j < variables.size() && j < x.size(); ++j) sum += variables[j].cost * x[j];
    return sum;
  }

  /// @brief The activity of row `i` at `x`, summed in term order. Complexity: O(terms of the row).
  [[nodiscard]] double activity(std::size_t i, std::span<const double> x) const {
    double sum = 0.0;
    for (const milp_term& t : rows[i].terms) sum += t.coefficient * x[t.variable];
    return sum;
  }

  /// @brief Why `x` is not a feasible point, or nothing when it is: the first value of the wrong count, out of
  /// its bounds, not whole for an integer variable, or a row it breaks, each beyond `tolerance` (relative, see
  /// default_feasibility_tolerance). Complexity: O(variables + terms).
  [[nodiscard]] std::optional<std::string> violation(std::span<const double> x,
                                                     double tolerance = default_feasibility_tolerance) const {
    const auto slack = [tolerance](double bound) { return tolerance * std::max(1.0, std::abs(bound)); };
    if (x.size() != variables.size())
      return std::to_string(x.size()) + " values for " + std::to_string(variables.size()) + " variables";
    for (std::size_t j = 0; j < x.size(); ++j) {
      const milp_variable& v = variables[j];
      if (!std::isfinite(x[j])) return "variable " + label(j) + " = " + detail::shortest(x[j]) + ": not finite";
      if (x[j] < v.lower - slack(v.lower) || x[j] > v.upper + slack(v.upper))
        return "variable " + label(j) + " = " + detail::shortest(x[j]) + ": outside its bounds";
      if (v.integer && std::abs(x[j] - std::round(x[j])) > slack(x[j]))
        return "variable " + label(j) + " = " + detail::shortest(x[j]) + ": not a whole number";
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const milp_row& r = rows[i];
      const double a = activity(i, x);
      const bool low = r.sense != row_sense::less_equal && a < r.rhs - slack(r.rhs);
      const bool high = r.sense != row_sense::greater_equal && a > r.rhs + slack(r.rhs);
      if (low || high)
        return "row " + (r.name.empty() ? std::to_string(i) : r.name) + ": activity " + detail::shortest(a) +
               (low ? " < " : " > ") + detail::shortest(r.rhs);
    }
    return std::nullopt;
  }

 private:
  [[nodiscard]] std::string label(std::size_t j) const {
    return variables[j].name.empty() ? std::to_string(j) : variables[j].name;
  }
};

/// @brief What a solver found: a proven optimum, proof that no feasible point exists, or a failure (a limit,
/// a numerical problem, an unbounded relaxation), explained in milp_result::message.
enum class milp_status { optimal, infeasible, error };

/// @brief The status as a lowercase word: "optimal", "infeasible" or "error".
[[nodiscard]] constexpr std::string_view to_string(milp_status s) noexcept {
  switch (s) {
    case milp_status::optimal:
      return "optimal";
    case milp_status::infeasible:
      return "infeasible";
    case milp_status::error:
      break;
  }
  return "error";
}

/// @brief A solver's answer. When optimal, `values` holds one value per variable (integers exact) and
/// `objective` is milp::objective(values); otherwise `values` is empty and `objective` is NaN.
struct milp_result {
  milp_status status = milp_status::error;                      ///< what was found
  double objective = std::numeric_limits<double>::quiet_NaN();  ///< the optimum, when optimal
  std::vector<double> values;                                   ///< the optimal point, when optimal
  std::string message;                                          ///< why, when error
};

/// @brief A MILP solver: `s.solve(m)` returns a milp_result for `m`.
///
/// Promises the compiler cannot check: an `optimal` result is a true optimum of `m` (within the solver's
/// tolerances, which an implementation documents), its values satisfy milp::violation() and its objective is
/// recomputed from them; `infeasible` is only returned with a proof (exhaustion or the solver's own). A solver
/// need not be thread-safe; each documents whether it is.
template <class S>
concept milp_solver = requires(S& s, const milp& m) {
  { s.solve(m) } -> std::same_as<milp_result>;
};

}  // namespace joulesched::plan
