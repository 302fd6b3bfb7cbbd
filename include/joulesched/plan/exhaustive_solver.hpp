/// @file exhaustive_solver.hpp
/// @brief An exact solver for small pure-integer programs with finite bounds: depth-first enumeration of every
/// integer point, with pruning.
///
/// When to use: as the reference a real solver is tested against, or for a tiny instance (a handful of
/// variables with small ranges) where linking a solver is not worth it. Not for real problems: it refuses, with
/// a config_error, any problem it would take more than `max_nodes` steps to enumerate, so it never hangs.
///
/// Design: variables are fixed in index order, each to every whole value of its range in ascending order. A
/// branch is cut when some row can no longer be satisfied whatever the remaining variables take within their
/// bounds, or when the objective of the fixed part plus the least the rest can add is no better than the best
/// point found. A point is feasible when every row holds within default_feasibility_tolerance (milp.hpp), the
/// same rule as milp::violation(). Ties: the first point found (in lexicographic order of values) is kept.
/// Cost: O(nodes x rows) time, nodes at most `max_nodes`; O(variables x rows) memory.
/// Thread safety: solve() is const and keeps its state on the stack; concurrent calls are safe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/plan/milp.hpp"

namespace joulesched::plan {

/// @brief Enumerates every integer point of a small MILP (see the file note). Satisfies milp_solver.
class exhaustive_solver {
 public:
  /// The default limit on search nodes (one node per value tried for one variable). ASSUMPTION: 10 million,
  /// about a second unoptimised on one core; enough for the random instances of the tests.
  static constexpr std::uint64_t default_max_nodes = 10'000'000;
  /// The widest range a variable may have (upper - lower). ASSUMPTION: 1 million; a wider range cannot be
  /// enumerated anyway, and the bound keeps the values exact in a double and an int64.
  static constexpr double max_range = 1e6;

  /// @param max_nodes the most search nodes solve() visits before it gives up with a config_error.
  explicit exhaustive_solver(std::uint64_t max_nodes = default_max_nodes) noexcept : max_nodes_(max_nodes) {}

  /// @brief Solves `m` exactly: optimal with the least objective, or infeasible when no integer point
  /// satisfies every row. Complexity: see the file note.
  /// @throws config_error when a variable is continuous, has an infinite or NaN bound, a range wider than
  /// max_range, a coefficient or rhs is not finite, or the search needs more than max_nodes nodes.
  [[nodiscard]] milp_result solve(const milp& m) const {
    search s(m, max_nodes_);
    return s.run();
  }

 private:
  class search {
   public:
    search(const milp& m, std::uint64_t max_nodes) : m_(m), max_nodes_(max_nodes) { prepare(); }

    milp_result run() {
      milp_result r;
      if (empty_) {
        r.status = milp_status::infeasible;
        return r;
      }
      if (feasible_so_far(0)) visit(0, 0.0);
      if (!found_) {
        r.status = milp_status::infeasible;
        return r;
      }
      r.status = milp_status::optimal;
      r.values.assign(best_.begin(), best_.end());
      r.objective = m_.objective(r.values);
      return r;
    }

   private:
    void prepare() {
      const std::size_t n = m_.variables.size(), rows = m_.rows.size();
      lo_.resize(n);
      hi_.resize(n);
      for (std::size_t j = 0; j < n; ++j) {
        const milp_variable& v = m_.variables[j];
        const std::string name = "exhaustive_solver: variable " + (v.name.empty() ? std::to_string(j) : v.name);
        if (!v.integer) throw config_error(name + ": continuous; only integer variables can be enumerated");
        detail::require_finite(v.lower, name, "lower");
        detail::require_finite(v.upper, name, "upper");
        detail::require_finite(v.cost, name, "cost");
        if (v.upper - v.lower > max_range)
          detail::fail(name, "upper - lower", v.upper - v.lower, "must be <= 1e6 (exhaustive_solver::max_range)");
        lo_[j] = static_cast<std::int64_t>(std::ceil(v.lower));
        hi_[j] = static_cast<std::int64_t>(std::floor(v.upper));
        if (lo_[j] > hi_[j]) empty_ = true;
      }
      // Per variable, the rows it appears in; per row and depth k, the least and most the variables k.. add.
      by_variable_.resize(n);
      rest_min_.assign(rows * (n + 1), 0.0);
      rest_max_.assign(rows * (n + 1), 0.0);
      for (std::size_t i = 0; i < rows; ++i) {
        const milp_row& row = m_.rows[i];
        const std::string name = "exhaustive_solver: row " + (row.name.empty() ? std::to_string(i) : row.name);
        detail::require_finite(row.rhs, name, "rhs");
        std::vector<double> contribution_min(n + 1, 0.0), contribution_max(n + 1, 0.0);
        for (const milp_term& t : row.terms) {
          detail::require_finite(t.coefficient, name, "coefficient");
          if (t.variable >= n) detail::fail(name, "variable", t.variable, "must be < the number of variables");
          by_variable_[t.variable].push_back(milp_term{i, t.coefficient});
          const double a = t.coefficient * static_cast<double>(lo_[t.variable]);
          const double b = t.coefficient * static_cast<double>(hi_[t.variable]);
          contribution_min[t.variable] += std::min(a, b);
          contribution_max[t.variable] += std::max(a, b);
        }
        for (std::size_t k = n; k-- > 0;) {
          rest_min_[i * (n + 1) + k] = rest_min_[i * (n + 1) + k + 1] + contribution_min[k];
          rest_max_[i * (n + 1) + k] = rest_max_[i * (n + 1) + k + 1] + contribution_max[k];
        }
      }
      objective_rest_.assign(n + 1, 0.0);
      for (std::size_t k = n; k-- > 0;) {
        const double c = m_.variables[k].cost;
        objective_rest_[k] =
            objective_rest_[k + 1] + std::min(c * static_cast<double>(lo_[k]), c * static_cast<double>(hi_[k]));
      }
      activity_.assign(rows * (n + 1), 0.0);  // activity_[k * rows + i]: row i with variables 0..k-1 fixed
      point_.assign(n, 0);
    }

    // Whether every row can still hold with variables 0..k-1 fixed (activities at depth k).
    [[nodiscard]] bool feasible_so_far(std::size_t k) const {
      const std::size_t n = m_.variables.size(), rows = m_.rows.size();
      for (std::size_t i = 0; i < rows; ++i) {
        const milp_row& row = m_.rows[i];
        const double a = activity_[k * rows + i];
        const double slack = default_feasibility_tolerance * std::max(1.0, std::abs(row.rhs));
        if (row.sense != row_sense::less_equal && a + rest_max_[i * (n + 1) + k] < row.rhs - slack) return false;
        if (row.sense != row_sense::greater_equal && a + rest_min_[i * (n + 1) + k] > row.rhs + slack) return false;
      }
      return true;
    }

    void visit(std::size_t k, double objective) {
      const std::size_t n = m_.variables.size(), rows = m_.rows.size();
      if (found_ && objective + objective_rest_[k] >= best_objective_) return;
      if (k == n) {
        found_ = true;
        best_objective_ = objective;
        best_.assign(point_.begin(), point_.end());
        return;
      }
      for (std::int64_t v = lo_[k]; v <= hi_[k]; ++v) {
        if (++nodes_ > max_nodes_)
          throw config_error("exhaustive_solver: more than " + std::to_string(max_nodes_) +
                             " search nodes: the problem is too large to enumerate (use a real solver)");
        const auto x = static_cast<double>(v);
        for (std::size_t i = 0; i < rows; ++i) activity_[(k + 1) * rows + i] = activity_[k * rows + i];
        for (const milp_term& t : by_variable_[k]) activity_[(k + 1) * rows + t.variable] += t.coefficient * x;
        point_[k] = x;
        if (feasible_so_far(k + 1)) visit(k + 1, objective + m_.variables[k].cost * x);
      }
    }

    const milp& m_;
    std::uint64_t max_nodes_;
    std::uint64_t nodes_ = 0;
    bool empty_ = false;
    std::vector<std::int64_t> lo_, hi_;
    std::vector<std::vector<milp_term>> by_variable_;  // milp_term{row index, coefficient}
    std::vector<double> rest_min_, rest_max_, objective_rest_, activity_;
    std::vector<double> point_, best_;
    bool found_ = false;
    double best_objective_ = std::numeric_limits<double>::infinity();
  };

  std::uint64_t max_nodes_;
};

static_assert(milp_solver<exhaustive_solver>);

}  // namespace joulesched::plan
