// FREESH's planner solved with GLPK on the authors' data (data/freesh/): every window is solved or proven
// infeasible, every plan meets the program (checked here from the tables, not from the milp), each objective
// is optimal against the other's plan, and on a one-site cut of the real data GLPK finds the exact optimum.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "joulesched/plan/exhaustive_solver.hpp"
#include "joulesched/plan/freesh_planner.hpp"
#include "joulesched/plan/glpk_solver.hpp"

namespace jp = joulesched::plan;

namespace {
const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "freesh";

// Checks a plan against the tables directly: demand covered at every step, GPUs within every site's, no
// instance of a mode the SLO filter cuts.
void check_plan(const jp::freesh_inputs& in, const jp::freesh_window_plan& p, const jp::freesh_options& o) {
  const std::size_t sites = in.sites.names.size(), classes = in.profiles.classes.size(),
                    modes = in.profiles.modes.size();
  REQUIRE(p.instances.size() == sites * classes * modes);
  const auto x = [&](std::size_t n, std::size_t r, std::size_t m) {
    return p.instances[(n * classes + r) * modes + m];
  };
  for (std::size_t r = 0; r < classes; ++r) {
    double capacity = 0.0;
    for (std::size_t n = 0; n < sites; ++n)
      for (std::size_t m = 0; m < modes; ++m) {
        capacity += x(n, r, m) * in.profiles.at(r, m).max_qps;
        if (!jp::freesh_allowed(in.profiles, r, m, o)) CHECK(x(n, r, m) == 0);
      }
    for (std::size_t t = p.first_step; t < p.first_step + p.steps; ++t)
      CHECK(capacity >= o.headroom * in.demand_qps.at(t, r) / o.beta - 1e-9);
  }
  for (std::size_t n = 0; n < sites; ++n)
    for (std::size_t c = 0; c < in.sites.gpu_types.size(); ++c) {
      std::uint64_t used = 0;
      for (std::size_t r = 0; r < classes; ++r)
        for (std::size_t m = 0; m < modes; ++m)
          if (in.profiles.at(r, m).gpu_type == c) used += std::uint64_t{x(n, r, m)} * in.profiles.at(r, m).gpus;
      CHECK(used <= in.sites.at(n, c));
    }
}

std::vector<double> as_values(const jp::freesh_window_plan& p) { return {p.instances.begin(), p.instances.end()}; }
}  // namespace

TEST_CASE("freesh on GLPK: every window of the authors' data is planned or proven infeasible, and optimal") {
  for (const char* partition : {"a", "b"}) {
    const jp::freesh_inputs in = jp::load_freesh_inputs(data, partition);
    jp::glpk_solver glpk;
    jp::freesh_options carbon, energy;
    energy.objective = jp::freesh_objective::energy;
    const auto by_carbon = jp::plan_freesh(in, glpk, carbon), by_energy = jp::plan_freesh(in, glpk, energy);
    REQUIRE(by_carbon.size() == 48);
    REQUIRE(by_energy.size() == 48);
    std::size_t planned = 0;
    for (std::size_t w = 0; w < 48; ++w) {
      INFO("partition ", partition, " window ", w);
      CHECK(by_carbon[w].status != jp::milp_status::error);
      CHECK(by_carbon[w].status == by_energy[w].status);  // feasibility does not depend on the objective
      if (by_carbon[w].status != jp::milp_status::optimal) {
        CHECK_FALSE(by_carbon[w].message.empty());
        continue;
      }
      ++planned;
      check_plan(in, by_carbon[w], carbon);
      check_plan(in, by_energy[w], energy);
      // Each is optimal for its own objective: no better than the other's plan scored the same way.
      const jp::milp carbon_program = jp::freesh_window_milp(in, w, carbon),
                     energy_program = jp::freesh_window_milp(in, w, energy);
      CHECK(by_carbon[w].objective <= carbon_program.objective(as_values(by_energy[w])) + 1e-6);
      CHECK(by_energy[w].objective <= energy_program.objective(as_values(by_carbon[w])) + 1e-6);
      CHECK(by_energy[w].energy_j == doctest::Approx(by_energy[w].objective));
    }
    CHECK(planned > 40);  // most windows have a plan with the published settings
  }
}

TEST_CASE("freesh on GLPK: the exact optimum on a one-site cut of the real data") {
  // One site of 12 A100 and 4 H100 (the least that serves every class at once) with the authors' profiles, partition a,
  // and a fifth of the real demand: few enough integer points for exhaustive_solver to enumerate, coefficients of loc1.
  const jp::freesh_inputs full = jp::load_freesh_inputs(data, "a");
  std::ostringstream demand, emission;
  demand << "step,start_s,SS,SL,LS,LL\n";
  emission << "step,start_s,loc1\n";
  for (std::size_t t = 0; t < 48; ++t) {
    demand << t << ',' << t * 300;
    for (std::size_t r = 0; r < 4; ++r) demand << ',' << full.demand_qps.at(t, r) / 5.0;
    demand << '\n';
    emission << t << ',' << t * 300 << ',' << full.emission.at(t, 0) << '\n';
  }
  std::istringstream s("site,A100,H100\nloc1,12,4\n"), d(demand.str()), e(emission.str());
  std::ifstream p(data / "profiles_partition_a.csv");
  const jp::freesh_inputs cut =
      jp::read_freesh_inputs(s, "sites.csv", p, "profiles_partition_a.csv", d, "demand.csv", e, "emission.csv");
  jp::glpk_solver glpk;
  jp::exhaustive_solver exact;
  const auto got = jp::plan_freesh(cut, glpk), want = jp::plan_freesh(cut, exact);
  REQUIRE(got.size() == 8);
  std::size_t planned = 0;
  for (std::size_t w = 0; w < got.size(); ++w) {
    INFO("window ", w);
    REQUIRE(got[w].status == want[w].status);
    if (want[w].status != jp::milp_status::optimal) continue;
    ++planned;
    CHECK(got[w].objective == doctest::Approx(want[w].objective).epsilon(1e-9));
  }
  CHECK(planned > 0);
}
