// Tests of sim/dvfs.hpp: the shipped clock curve (data/dvfs, from the Perseus sweep) reads and behaves as the
// sweep did (slower and less power as the clock falls), a device's points follow the stated rules, and bad curve
// files are refused naming file:line:field.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "joulesched/sim/dvfs.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/fleet_setup.hpp"
#include "joulesched/sim/sim_devices.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
const std::filesystem::path source_dir{JOULESCHED_SOURCE_DIR};

dvfs_curve a100_curve() { return load_dvfs_curve(source_dir / "data" / "dvfs" / "a100_perseus.csv"); }

dvfs_curve curve_of(const std::string& text) {
  std::istringstream in(text);
  return read_dvfs_curve(in, "curve.csv");
}

const dvfs_point& at_mhz(const dvfs_curve& c, double mhz) {
  for (const dvfs_point& p : c.points)
    if (p.clock_mhz == mhz) return p;
  FAIL("no such clock");
  return c.points.front();
}
}  // namespace

TEST_CASE("sim_dvfs.shipped_curve_is_the_perseus_sweep") {
  const dvfs_curve c = a100_curve();
  REQUIRE(c.points.size() == 38);  // 1410 down to 855 MHz in 15 MHz steps
  CHECK(c.points.front().clock_mhz == 1410);
  CHECK(c.points.back().clock_mhz == 855);
  // data/README.md quotes the sweep: A100 stage-0 forward 475 W at 1410 MHz, 276 W at 1050 MHz, time +27%. The
  // curve is the median over every stage and model; it must say the same within a few points.
  const dvfs_point& p1050 = at_mhz(c, 1050);
  CHECK(p1050.time_ratio == doctest::Approx(1.27).epsilon(0.03));
  CHECK(p1050.power_ratio == doctest::Approx(276.0 / 475.0).epsilon(0.03));
  // Below 1300 MHz every step down is slower and draws less; energy per pass (time x power) falls to ~1000 MHz.
  for (std::size_t i = 1; i < c.points.size(); ++i) {
    if (c.points[i].clock_mhz > 1300) continue;
    CHECK(c.points[i].time_ratio > c.points[i - 1].time_ratio);
    CHECK(c.points[i].power_ratio < c.points[i - 1].power_ratio + 1e-3);
  }
  CHECK(p1050.time_ratio * p1050.power_ratio < 0.8);
}

TEST_CASE("sim_dvfs.points_follow_the_stated_rules") {
  const device_model top = load_device_model(source_dir / "data" / "devices" / "A100-SXM4-40GB.csv");
  const dvfs_curve c = a100_curve();
  dvfs_config cfg;
  cfg.decode_time_sensitivity = 0.5;
  const std::vector<device_model> t = dvfs_table(top, c, cfg);
  REQUIRE(t.size() == c.points.size());  // every measured clock is >= half the top
  CHECK(t[0].prefill_per_tok_s == top.prefill_per_tok_s);
  CHECK(t[0].busy_power_base_w == top.busy_power_base_w);
  const std::size_t k = static_cast<std::size_t>(&at_mhz(c, 1050) - c.points.data());
  const dvfs_point& p = c.points[k];
  const device_model& m = t[k];
  // Prefill: as slow as the sweep's forward passes. Decode: half of that slow-down.
  CHECK(m.prefill_per_tok_s == doctest::Approx(top.prefill_per_tok_s * p.time_ratio));
  CHECK(m.prefill_base_s == doctest::Approx(top.prefill_base_s * p.time_ratio));
  CHECK(m.decode_step_base_s == doctest::Approx(top.decode_step_base_s * (1 + 0.5 * (p.time_ratio - 1))));
  CHECK(m.decode_step_per_ctx_tok_s == doctest::Approx(top.decode_step_per_ctx_tok_s * (1 + 0.5 * (p.time_ratio - 1))));
  // Power: the part above idle scaled; idle, tdp and memory unchanged.
  CHECK(m.idle_power_w == top.idle_power_w);
  CHECK(m.tdp_w == top.tdp_w);
  CHECK(m.max_batch == top.max_batch);
  CHECK(m.kv_capacity_tok == top.kv_capacity_tok);
  CHECK(m.prefill_power_w - m.idle_power_w ==
        doctest::Approx((top.prefill_power_w - top.idle_power_w) * p.power_ratio));
  for (const std::uint32_t b : {1u, 16u, top.max_batch}) {
    if (top.busy_power_w(b) >= top.tdp_w) continue;  // the linear fit is capped at tdp: the cap holds at any clock
    CHECK(m.busy_power_w(b) - m.idle_power_w ==
          doctest::Approx((top.busy_power_w(b) - top.idle_power_w) * p.power_ratio));
  }
  // A prefill pass costs fewer joules at 1050 MHz than at the top clock (what the governor trades for time).
  CHECK(m.prefill_power_w * m.prefill_per_tok_s < top.prefill_power_w * top.prefill_per_tok_s);
  // A purely memory-bound decode (sensitivity 0) keeps its step time.
  cfg.decode_time_sensitivity = 0.0;
  CHECK(dvfs_table(top, c, cfg)[k].decode_step_base_s == top.decode_step_base_s);
  // The floor cuts the table: 0.75 of 1410 MHz keeps 1410 .. 1065 MHz.
  cfg.min_clock_fraction = 0.75;
  const std::vector<device_model> cut = dvfs_table(top, c, cfg);
  CHECK(cut.size() == k);
  CHECK(cut.back().prefill_per_tok_s == doctest::Approx(top.prefill_per_tok_s * c.points[k - 1].time_ratio));
}

TEST_CASE("sim_dvfs.clocked_fleet_gives_each_row_its_table") {
  const fleet_spec spec = load_fleet(source_dir / "data" / "fleets" / "three-sites.csv");
  sim_devices devices = sim_devices::from(spec);
  const dvfs_curve c = a100_curve();
  const operating_point op{0.5, 1000, 2000};
  const fleet_setup setup = clocked_fleet(spec, devices, c, dvfs_config{}, op);
  REQUIRE(setup.tables.size() == spec.rows.size());
  REQUIRE(devices.point_tables.size() == spec.rows.size());
  REQUIRE(devices.point_clock_fractions.size() == spec.rows.size());
  REQUIRE(setup.points.size() == devices.size());
  const std::vector<device_params> nominal = routing_params(spec, op);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const device_point at = setup.points[i];
    CHECK(at.point == 0);
    CHECK(devices.model[i] == &devices.point_tables[at.table][0]);
    CHECK(setup.params[i] == nominal[i]);  // at the top clock the routers see what they saw without clocks
    CHECK(setup.tables[at.table].back().site == nominal[i].site);
    CHECK(setup.tables[at.table].back().rate_tok_s < nominal[i].rate_tok_s);  // the slowest clock is slower
  }
  fleet f = setup.make();
  CHECK(f.tables().size() == spec.rows.size());
}

TEST_CASE("sim_dvfs.bad_curves_name_file_line_and_field") {
  const std::string header = "clock_mhz,clock_fraction,time_ratio,power_ratio\n";
  check_mentions(error_of([&] { (void)curve_of(header + "1400,0.99,1,1\n"); }),
                 {"curve.csv:2", "clock_fraction", "0.99", "top clock"});
  check_mentions(error_of([&] { (void)curve_of(header + "1410,1,1.1,1\n"); }), {"curve.csv:2", "time_ratio"});
  check_mentions(error_of([&] { (void)curve_of(header + "1410,1,1,1\n1420,1.007,1,1\n"); }),
                 {"curve.csv:3", "clock_fraction", "<= 1"});
  check_mentions(error_of([&] { (void)curve_of(header + "1410,1,1,1\n1000,0.7,1.3,0.6\n1100,0.78,1.2,0.7\n"); }),
                 {"curve.csv:4", "clock_fraction", "below the row before"});
  check_mentions(error_of([&] { (void)curve_of(header + "1410,1,1,1\n1000,0.7,nan,0.6\n"); }),
                 {"curve.csv:3", "time_ratio", "nan"});
  check_mentions(error_of([&] { (void)curve_of(header + "1410,1,1,1\n1000,0.7,1.3,-0.6\n"); }),
                 {"curve.csv:3", "power_ratio", "-0.6"});
  check_mentions(error_of([&] { (void)curve_of("clock_mhz,time_ratio,power_ratio\n1410,1,1\n"); }),
                 {"curve.csv", "clock_fraction"});
  check_mentions(error_of([&] { (void)curve_of(header); }), {"curve.csv", "no data row"});
  check_mentions(error_of([] { (void)load_dvfs_curve("/nonexistent/curve.csv"); }), {"/nonexistent/curve.csv"});
  // A power ratio that pushes a point past the board's limit is refused, naming the clock.
  const device_model top = load_device_model(source_dir / "data" / "devices" / "A100-SXM4-40GB.csv");
  const dvfs_curve hot = curve_of(header + "1410,1,1,1\n1000,0.7,1.3,50\n");
  check_mentions(error_of([&] { (void)dvfs_table(top, hot); }), {"curve.csv", "1000 MHz"});
  dvfs_config bad;
  bad.decode_time_sensitivity = 2;
  check_mentions(error_of([&] { (void)dvfs_table(top, a100_curve(), bad); }), {"decode_time_sensitivity"});
}
