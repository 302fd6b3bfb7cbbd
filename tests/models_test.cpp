// Requests name a model and devices the models they serve: every router considers only devices that serve the
// request's model, the exact ones still pick what the brute force picks among them, and ids are checked where
// they enter.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/partitioned_router.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/random_router.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "support/exactness_steps.hpp"
#include "support/random_fleet.hpp"

using namespace joulesched;

namespace {

// A priced fleet whose devices serve random subsets of models 0..3 (a quarter every model).
std::vector<device_params> mixed_model_fleet(std::mt19937_64& rng) {
  std::vector<device_params> ps = test::random_priced_fleet(rng);
  for (device_params& p : ps)
    if (rng() % 4 != 0) p.models = 1 + rng() % 15;  // a non-empty subset of models 0..3
  return ps;
}

request_view for_model(std::mt19937_64& rng) {
  request_view v = test::random_priced_request(rng);
  v.model = static_cast<model_id>(rng() % 5);  // model 4: served only by devices that serve every model
  return v;
}

}  // namespace

TEST_CASE("models.exact_routers_pick_the_brute_force_argmin_among_serving_devices") {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<device_params> ps = mixed_model_fleet(rng);
    fleet f(ps);
    argmin_router<joulesched_cost> floor_ordered(f, joulesched_cost(5.0));
    argmin_router<joulesched_cost, argmin_path::every_class> every_class(f, joulesched_cost(5.0));
    scan_router<joulesched_cost> scan(f, joulesched_cost(5.0));
    std::vector<assignment> out;
    for (int step = 0; step < 60; ++step) {
      const request_view v = for_model(rng);
      switch (step % 3) {
        case 0:
          test::route_as_brute_force(floor_ordered, f, floor_ordered.cost(), v, out);
          break;
        case 1:
          test::route_as_brute_force(every_class, f, every_class.cost(), v, out);
          break;
        default:
          test::route_as_brute_force(scan, f, scan.cost(), v, out);
          break;
      }
      if (!out.empty() && rng() % 3 == 0)
        test::release_one_at_random(rng, out, [&](const assignment& a) { f.release(a); });
    }
  }
}

TEST_CASE("models.every_router_sends_a_request_only_where_its_model_is_served") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const std::vector<device_params> ps = mixed_model_fleet(rng);
    fleet f(ps);
    concurrent_fleet cf(ps);
    const partition_plan plan(ps, 2);
    round_robin_router rr(f);
    random_router<> rnd(f, 3);
    power_of_d_router<joulesched_cost> pod(f, 2, joulesched_cost(5.0), 3);
    concurrent_argmin_router<joulesched_cost> cexact(cf, joulesched_cost(5.0));
    concurrent_power_of_d_router<joulesched_cost> cpod(cf, 2, joulesched_cost(5.0), 3);
    partitioned_router<joulesched_cost> part0(plan, 0, joulesched_cost(5.0));
    for (int step = 0; step < 40; ++step) {
      const request_view v = for_model(rng);
      bool any_serves = false;
      for (const device_params& p : ps) any_serves = any_serves || serves(p, v);
      bool part0_serves = false;
      for (const device_id id : plan.members(0)) part0_serves = part0_serves || serves(ps[id], v);
      const auto check = [&](const std::optional<assignment>& a, bool expected, const char* who) {
        CAPTURE(who);
        CAPTURE(static_cast<int>(v.model));
        REQUIRE(a.has_value() == expected);  // the samplers fall back to a scan when no draw serves
        if (a) CHECK(serves(ps[a->device], v));
      };
      const auto a1 = rr.route(v);
      check(a1, any_serves, "round_robin");
      const auto a2 = rnd.route(v);
      check(a2, any_serves, "random");
      const auto a3 = pod.route(v);
      check(a3, any_serves, "power_of_d");
      const auto a4 = cexact.route(v);
      check(a4, any_serves, "concurrent_argmin");
      const auto a5 = cpod.route(v);
      check(a5, any_serves, "concurrent_power_of_d");
      const auto a6 = part0.route(v);
      check(a6, part0_serves, "partitioned");
      for (const auto& a : {a1, a2, a3})
        if (a) f.release(*a);
      for (const auto& a : {a4, a5})
        if (a) cf.release(*a);
      if (a6) part0.release(*a6);
    }
  }
}

TEST_CASE("models.ids_are_checked_where_they_enter") {
  device_params none{1000.0, 0.1};
  none.models = 0;
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{none}), doctest::Contains("models"), config_error);

  struct engine_request {
    double input_tok = 10;
    double deadline_s = 5;
    int model = 3;
  };
  engine_request r;
  CHECK(make_request_view(r, 0.0, 20.0).model == 3);
  r.model = 64;
  CHECK_THROWS_WITH_AS((void)checked_request_view(r, 0.0, 20.0, "gateway"), doctest::Contains("model"), config_error);

  struct engine_device {
    double rate_tok_s = 1000;
    double energy_j_per_tok = 0.1;
    model_set models = only_model(2) | only_model(5);
  };
  const device_params p = params_of(engine_device{});
  CHECK(p.models == (only_model(2) | only_model(5)));
  CHECK(params_of(device_params{1000.0, 0.1}).models == all_models);
  request_view v;
  v.model = 5;
  CHECK(serves(p, v));
  v.model = 3;
  CHECK_FALSE(serves(p, v));
}
