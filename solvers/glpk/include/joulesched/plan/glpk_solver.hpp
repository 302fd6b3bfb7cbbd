/// @file glpk_solver.hpp
/// @brief A milp_solver (plan/milp.hpp) backed by GLPK's branch-and-cut (glp_intopt): the real solver for the
/// planners' programs. Part of the optional target `joulesched::glpk` (solvers/glpk/), which links GLPK; the
/// core library never includes this file.
///
/// When to use: to solve a plan/milp of real size (plan/freesh_planner.hpp's windows). For the tiniest
/// problems, or to check this adapter, plan/exhaustive_solver.hpp needs no library.
///
/// Design: each solve() builds a fresh glp_prob from the milp (rows and columns in the milp's order), runs
/// the MIP presolver and branch-and-cut with GLPK's default tolerances and no gap (a proven optimum), and
/// reads the point back, integer variables rounded to the nearest whole number. GLPK aborts the process on a
/// malformed problem, so solve() checks the milp first and throws a config_error instead. Results: optimal
/// (GLPK's GLP_OPT); infeasible when the presolver or the search proves it (GLP_ENOPFS, GLP_NOFEAS); error
/// with GLPK's reason otherwise (unbounded relaxation, time limit, numerical failure).
/// Thread safety: not thread-safe. GLPK's environment is per thread only when the library was built with
/// thread-local storage, which this adapter does not check, so call solve() from one thread at a time in the
/// process. Tested against exhaustive_solver on random programs (tests/glpk/).
#pragma once

#include <glpk.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/plan/milp.hpp"

namespace joulesched::plan {

/// @brief Solves a milp with GLPK (see the file note). Satisfies milp_solver.
class glpk_solver {
 public:
  /// @param time_limit_ms the most milliseconds one solve may take; 0 for no limit (GLPK's default). A solve
  /// cut off by it returns an error, never a point that is not proven optimal.
  explicit glpk_solver(int time_limit_ms = 0) : time_limit_ms_(time_limit_ms) {
    if (time_limit_ms < 0) detail::fail("glpk_solver", "time_limit_ms", time_limit_ms, "must be >= 0");
  }

  /// @brief Solves `m` (see the file note).
  /// @throws config_error when a bound is NaN, a cost, coefficient or rhs is not finite, a row names a variable
  /// that does not exist or names one twice, or the program has more than INT_MAX rows, columns or terms.
  [[nodiscard]] milp_result solve(const milp& m) const {
    check(m);
    milp_result result;
    for (const milp_variable& v : m.variables)
      if (v.lower > v.upper || (v.integer && std::ceil(v.lower) > std::floor(v.upper))) {
        result.status = milp_status::infeasible;
        return result;
      }
    const std::unique_ptr<glp_prob, void (*)(glp_prob*)> owner(glp_create_prob(), glp_delete_prob);
    glp_prob* lp = owner.get();
    glp_set_obj_dir(lp, GLP_MIN);
    const int columns = static_cast<int>(m.variables.size()), rows = static_cast<int>(m.rows.size());
    if (columns > 0) glp_add_cols(lp, columns);
    if (rows > 0) glp_add_rows(lp, rows);
    for (int j = 1; j <= columns; ++j) {
      const milp_variable& v = m.variables[static_cast<std::size_t>(j - 1)];
      glp_set_col_bnds(lp, j, bound_kind(v.lower, v.upper), finite_or_zero(v.lower), finite_or_zero(v.upper));
      glp_set_col_kind(lp, j, v.integer ? GLP_IV : GLP_CV);
      glp_set_obj_coef(lp, j, v.cost);
    }
    std::vector<int> ia{0}, ja{0};  // GLPK's arrays are 1-based: element 0 is unused
    std::vector<double> ar{0.0};
    for (int i = 1; i <= rows; ++i) {
      const milp_row& r = m.rows[static_cast<std::size_t>(i - 1)];
      const double lo = r.sense == row_sense::less_equal ? -inf : r.rhs;
      const double hi = r.sense == row_sense::greater_equal ? inf : r.rhs;
      glp_set_row_bnds(lp, i, bound_kind(lo, hi), finite_or_zero(lo), finite_or_zero(hi));
      for (const milp_term& t : r.terms) {
        if (t.coefficient == 0.0) continue;
        ia.push_back(i);
        ja.push_back(static_cast<int>(t.variable) + 1);
        ar.push_back(t.coefficient);
      }
    }
    glp_load_matrix(lp, static_cast<int>(ar.size()) - 1, ia.data(), ja.data(), ar.data());

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    parm.mip_gap = 0.0;
    if (time_limit_ms_ > 0) parm.tm_lim = time_limit_ms_;
    const int rc = glp_intopt(lp, &parm);
    if (rc == GLP_ENOPFS || (rc == 0 && glp_mip_status(lp) == GLP_NOFEAS)) {
      result.status = milp_status::infeasible;
      return result;
    }
    if (rc != 0 || glp_mip_status(lp) != GLP_OPT) {
      result.message = "GLPK: " + reason(rc, glp_mip_status(lp));
      return result;
    }
    result.values.resize(m.variables.size());
    for (int j = 1; j <= columns; ++j) {
      const double x = glp_mip_col_val(lp, j);
      result.values[static_cast<std::size_t>(j - 1)] =
          m.variables[static_cast<std::size_t>(j - 1)].integer ? std::round(x) : x;
    }
    result.status = milp_status::optimal;
    result.objective = m.objective(result.values);
    return result;
  }

 private:
  static constexpr double inf = std::numeric_limits<double>::infinity();

  static int bound_kind(double lo, double hi) {
    if (std::isinf(lo) && std::isinf(hi)) return GLP_FR;
    if (std::isinf(hi)) return GLP_LO;
    if (std::isinf(lo)) return GLP_UP;
    return lo == hi ? GLP_FX : GLP_DB;
  }
  static double finite_or_zero(double x) { return std::isinf(x) ? 0.0 : x; }

  static void check(const milp& m) {
    constexpr double int_max = static_cast<double>(std::numeric_limits<int>::max());
    std::size_t terms = 0;
    for (const milp_row& r : m.rows) terms += r.terms.size();
    if (static_cast<double>(m.variables.size()) >= int_max || static_cast<double>(m.rows.size()) >= int_max ||
        static_cast<double>(terms) >= int_max)
      throw config_error("glpk_solver: the program is too large for GLPK (more than INT_MAX rows, columns or terms)");
    for (std::size_t j = 0; j < m.variables.size(); ++j) {
      const milp_variable& v = m.variables[j];
      const std::string where = "glpk_solver: variable " + (v.name.empty() ? std::to_string(j) : v.name);
      if (std::isnan(v.lower)) detail::fail(where, "lower", v.lower, "must not be NaN");
      if (std::isnan(v.upper)) detail::fail(where, "upper", v.upper, "must not be NaN");
      if (v.lower == inf) detail::fail(where, "lower", v.lower, "must not be +infinity");
      if (v.upper == -inf) detail::fail(where, "upper", v.upper, "must not be -infinity");
      detail::require_finite(v.cost, where, "cost");
    }
    std::vector<std::size_t> seen(m.variables.size(), 0);  // row index + 1 that last named the variable
    for (std::size_t i = 0; i < m.rows.size(); ++i) {
      const milp_row& r = m.rows[i];
      const std::string where = "glpk_solver: row " + (r.name.empty() ? std::to_string(i) : r.name);
      detail::require_finite(r.rhs, where, "rhs");
      for (const milp_term& t : r.terms) {
        detail::require_finite(t.coefficient, where, "coefficient");
        if (t.variable >= m.variables.size())
          detail::fail(where, "variable", t.variable, "must be < the number of variables");
        if (seen[t.variable] == i + 1) detail::fail(where, "variable", t.variable, "appears twice in the row");
        seen[t.variable] = i + 1;
      }
    }
  }

  static std::string reason(int rc, int status) {
    switch (rc) {
      case GLP_ENODFS:
        return "the LP relaxation is unbounded (no dual feasible solution)";
      case GLP_ETMLIM:
        return "time limit reached before an optimum was proven";
      case GLP_EFAIL:
        return "the search failed (numerical difficulty)";
      case 0:
        return "the search ended without a proven optimum (status " + std::to_string(status) + ")";
      default:
        return "glp_intopt returned " + std::to_string(rc);
    }
  }

  int time_limit_ms_ = 0;
};

static_assert(milp_solver<glpk_solver>);

}  // namespace joulesched::plan
