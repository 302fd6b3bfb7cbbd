// FREESH's program for a simulated fleet (sim/freesh_program.hpp) solved with GLPK: the authors' inventory in the
// shipped zones, the default mix at half of saturation, a day of 30-minute windows. Every window has a plan, each
// device serves at most one class, and every class's planned capacity covers FREESH's 1.1 x its demand.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <vector>

#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/plan/glpk_solver.hpp"
#include "joulesched/sim/default_mix.hpp"
#include "joulesched/sim/freesh_program.hpp"
#include "joulesched/sim/scenario.hpp"

using namespace joulesched;
using namespace joulesched::sim;

TEST_CASE("freesh_fleet_glpk.a_day_of_plans_for_the_authors_inventory") {
  const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data";
  const fleet_spec fleet = load_fleet(data / "fleets" / "freesh-three-sites.csv");
  const scenario s(fleet, default_mix(data / "traces" / "azure_conv_2023_excerpt.csv"), std::nullopt);
  const intensity_series grid = load_intensity_series(data / "carbon" / "electricitymaps_2022-06-01_7d_direct.csv");
  const carbon_accounting c = carbon_accounting::for_fleet(fleet, grid, grid.start_utc_s());
  const freesh_request_classes classes{1300};
  const auto traffic = freesh_traffic(drawn_lengths(s.mix, 20'000, 1), classes);
  const double rate = 0.5 * s.saturation_rps;
  const plan::freesh_inputs in = freesh_program(
      fleet, traffic, 288, [&](double) { return rate; }, &c);
  plan::glpk_solver solver;
  plan::freesh_options o;
  o.beta = 1.0;
  const std::vector<plan::freesh_window_plan> plans = plan::plan_freesh(in, solver, o);
  REQUIRE(plans.size() == 48);
  for (const plan::freesh_window_plan& w : plans) {
    CAPTURE(w.window);
    REQUIRE(w.status == plan::milp_status::optimal);
    const pool_plan p = freesh_pool_plan(in, w, s.devices);
    std::set<device_id> seen;
    for (std::size_t r = 0; r < p.size(); ++r) {
      double capacity = 0.0;
      for (const plan_group& g : p[r]) {
        capacity += g.capacity_rps;
        for (const device_id d : g.devices) CHECK(seen.insert(d).second);  // one class per device
      }
      CHECK(capacity >= o.headroom * rate * traffic[r].share - 1e-9);
    }
  }
  // The carbon objective puts no instance where the grid is dirtiest while the cleaner sites have GPUs to spare:
  // in window 0 DE-LU (557 g/kWh) runs fewer instances than CA-ON (58 g/kWh).
  const pool_plan p0 = freesh_pool_plan(in, plans[0], s.devices);
  std::size_t de = 0, ca = 0;
  for (const auto& groups : p0)
    for (const plan_group& g : groups)
      for (const device_id d : g.devices) {
        if (s.devices.site[d] == 0) ++de;
        if (s.devices.site[d] == 1) ++ca;
      }
  CHECK(de < ca);
}
