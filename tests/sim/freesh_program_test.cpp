// FREESH's program for a simulated fleet (sim/freesh_program.hpp) by hand: the classes' traffic, a class's profile
// on a device model, the sites' inventory, demand and emission; a window's solution as a pool plan over the
// devices; and the policy freesh_plan serving within per-window plans, switched at each window's start.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <sstream>
#include <vector>

#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/freesh_program.hpp"
#include "joulesched/sim/policies.hpp"
#include "support/errors.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
// Two sites: "north" with 2 test-gpu and 1 big-gpu, "south" with 1 test-gpu.
struct two_sites {
  device_model small = joulesched::test::simple_model(8, 100'000);
  device_model big = [] {
    device_model m = joulesched::test::simple_model(16, 200'000);
    m.gpu = "big-gpu";
    m.decode_step_base_s = 0.005;
    return m;
  }();
  fleet_spec spec = [this] {
    fleet_spec f;
    f.source = "two.csv";
    f.sites = {"north", "south"};
    f.rows.push_back(fleet_row{"two.csv:2", {}, small, 2, 0});
    f.rows.push_back(fleet_row{"two.csv:3", {}, big, 1, 0});
    f.rows.push_back(fleet_row{"two.csv:4", {}, small, 1, 1});
    return f;
  }();
};

intensity_series grid() {
  std::istringstream in(
      "datetime_utc,north,south\n"
      "2021-01-01 00:00:00,120,610\n"
      "2021-01-01 01:00:00,80,540\n");
  return read_intensity_series(in, "grid.csv");
}
}  // namespace

TEST_CASE("sim_freesh_program.traffic_of_a_mix") {
  // One class of constant lengths, 300 in and 600 out: with a prompt cut of 500 every request is SL.
  const std::vector<token_pair> drawn = drawn_lengths(joulesched::test::constant_mix(300, 600), 1000, 3);
  REQUIRE(drawn.size() == 1000);
  const std::array<class_traffic, 4> t = freesh_traffic(drawn, freesh_request_classes{500});
  CHECK(t[1].share == 1.0);
  CHECK(t[1].input_tok == 300.0);
  CHECK(t[1].output_tok == 600.0);
  CHECK(t[0].share == 0.0);
  CHECK(t[2].share == 0.0);
  CHECK(t[3].share == 0.0);
  const std::array<class_traffic, 4> u = freesh_traffic(drawn, freesh_request_classes{200});
  CHECK(u[3].share == 1.0);  // long prompt, long answer
  CHECK_THROWS_AS((void)drawn_lengths(joulesched::test::constant_mix(300, 600), 0, 3), config_error);
  CHECK_THROWS_AS((void)freesh_traffic({}, freesh_request_classes{500}), config_error);
}

TEST_CASE("sim_freesh_program.profile_inventory_demand_and_emission_by_hand") {
  const two_sites f;
  const class_traffic sl{1.0, 300, 600};
  // The model at saturation by the class's mean request (see the file note).
  const plan::freesh_profile p = freesh_profile_of(f.small, 0, sl);
  const operating_point full{1.0, 300 + 300, 900};
  const std::uint32_t b = nominal_batch(f.small, full);
  CHECK(p.max_qps == saturation_rps(f.small, 300, 600));
  CHECK(p.power_w == f.small.busy_power_w(b));
  CHECK(p.ttft_ms == doctest::Approx(10.0));  // simple_model: every prefill 0.01 s
  CHECK(p.tbt_ms == doctest::Approx(10.0));   // and every decode step
  CHECK(p.e2e_latency_s == doctest::Approx(0.01 + 599 * 0.01));
  CHECK(freesh_profile_of(f.small, 0, class_traffic{}).max_qps == 0.0);  // no traffic: the mode cannot serve it

  const intensity_series g = grid();
  const carbon_accounting c = carbon_accounting::for_fleet(f.spec, g, g.start_utc_s());
  const std::array<class_traffic, 4> traffic{class_traffic{0.25, 100, 100}, class_traffic{0.75, 300, 600}, {}, {}};
  // 24 steps of 5 minutes: two hours; the rate doubles after the first.
  const plan::freesh_inputs in = freesh_program(
      f.spec, traffic, 24, [](double t) { return t < 3600 ? 10.0 : 20.0; }, &c);
  CHECK(in.sites.names == std::vector<std::string>{"north", "south"});
  CHECK(in.sites.gpu_types == std::vector<std::string>{"test-gpu", "big-gpu"});
  CHECK(in.sites.installed == std::vector<std::uint32_t>{2, 1, 1, 0});
  CHECK(in.profiles.classes == std::vector<std::string>{"SS", "SL", "LS", "LL"});
  CHECK(in.profiles.modes == std::vector<std::string>{"test-gpu x1", "big-gpu x1"});
  CHECK(in.profiles.at(1, 1).max_qps == saturation_rps(f.big, 300, 600));
  CHECK(in.profiles.at(2, 0).max_qps == 0.0);
  CHECK(in.demand_qps.at(0, 0) == 2.5);
  CHECK(in.demand_qps.at(11, 1) == 7.5);
  CHECK(in.demand_qps.at(12, 1) == 15.0);
  CHECK(in.emission.at(11, 0) == 120.0);  // hour 0
  CHECK(in.emission.at(12, 1) == 540.0);  // hour 1
  const plan::freesh_inputs energy = freesh_program(
      f.spec, traffic, 2, [](double) { return 1.0; }, nullptr);
  CHECK(energy.emission.at(1, 1) == 1.0);
  check_mentions(error_of([&] {
                   (void)freesh_program(
                       f.spec, traffic, 25, [](double) { return 1.0; }, &c);
                 }),
                 {"step 24", "carbon series end", "7200"});
  check_mentions(error_of([&] {
                   (void)freesh_program(
                       f.spec, traffic, 1, [](double) { return -1.0; }, &c);
                 }),
                 {"step 0", "rate_rps", "-1"});
}

TEST_CASE("sim_freesh_program.a_window_as_a_pool_plan_over_the_devices") {
  const two_sites f;
  const sim_devices devs = sim_devices::from(f.spec);  // ids: north 0, 1 test-gpu; 2 big-gpu; south 3 test-gpu
  const std::array<class_traffic, 4> traffic{class_traffic{0.5, 100, 100}, class_traffic{0.5, 300, 600}, {}, {}};
  const plan::freesh_inputs in = freesh_program(
      f.spec, traffic, 6, [](double) { return 10.0; }, nullptr);
  plan::freesh_window_plan w;
  w.status = plan::milp_status::optimal;
  w.instances.assign(2 * 4 * 2, 0);      // [(site x classes + class) x modes + mode]
  w.instances[(0 * 4 + 0) * 2 + 0] = 1;  // north, SS, test-gpu: 1
  w.instances[(0 * 4 + 1) * 2 + 0] = 1;  // north, SL, test-gpu: 1
  w.instances[(0 * 4 + 1) * 2 + 1] = 1;  // north, SL, big-gpu: 1
  w.instances[(1 * 4 + 0) * 2 + 0] = 1;  // south, SS, test-gpu: 1
  const pool_plan plan = freesh_pool_plan(in, w, devs);
  REQUIRE(plan.size() == 4);
  REQUIRE(plan[0].size() == 2);
  CHECK(plan[0][0].devices == std::vector<device_id>{0});
  CHECK(plan[0][0].capacity_rps == in.profiles.at(0, 0).max_qps);
  CHECK(plan[0][1].devices == std::vector<device_id>{3});
  REQUIRE(plan[1].size() == 2);
  CHECK(plan[1][0].devices == std::vector<device_id>{1});  // the next test-gpu at north: each device in one class
  CHECK(plan[1][1].devices == std::vector<device_id>{2});
  CHECK(plan[1][1].capacity_rps == in.profiles.at(1, 1).max_qps);
  CHECK(plan[2].empty());
  w.instances[(0 * 4 + 3) * 2 + 0] = 1;  // a third test-gpu at north: there are two
  check_mentions(error_of([&] { (void)freesh_pool_plan(in, w, devs); }), {"instances", "test-gpu x1", "north"});
  w.instances[(0 * 4 + 3) * 2 + 0] = 0;
  const sim_devices other = joulesched::test::devices_of({&f.big, &f.small});  // types in the other order
  check_mentions(error_of([&] { (void)freesh_pool_plan(in, w, other); }), {"freesh_pool_plan", "GPU types"});
  w.status = plan::milp_status::infeasible;
  const pool_plan none = freesh_pool_plan(in, w, devs);
  CHECK(none.size() == 4);
  for (const auto& groups : none) CHECK(groups.empty());
}

TEST_CASE("sim_freesh_plan.serves_each_window_within_its_plan") {
  // Two devices; window 0 (100 s here) plans every class on device 0, window 1 on device 1. Each request is
  // served where its window's plan put it, and none falls back.
  const device_model m = joulesched::test::simple_model(8, 1'000'000);
  const sim_devices devs = joulesched::test::devices_of({&m, &m});
  fleet f(joulesched::test::params_of({&m, &m}));
  policy_settings s;
  s.plan_window_s = 100.0;
  s.plan_classes = freesh_request_classes{1000};
  for (const device_id d : {device_id{0}, device_id{1}})
    s.plans.push_back(pool_plan(4, std::vector<plan_group>{plan_group{{d}, 1.0}}));
  plan_router<freesh_request_classes> router(f, 4, s.plan_classes);
  plan_window_control<plan_router<freesh_request_classes>> control(router, s);
  oracle_estimator est;
  vector_source src;
  for (std::uint64_t i = 0; i < 40; ++i) {
    request r;
    r.id = i;
    r.arrival_s = 5.0 * static_cast<double>(i);  // 0 .. 195 s
    r.input_tok = 10;
    r.output_tok = 5;
    r.deadline_s = r.ttft_deadline_s = r.arrival_s + 100.0;
    src.requests.push_back(r);
  }
  simulator<plan_router<freesh_request_classes>, oracle_estimator,
            plan_window_control<plan_router<freesh_request_classes>>, joulesched::test::recorder>
      sim(devs, f, router, est, control);
  const sim_result r = sim.run(src);
  REQUIRE(r.completed == 40);
  for (const auto& [id, c] : sim.observer().completions) {
    CAPTURE(id);
    CHECK(c.d == (id < 20 ? 0 : 1));
  }
  CHECK(router.fallbacks() == 0);

  policy_settings none;
  check_mentions(error_of([&] { plan_window_control<plan_router<freesh_request_classes>> c(router, none); }),
                 {"freesh_plan", "no pool plans"});
}
