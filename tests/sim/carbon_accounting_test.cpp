// Operational carbon in the simulator: each device's carbon against the integral of its recorded power trace
// times PUE times its zone's hourly intensity, and the input the accounting refuses.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/sim/carbon_accounting.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/workload.hpp"
#include "support/errors.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::constant_mix;
using joulesched::test::devices_of;
using joulesched::test::error_of;
using joulesched::test::params_of;
using joulesched::test::recorder;
using joulesched::test::simple_model;

namespace {

constexpr std::int64_t jan1_2021 = 1'609'459'200;  // 2021-01-01 00:00:00 UTC

intensity_series three_hours() {
  std::istringstream in(
      "datetime_utc,north,south\n"
      "2021-01-01 00:00:00,120,610\n"
      "2021-01-01 01:00:00,80,540\n"
      "2021-01-01 02:00:00,95,700\n");
  return read_intensity_series(in, "grid.csv");
}

}  // namespace

TEST_CASE("sim_carbon.each_device_equals_power_x_pue_x_intensity_across_hour_boundaries") {
  const intensity_series grid = three_hours();
  const device_model a = simple_model(16, 100'000);
  std::vector<const device_model*> ms{&a, &a, &a, &a};
  sim_devices devs = devices_of(ms);
  devs.site = {0, 0, 1, 1};
  fleet f(params_of(ms));
  least_loaded_router router(f);
  oracle_estimator est;
  no_control ctl;
  engine_options o;
  o.window_s = 3600.0;
  carbon_accounting c;
  c.series = &grid;
  c.offset_s = grid.offset_of(jan1_2021 + 1800, "--start");  // the run starts at 00:30: it crosses two hours
  c.zone_of_site = {1, 0};                                   // site 0 in "south", site 1 in "north"
  c.pue_of_site = {1.1, 1.4};
  o.carbon = c;
  mix_source_options mo;
  mo.rate_rps = 2.0;
  mo.duration_s = 3600.0;
  mo.seed = 5;
  mix_source src(constant_mix(200, 80), mo);
  simulator<least_loaded_router, oracle_estimator, no_control, recorder> sim(devs, f, router, est, ctl, o);
  const sim_result r = sim.run(src);
  REQUIRE(r.read > 5000);
  REQUIRE(r.sim_time_s > 3600.0);  // the drain runs past the window (the run crosses 01:00 either way)

  // Integrate each device's recorded power trace piece by piece, each piece split at the hours it crosses.
  std::vector<double> grams(ms.size(), 0.0);
  sim.observer().for_each_interval(ms.size(), r.sim_time_s, [&](std::size_t d, double t0, double t1, double w) {
    const std::size_t site = devs.site[d];
    grams[d] += c.pue_of_site[site] * grid.carbon_g(c.zone_of_site[site], c.offset_s + t0, c.offset_s + t1, w);
  });
  double total = 0, by_energy = 0;
  for (std::size_t d = 0; d < ms.size(); ++d) {
    total += grams[d];
    by_energy += r.device_energy_j[d];
  }
  CHECK(r.carbon_total_g == doctest::Approx(total).epsilon(1e-12));
  CHECK(r.carbon_g < r.carbon_total_g);
  REQUIRE(r.carbon_g_by_site.size() == 2);
  CHECK(r.carbon_g_by_site[0] + r.carbon_g_by_site[1] == doctest::Approx(r.carbon_g).epsilon(1e-12));
  // The south site's grid is 5-8x dirtier: with the same devices and load, it emits more than the north.
  CHECK(r.carbon_g_by_site[0] > 3.0 * r.carbon_g_by_site[1]);
  // Bounds from the extreme intensities and PUEs: energy x min <= carbon <= energy x max.
  CHECK(total >= by_energy / intensity_series::j_per_kwh * 80.0 * 1.1);
  CHECK(total <= by_energy / intensity_series::j_per_kwh * 700.0 * 1.4);
}

TEST_CASE("sim_carbon.the_shipped_week_covers_the_two_and_three_site_fleets") {
  const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data";
  const intensity_series grid = load_intensity_series(data / "carbon" / "electricitymaps_2022-06-01_7d_direct.csv");
  CHECK(grid.hours() == 168);
  CHECK(grid.zones() == std::vector<std::string>{"DE-LU", "CA-ON", "US-CAL-CISO"});
  CHECK(grid.start_utc_s() == 1'654'041'600);  // 2022-06-01 00:00:00 UTC
  CHECK(grid.value(0, 0) == 557.82);           // the first row of the excerpt (data/carbon/README.md)
  const fleet_spec two = load_fleet(data / "fleets" / "two-sites.csv");
  CHECK(two.device_count() == 320);
  const carbon_accounting c = carbon_accounting::for_fleet(two, grid, grid.start_utc_s());
  CHECK(c.zone_of_site == std::vector<std::size_t>{0, 1});
  const fleet_spec three = load_fleet(data / "fleets" / "three-sites.csv");
  CHECK(three.device_count() == 320);  // the default fleet, split
  CHECK(carbon_accounting::for_fleet(three, grid, grid.start_utc_s()).zone_of_site ==
        std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("sim_carbon.the_freesh_fleets_hold_the_authors_inventory_in_the_shipped_zones") {
  // data/freesh/sites.csv: loc1 4 A100 + 4 H100, loc2 12 A100 + 2 H100, loc3 8 A100; the fleet files put them in
  // the week's zones (loc1 and loc2 swapped in the second).
  const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data";
  const intensity_series grid = load_intensity_series(data / "carbon" / "electricitymaps_2022-06-01_7d_direct.csv");
  for (const char* name : {"freesh-three-sites.csv", "freesh-three-sites-swapped.csv"}) {
    CAPTURE(name);
    const fleet_spec f = load_fleet(data / "fleets" / name);
    CHECK(f.device_count() == 30);
    CHECK(f.sites == std::vector<std::string>{"DE-LU", "CA-ON", "US-CAL-CISO"});
    CHECK(carbon_accounting::for_fleet(f, grid, grid.start_utc_s()).zone_of_site == std::vector<std::size_t>{0, 1, 2});
    std::map<std::pair<std::string, std::string>, double> count;  // (site, gpu) -> GPUs
    for (const auto& r : f.rows) count[{f.sites[r.site], r.model.gpu}] += r.count;
    const bool swapped = std::string(name).find("swapped") != std::string::npos;
    const std::string loc1 = swapped ? "CA-ON" : "DE-LU", loc2 = swapped ? "DE-LU" : "CA-ON";
    CHECK(count[{loc1, "A100-SXM4-40GB"}] == 4);
    CHECK(count[{loc1, "H100-SXM5-80GB"}] == 4);
    CHECK(count[{loc2, "A100-SXM4-40GB"}] == 12);
    CHECK(count[{loc2, "H100-SXM5-80GB"}] == 2);
    CHECK(count[{"US-CAL-CISO", "A100-SXM4-40GB"}] == 8);
  }
}

TEST_CASE("sim_carbon.refuses_unknown_zones_short_series_and_bad_pue") {
  const intensity_series grid = three_hours();
  fleet_spec spec;
  spec.source = "fleet.csv";
  spec.sites = {"north", "east"};
  check_mentions(error_of([&] { (void)carbon_accounting::for_fleet(spec, grid, jan1_2021); }),
                 {"fleet.csv", "site", "'east'", "no zone", "north, south"});
  spec.sites = {"north"};
  check_mentions(error_of([&] { (void)carbon_accounting::for_fleet(spec, grid, jan1_2021 + 3 * 3600); }),
                 {"--start", "within"});
  const carbon_accounting ok = carbon_accounting::for_fleet(spec, grid, jan1_2021 + 3600);
  CHECK(ok.offset_s == 3600.0);
  CHECK(ok.zone_of_site == std::vector<std::size_t>{0});
  CHECK(ok.pue_of_site == std::vector<double>{1.0});
  spec.site_pue = {1.25};  // the fleet file's pue column
  CHECK(carbon_accounting::for_fleet(spec, grid, jan1_2021).pue_of_site == std::vector<double>{1.25});
  spec.site_pue = {1.25, 1.5};
  check_mentions(error_of([&] { (void)carbon_accounting::for_fleet(spec, grid, jan1_2021); }),
                 {"fleet.csv", "site_pue", "one PUE per site"});
  spec.site_pue.clear();

  const device_model a = simple_model(4, 10'000);
  std::vector<const device_model*> ms{&a, &a};
  const sim_devices devs = devices_of(ms);
  oracle_estimator est;
  no_control ctl;
  {
    // An idle run of 2 hours from 01:30 outlasts the series (it ends at 03:00): an error, not a silent gap.
    fleet f(params_of(ms));
    round_robin_router router(f);
    engine_options o;
    o.window_s = 7200.0;
    o.carbon = carbon_accounting::for_fleet(spec, grid, jan1_2021 + 5400);
    vector_source empty;
    simulator sim(devs, f, router, est, ctl, o);
    check_mentions(error_of([&] { (void)sim.run(empty); }), {"carbon intensity series", "cover the whole run"});
  }
  {
    fleet f(params_of(ms));
    round_robin_router router(f);
    engine_options o;
    o.carbon = ok;
    o.carbon->pue_of_site = {0.9};
    check_mentions(error_of([&] { simulator sim(devs, f, router, est, ctl, o); }),
                   {"carbon.pue_of_site[0]", "0.9", ">= 1"});
  }
  {
    // Idle for one hour from 01:00, all of it in the hour of 80 g/kWh: 2 x 50 W x 3600 s = 0.1 kWh -> 8 g.
    fleet f(params_of(ms));
    round_robin_router router(f);
    engine_options o;
    o.window_s = 3600.0;
    o.carbon = ok;
    vector_source empty;
    simulator sim(devs, f, router, est, ctl, o);
    const sim_result r = sim.run(empty);
    CHECK(r.carbon_g == doctest::Approx(8.0).epsilon(1e-12));
    CHECK(r.carbon_total_g == r.carbon_g);
  }
}
