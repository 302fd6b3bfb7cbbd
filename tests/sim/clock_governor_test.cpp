// FREESH's clock governor in the simulator (sim/clock_governor.hpp): per device, on that device's own TTFT/TBT,
// through the actuator; and what it does to a run: at light load it lowers clocks and energy, every request still
// accounted for; clock points alone, without a governor, change nothing.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "joulesched/control/miad_governor.hpp"
#include "joulesched/sim/clock_governor.hpp"
#include "joulesched/sim/dvfs.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/scenario.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
const std::filesystem::path source_dir{JOULESCHED_SOURCE_DIR};

dvfs_curve a100_curve() { return load_dvfs_curve(source_dir / "data" / "dvfs" / "a100_perseus.csv"); }

// An actuator over a few devices that records what the governor asks.
struct fake_actuator final : actuator {
  std::vector<std::uint32_t> points;
  std::vector<device_power> powers;
  std::uint32_t table_size = 0;
  [[nodiscard]] std::size_t size() const noexcept override { return points.size(); }
  [[nodiscard]] device_power power(device_id d) const override { return powers[d]; }
  [[nodiscard]] std::uint32_t point(device_id d) const override { return points[d]; }
  [[nodiscard]] std::uint32_t point_count(device_id) const override { return table_size; }
  [[nodiscard]] std::size_t waiting(device_id) const override { return 0; }
  [[nodiscard]] std::size_t running(device_id) const override { return 0; }
  void set_point(device_id d, std::uint32_t p) override { points[d] = p; }
  void power_off(device_id) override {}
  void power_on(device_id) override {}
  std::size_t move_waiting(device_id) override { return 0; }
};

struct counting_control {
  int ticks = 0, outcomes = 0;
  [[nodiscard]] double period_s() const noexcept { return 1.0; }
  void on_outcome(double, tier, const slo_outcome&) noexcept { ++outcomes; }
  void tick(double) noexcept { ++ticks; }
};
}  // namespace

TEST_CASE("sim_clock_governor.each_device_by_its_own_latencies") {
  scenario s = scenario::bundled(source_dir / "data");
  s.use_clocks(a100_curve());
  fleet f = s.setup.make();
  counting_control inner;
  clock_governor_control<counting_control> g(inner, s.devices, f, miad_config{});
  CHECK(g.period_s() == 1.0);
  fake_actuator act;
  act.points.assign(s.devices.size(), 0);
  act.powers.assign(s.devices.size(), device_power::on);
  act.table_size = static_cast<std::uint32_t>(s.devices.point_tables[0].size());
  act.points[1] = 5;
  act.powers[2] = device_power::off;
  // Device 0 is pressed on TTFT (at its budget), device 1 on TBT; the others see slack or nothing.
  g.on_first_token(0.5, 0, 1.0, 1.0);
  g.on_served(0.6, 1, served_times{0.1, 1.0, 0.1, 0.1});
  g.on_served(0.7, 3, served_times{0.1, 1.0, 0.01, 0.1});
  g.on_outcome(0.7, tier::interactive, slo_outcome{});
  g.tick(1.0, act);
  CHECK(inner.ticks == 1);
  CHECK(inner.outcomes == 1);
  CHECK(act.points[0] == 0);                   // pressed at the top clock: stays there
  CHECK(act.points[1] == 0);                   // pressed 5 points down (1335 MHz): x 1.25 is above the top
  CHECK(act.points[2] == 0);                   // off: left alone
  CHECK(act.points[3] == 2);                   // slack: 30 MHz down
  CHECK(act.points[4] == 2);                   // nothing observed: down too
  CHECK(g.changes() == s.devices.size() - 2);  // all but devices 0 and 2 moved (1 up, the rest down)
}

TEST_CASE("sim_clock_governor.clock_points_alone_change_nothing") {
  scenario plain = scenario::bundled(source_dir / "data");
  scenario clocked = scenario::bundled(source_dir / "data");
  clocked.use_clocks(a100_curve());
  for (const policy_kind k : {policy_kind::least_loaded, policy_kind::energy_pi, policy_kind::energy_profile}) {
    CAPTURE(to_string(k));
    mix_source a(plain.mix, plain.load(0.4, 20, 3));
    mix_source b(clocked.mix, clocked.load(0.4, 20, 3));
    engine_options eo;
    eo.window_s = 20;
    const sim_result ra = run_policy(k, plain.devices, plain.params, a, policy_settings{}, eo);
    const sim_result rb = run_policy(k, clocked.devices, clocked.setup, b, policy_settings{}, eo);
    CHECK(ra.read == rb.read);
    CHECK(ra.energy_j == rb.energy_j);  // bit for bit: every device stays at its top clock
    CHECK(ra.tiers[0].violations == rb.tiers[0].violations);
    CHECK(rb.clock_changes == 0);
  }
}

TEST_CASE("sim_clock_governor.light_load_runs_slower_clocks_for_less_energy") {
  scenario s = scenario::bundled(source_dir / "data");
  s.use_clocks(a100_curve());
  engine_options eo;
  eo.window_s = 60;
  policy_settings governed;
  governed.governor = miad_config{};
  mix_source a(s.mix, s.load(0.2, 60, 5));
  mix_source b(s.mix, s.load(0.2, 60, 5));
  const sim_result off = run_policy(policy_kind::least_loaded, s.devices, s.setup, a, policy_settings{}, eo);
  const sim_result on = run_policy(policy_kind::least_loaded, s.devices, s.setup, b, governed, eo);
  CHECK(on.read == off.read);
  CHECK(on.completed + on.rejected == on.read);
  CHECK(on.rejected == off.rejected);
  CHECK(on.clock_changes > 0);
  // At a fifth of saturation every device has slack: clocks fall and the fleet draws less.
  CHECK(on.energy_j < 0.9 * off.energy_j);
  // The governor raises a device's clock as its p90 nears the SLO: the fleet's miss rate stays within 1 point.
  CHECK(on.all.violation_rate <= off.all.violation_rate + 0.01);
}

TEST_CASE("sim_clock_governor.needs_clock_points") {
  const scenario s = scenario::bundled(source_dir / "data");
  mix_source src(s.mix, s.load(0.2, 5, 1));
  policy_settings ps;
  ps.governor = miad_config{};
  check_mentions(error_of([&] { (void)run_policy(policy_kind::least_loaded, s.devices, s.params, src, ps, {}); }),
                 {"clock governor", "--dvfs"});
  ps.governor->increase = 0.5;
  scenario c = scenario::bundled(source_dir / "data");
  c.use_clocks(a100_curve());
  check_mentions(error_of([&] { (void)run_policy(policy_kind::least_loaded, c.devices, c.setup, src, ps, {}); }),
                 {"miad_config", "increase"});
}
