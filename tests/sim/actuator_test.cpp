// A controller that acts during a run: it changes operating points, powers devices off and on, and moves queued
// work. The engine must keep its energy the exact integral of the power it reported, account for every request,
// and apply each action as actuator.hpp promises.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/sim/engine.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::recorder;
using joulesched::test::simple_model;

namespace {

// The power a device reported at time t (the last change at or before t).
double power_at(const std::vector<recorder::power_change>& trace, device_id d, double t) {
  double w = 0;
  for (const auto& c : trace)
    if (c.d == d && c.t_s <= t) w = c.w;
  return w;
}

// Two points of one GPU: full clock, and a lower clock that steps half as fast at lower power.
std::vector<std::vector<device_model>> two_points() {
  device_model fast = simple_model(8, 100'000);
  device_model slow = fast;
  slow.decode_step_base_s = 0.02;
  slow.prefill_base_s = 0.02;
  slow.idle_power_w = 40;
  slow.busy_power_base_w = 110;
  slow.busy_power_per_seq_w = 1.0;
  slow.prefill_power_w = 120;
  validate(slow, "slow");
  return {{fast, slow}};
}

// n requests of 50 prompt and 30 output tokens every `gap_s`, with loose deadlines.
vector_source steady(std::size_t n, double gap_s) {
  vector_source src;
  for (std::size_t i = 0; i < n; ++i) {
    request r;
    r.id = i;
    r.arrival_s = gap_s * static_cast<double>(i);
    r.input_tok = 50;
    r.output_tok = 30;
    r.deadline_s = r.arrival_s + 1e4;
    r.ttft_deadline_s = r.arrival_s + 1e4;
    src.requests.push_back(r);
  }
  return src;
}

// Acts at fixed times; records what the routing fleet showed it.
struct scripted_control {
  fleet* routing = nullptr;
  std::vector<std::pair<double, device_power>> seen_2;  // device 2's state at each tick
  std::size_t moved = 0;
  device_power after_off_2 = device_power::on;  // device 2's state just after power_off at t = 5
  bool available_2_while_off = false;
  [[nodiscard]] double period_s() const noexcept { return 0.5; }
  void on_outcome(double, tier, const slo_outcome&) noexcept {}
  void tick(double now, actuator& act) {
    seen_2.emplace_back(now, act.power(2));
    if (act.power(2) == device_power::off && routing->available(2)) available_2_while_off = true;
    if (now == 3.0) act.set_point(0, 1);
    if (now == 5.0) {
      act.power_off(2);
      after_off_2 = act.power(2);
      moved += act.move_waiting(2);
    }
    if (now == 9.0) act.power_on(2);
    if (now == 12.0) act.set_point(0, 0);
    if (now == 14.0) {  // off and on again at once: it only stops draining
      act.power_off(1);
      act.power_on(1);
    }
  }
};
static_assert(SimControl<scripted_control>);

}  // namespace

TEST_CASE("sim_actuator.points_and_power_states_keep_energy_and_requests") {
  const auto tables = two_points();
  sim_devices devs;
  devs.point_tables = tables;
  for (int i = 0; i < 3; ++i) {
    devs.model.push_back(&devs.point_tables[0][0]);
    devs.type.push_back(0);
    devs.site.push_back(0);
  }
  devs.type_names = {"test-gpu"};
  fleet f(routing_tables(devs.point_tables, operating_point{0.5, 50, 30}), {{0, 0}, {0, 0}, {0, 0}});
  least_loaded_router router(f);
  oracle_estimator est;
  scripted_control ctl;
  ctl.routing = &f;
  engine_options opts;
  opts.power.wake_s = 2.0;
  opts.power.wake_w = 75.0;
  opts.power.off_w = 3.0;
  vector_source src = steady(4000, 0.005);  // 200 requests/s for 20 s: every device busy
  simulator sim(devs, f, router, est, ctl, opts, recorder{});
  const sim_result r = sim.run(src);
  const recorder& rec = sim.observer();

  // Every request is accounted for, and none was lost by the actions.
  CHECK(r.read == 4000);
  CHECK(r.completed == 4000);
  CHECK(r.rejected == 0);
  CHECK(rec.completions.size() == 4000);

  // Energy is the integral of the reported power, device by device, across every change.
  const std::vector<double> integral = rec.energy_j(3, r.sim_time_s);
  for (device_id d = 0; d < 3; ++d) {
    CAPTURE(d);
    CHECK(r.device_energy_j[d] == doctest::Approx(integral[d]).epsilon(1e-12));
  }

  // Device 0 ran at the slow point from its first step boundary after t = 3 until its first after t = 12.
  const device_model& slow = tables[0][1];
  for (const auto& c : rec.power) {
    if (c.d != 0 || c.t_s <= 3.0 + 0.02 || c.t_s >= 12.0) continue;
    CAPTURE(c.t_s);
    CAPTURE(c.w);
    const bool slow_power = c.w == slow.idle_power_w || c.w == slow.prefill_power_w ||
                            (c.w >= slow.busy_power_base_w && c.w <= slow.busy_power_w(slow.max_batch));
    CHECK(slow_power);
  }
  CHECK(power_at(rec.power, 0, 11.9) != power_at(rec.power, 0, 12.1));

  // Device 2: drains after t = 5 (what it held completes there), is off until 9, wakes for 2 s at 75 W, and
  // takes work again from 11.
  double last_before_wake = 0, first_after_wake = 1e9;
  for (const auto& [id, c] : rec.completions) {
    if (c.d != 2) continue;
    if (c.done_s < 9.0) last_before_wake = std::max(last_before_wake, c.done_s);
    if (c.done_s >= 9.0) first_after_wake = std::min(first_after_wake, c.done_s);
  }
  CHECK(last_before_wake > 5.0);  // the requests running at t = 5 finished there
  CHECK(last_before_wake < 6.0);
  CHECK(power_at(rec.power, 2, 8.9) == 3.0);
  CHECK(power_at(rec.power, 2, 10.0) == 75.0);
  CHECK(first_after_wake > 11.0);
  CHECK_FALSE(ctl.available_2_while_off);
  const auto state_at = [&](double t) {
    for (const auto& [now, p] : ctl.seen_2)
      if (now == t) return p;
    return device_power::on;
  };
  CHECK(ctl.after_off_2 == device_power::draining);  // it was serving at t = 5
  CHECK(ctl.moved > 0);                              // and had requests waiting, which went elsewhere
  CHECK(state_at(8.5) == device_power::off);
  CHECK(state_at(10.0) == device_power::waking);
  CHECK(state_at(11.5) == device_power::on);
  // Device 1 never stopped serving.
  bool served_1_late = false;
  for (const auto& [id, c] : rec.completions) served_1_late = served_1_late || (c.d == 1 && c.done_s > 15.0);
  CHECK(served_1_late);
}

TEST_CASE("sim_actuator.a_controller_that_does_nothing_changes_nothing") {
  const device_model m = simple_model(8, 100'000);
  const sim_devices devs = joulesched::test::devices_of({&m, &m});
  struct idle_actor {
    [[nodiscard]] double period_s() const noexcept { return 0.25; }
    void on_outcome(double, tier, const slo_outcome&) noexcept {}
    void tick(double, actuator& act) { CHECK(act.size() == 2); }
  };
  const auto run = [&](auto& ctl) {
    fleet f(joulesched::test::params_of({&m, &m}));
    least_loaded_router router(f);
    oracle_estimator est;
    vector_source src = steady(2000, 0.01);
    simulator sim(devs, f, router, est, ctl);
    return sim.run(src);
  };
  idle_actor actor;
  no_control none;
  const sim_result a = run(actor);
  const sim_result b = run(none);
  CHECK(a.completed == b.completed);
  CHECK(a.energy_total_j == b.energy_total_j);
  CHECK(a.device_energy_j == b.device_energy_j);
  CHECK(a.sim_time_s == b.sim_time_s);
}

TEST_CASE("sim_actuator.misuse_names_the_call_and_value") {
  const device_model m = simple_model(8, 100'000);
  const sim_devices devs = joulesched::test::devices_of({&m});
  struct bad_actor {
    int which = 0;
    [[nodiscard]] double period_s() const noexcept { return 1.0; }
    void on_outcome(double, tier, const slo_outcome&) noexcept {}
    void tick(double, actuator& act) {
      if (which == 0) act.set_point(0, 1);  // no operating points
      if (which == 1) act.power_off(7);     // no such device
    }
  };
  for (int which : {0, 1}) {
    CAPTURE(which);
    fleet f(joulesched::test::params_of({&m}));
    least_loaded_router router(f);
    oracle_estimator est;
    bad_actor ctl{which};
    vector_source src = steady(500, 0.01);
    simulator sim(devs, f, router, est, ctl);
    try {
      (void)sim.run(src);
      FAIL("no error");
    } catch (const config_error& e) {
      const std::string what = e.what();
      CHECK(what.find(which == 0 ? "actuator::set_point" : "actuator::power_off") != std::string::npos);
      CHECK(what.find(which == 0 ? "point_tables" : "7") != std::string::npos);
    }
  }
}

TEST_CASE("sim_actuator.power_states_are_checked") {
  const device_model m = simple_model(8, 100'000);
  const sim_devices devs = joulesched::test::devices_of({&m});
  fleet f(joulesched::test::params_of({&m}));
  least_loaded_router router(f);
  oracle_estimator est;
  no_control ctl;
  engine_options opts;
  opts.power.wake_s = -1;
  CHECK_THROWS_WITH_AS(simulator(devs, f, router, est, ctl, opts), doctest::Contains("wake_s"), config_error);
}
