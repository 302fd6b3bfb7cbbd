/// @file freesh_planner.hpp
/// @brief FREESH's pool-level planner (He et al., arXiv 2511.00807): for each 30-minute window, how many
/// instances of each parallelism mode every site runs for every request class, at least cost in energy x the
/// site's emission coefficient, enough for the window's peak demand, within each site's GPUs and the SLO filter.
///
/// When to use: to plan a fleet of sites for a day from FREESH-style inputs (plan/freesh_inputs.hpp). The
/// program is built solver-neutrally (plan/milp.hpp); any milp_solver solves it: the GLPK adapter
/// (`joulesched::glpk`) for the real inputs, plan/exhaustive_solver.hpp for a tiny one.
///
/// The program of window w (steps t of w; sites n, classes r, modes m), as the authors' pool optimiser states
/// it (AndrewFangZequan/LLM_Serving_FREESH a9adec64, PoolMILP/; "FREESH's code" below):
///
///     minimise   sum over n, r, m, t in w of  e[n, t] x[n, r, m] P[r, m] 300 s
///     subject to sum over n, m of x[n, r, m] max_qps[r, m] >= headroom demand[r, t] / beta   (each r, t in w)
///                sum over r, m of type c of x[n, r, m] gpus[m] <= installed[n, c]           (each n, c)
///                x[n, r, m] = 0 where (r, m) is not freesh_allowed()
///                x[n, r, m] integer, 0 <= x[n, r, m] <= installed[n, type of m] / gpus[m]
///
/// The last bound is implied by the GPU rows; it is stated so that every variable has a finite range (which
/// exhaustive_solver needs) and changes no optimum. With the energy objective, e = 1 everywhere.
/// A window that ends the series early (steps not a multiple of window_steps) has fewer steps.
///
/// Design: one milp per window, variables in (site, class, mode) order; the plan records them in the same
/// order, so freesh_plan::at() needs no map. A solver's answer is checked with milp::violation() before it is
/// kept. Cost: O(sites x classes x modes x steps) to build a window, plus the solver's time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/plan/freesh_inputs.hpp"
#include "joulesched/plan/milp.hpp"

namespace joulesched::plan {

/// @brief What the planner minimises: energy x the site's emission coefficient, or energy alone.
enum class freesh_objective { carbon, energy };

/// @brief The planner's knobs. Every default is the authors' published setting (data/freesh/README.md).
struct freesh_options {
  double beta = 2.0;             ///< demand is divided by beta. Source: FREESH's published run (beta = 2)
  double headroom = 1.1;         ///< capacity kept above demand. Source: FREESH's code (1.1 x demand)
  std::size_t window_steps = 6;  ///< steps of freesh_step_s per plan. Source: FREESH (30-minute windows)
  freesh_objective objective = freesh_objective::carbon;  ///< what is minimised
  double e2e_factor = 5.0;    ///< a mode is cut when its e2e latency > factor x the class's mean. Source: FREESH's code
  double max_tbt_ms = 150.0;  ///< a mode is cut when its TBT exceeds this. Source: FREESH's code
  double max_ttft_short_ms = 300.0;  ///< ... or its TTFT, for a short-prompt class (S*). Source: FREESH's code
  double max_ttft_long_ms = 600.0;   ///< ... for a long-prompt class (L*). Source: FREESH's code

  /// @throws config_error naming the field when a value is out of range.
  void validate() const {
    constexpr std::string_view where = "freesh_options";
    detail::require_positive(beta, where, "beta");
    detail::require_positive(headroom, where, "headroom");
    if (window_steps == 0) detail::fail(where, "window_steps", window_steps, "must be >= 1");
    detail::require_positive(e2e_factor, where, "e2e_factor");
    detail::require_non_negative(max_tbt_ms, where, "max_tbt_ms");
    detail::require_non_negative(max_ttft_short_ms, where, "max_ttft_short_ms");
    detail::require_non_negative(max_ttft_long_ms, where, "max_ttft_long_ms");
  }
};

/// @brief Whether mode `mode` may serve class `cls`: it can serve it at all (max_qps > 0) and passes the SLO
/// filter (e2e latency, TBT and TTFT limits of `o`). The e2e mean is over every mode of the class, those that
/// cannot serve it included: the mean over modes, as FREESH's code takes it. Complexity: O(modes).
[[nodiscard]] inline bool freesh_allowed(const freesh_profiles& p, std::size_t cls, std::size_t mode,
                                         const freesh_options& o) {
  double mean_e2e = 0.0;
  for (std::size_t m = 0; m < p.modes.size(); ++m) mean_e2e += p.at(cls, m).e2e_latency_s;
  mean_e2e /= static_cast<double>(p.modes.size());
  const freesh_profile& f = p.at(cls, mode);
  const double max_ttft = p.short_prompt(cls) ? o.max_ttft_short_ms : o.max_ttft_long_ms;
  return f.max_qps > 0.0 && f.e2e_latency_s <= o.e2e_factor * mean_e2e && f.tbt_ms <= o.max_tbt_ms &&
         f.ttft_ms <= max_ttft;
}

/// @brief The windows of the inputs' series: ceil(steps / window_steps).
[[nodiscard]] inline std::size_t freesh_windows(const freesh_inputs& in, const freesh_options& o) {
  return (in.demand_qps.steps + o.window_steps - 1) / o.window_steps;
}

/// @brief The program of window `window` (see the file note); variable (n, r, m) has index
/// (n x classes + r) x modes + m. With `only_class`, the demand rows of the other classes are left out: the
/// program of that class alone, which says whether the sites could serve it with nothing else to serve.
/// @throws config_error for invalid options, a window past the series or a class that does not exist.
[[nodiscard]] inline milp freesh_window_milp(const freesh_inputs& in, std::size_t window, const freesh_options& o,
                                             std::optional<std::size_t> only_class = std::nullopt) {
  o.validate();
  const std::size_t windows = freesh_windows(in, o);
  if (window >= windows)
    detail::fail("freesh_window_milp", "window", window,
                 "must be < " + std::to_string(windows) + " (the series' windows)");
  const freesh_sites& s = in.sites;
  const freesh_profiles& p = in.profiles;
  const std::size_t sites = s.names.size(), classes = p.classes.size(), modes = p.modes.size();
  const std::size_t first = window * o.window_steps;
  const std::size_t last = std::min(first + o.window_steps, in.demand_qps.steps);
  if (only_class && *only_class >= classes)
    detail::fail("freesh_window_milp", "only_class", *only_class, "must be < " + std::to_string(classes));

  milp m;
  for (std::size_t n = 0; n < sites; ++n)
    for (std::size_t r = 0; r < classes; ++r)
      for (std::size_t k = 0; k < modes; ++k) {
        const freesh_profile& f = p.at(r, k);
        double e = 0.0;
        for (std::size_t t = first; t < last; ++t)
          e += o.objective == freesh_objective::carbon ? in.emission.at(t, n) : 1.0;
        const double upper =
            freesh_allowed(p, r, k, o) ? std::floor(static_cast<double>(s.at(n, f.gpu_type)) / f.gpus) : 0.0;
        m.add_variable(0.0, upper, e * f.power_w * freesh_step_s, s.names[n] + '/' + p.classes[r] + '/' + p.modes[k]);
      }
  const auto var = [&](std::size_t n, std::size_t r, std::size_t k) { return (n * classes + r) * modes + k; };
  for (std::size_t r = 0; r < classes; ++r)
    for (std::size_t t = first; t < last && (!only_class || *only_class == r); ++t) {
      std::vector<milp_term> terms;
      for (std::size_t n = 0; n < sites; ++n)
        for (std::size_t k = 0; k < modes; ++k)
          if (p.at(r, k).max_qps > 0.0) terms.push_back(milp_term{var(n, r, k), p.at(r, k).max_qps});
      m.add_row(std::move(terms), row_sense::greater_equal, o.headroom * in.demand_qps.at(t, r) / o.beta,
                "demand " + p.classes[r] + " step " + std::to_string(t));
    }
  for (std::size_t n = 0; n < sites; ++n)
    for (std::size_t c = 0; c < s.gpu_types.size(); ++c) {
      std::vector<milp_term> terms;
      for (std::size_t r = 0; r < classes; ++r)
        for (std::size_t k = 0; k < modes; ++k)
          if (p.at(r, k).gpu_type == c) terms.push_back(milp_term{var(n, r, k), static_cast<double>(p.at(r, k).gpus)});
      m.add_row(std::move(terms), row_sense::less_equal, s.at(n, c), "GPUs " + s.names[n] + ' ' + s.gpu_types[c]);
    }
  return m;
}

/// @brief The plan of one window: the solver's status and, when optimal, the instances and what they cost.
struct freesh_window_plan {
  std::size_t window = 0;                   ///< window index
  std::size_t first_step = 0;               ///< its first step
  std::size_t steps = 0;                    ///< its steps (window_steps, fewer at the end of the series)
  milp_status status = milp_status::error;  ///< optimal, infeasible (no plan meets the rows) or error
  double objective = std::numeric_limits<double>::quiet_NaN();  ///< the minimum, coefficient unit x J (carbon) or J
  double energy_j = std::numeric_limits<double>::quiet_NaN();   ///< energy of the plan over the window, J
  std::vector<std::uint32_t> instances;  ///< when optimal: [(site x classes + class) x modes + mode]
  std::string message;                   ///< why, when not optimal
};

/// @brief Why window `window` has no plan, in words: the first class that the sites cannot serve even alone
/// (with its required capacity), or that every class fits alone and only together they need more GPUs than the
/// sites have. Solves one program per class with `solver`. Complexity: classes solves.
template <milp_solver Solver>
[[nodiscard]] std::string freesh_explain_infeasible(const freesh_inputs& in, std::size_t window, Solver& solver,
                                                    const freesh_options& o) {
  const freesh_profiles& p = in.profiles;
  const std::size_t first = window * o.window_steps;
  const std::size_t last = std::min(first + o.window_steps, in.demand_qps.steps);
  for (std::size_t r = 0; r < p.classes.size(); ++r) {
    if (solver.solve(freesh_window_milp(in, window, o, r)).status != milp_status::infeasible) continue;
    double peak = 0.0;
    for (std::size_t t = first; t < last; ++t) peak = std::max(peak, in.demand_qps.at(t, r));
    std::size_t allowed = 0;
    for (std::size_t k = 0; k < p.modes.size(); ++k) allowed += freesh_allowed(p, r, k, o) ? 1U : 0U;
    return "class " + p.classes[r] + " alone cannot be served: it needs " +
           detail::shortest(o.headroom * peak / o.beta) + " req/s (headroom x peak demand / beta) from the " +
           std::to_string(allowed) + " modes that pass the SLO filter, more than the sites' GPUs give";
  }
  return "every class can be served alone; together they need more GPUs than the sites have";
}

/// @brief Plans every window of `in` with `solver` (see the file note). An optimal answer whose values break
/// the program (milp::violation) is kept as an error naming the broken row, never as a plan. An infeasible
/// window's message says why (freesh_explain_infeasible).
/// @throws config_error for invalid options; what the solver throws passes through.
template <milp_solver Solver>
[[nodiscard]] std::vector<freesh_window_plan> plan_freesh(const freesh_inputs& in, Solver& solver,
                                                          const freesh_options& o = {}) {
  o.validate();
  std::vector<freesh_window_plan> plans;
  const std::size_t classes = in.profiles.classes.size(), modes = in.profiles.modes.size();
  for (std::size_t w = 0; w < freesh_windows(in, o); ++w) {
    const milp m = freesh_window_milp(in, w, o);
    freesh_window_plan plan;
    plan.window = w;
    plan.first_step = w * o.window_steps;
    plan.steps = std::min(o.window_steps, in.demand_qps.steps - plan.first_step);
    const milp_result r = solver.solve(m);
    plan.status = r.status;
    plan.message = r.message;
    if (r.status == milp_status::infeasible) plan.message = freesh_explain_infeasible(in, w, solver, o);
    if (r.status == milp_status::optimal) {
      if (const auto broken = m.violation(r.values)) {
        plan.status = milp_status::error;
        plan.message = "the solver's optimum breaks the program: " + *broken;
      } else {
        plan.objective = m.objective(r.values);
        plan.energy_j = 0.0;
        plan.instances.reserve(r.values.size());
        for (std::size_t j = 0; j < r.values.size(); ++j) {
          plan.instances.push_back(static_cast<std::uint32_t>(std::lround(r.values[j])));
          const freesh_profile& f = in.profiles.at(j / modes % classes, j % modes);
          plan.energy_j += plan.instances.back() * f.power_w * freesh_step_s * static_cast<double>(plan.steps);
        }
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace joulesched::plan
