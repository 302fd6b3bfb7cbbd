// plan_router: each class on its planned groups in proportion to their capacity, least loaded within, unavailable
// groups passed over, and nothing lost when the plan misses a class; FREESH's request classes.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "joulesched/fleet.hpp"
#include "joulesched/routing/plan_router.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
fleet fleet_of(std::size_t n) {
  device_params p;
  p.rate_tok_s = 1000;
  p.energy_j_per_tok = 0.5;
  return fleet(std::vector<device_params>(n, p));
}

request_view view(std::uint32_t input_tok, std::uint32_t work_tok) {
  request_view v;
  v.input_tok = input_tok;
  v.work_tok = work_tok;
  v.budget_s = 100;
  return v;
}

// Every request to class 0 (SS): prompt and answer short.
const request_view ss = view(100, 100);
}  // namespace

TEST_CASE("plan_router.freesh_classes") {
  const freesh_request_classes k{1024};
  CHECK(k(view(100, 100)) == 0);   // SS
  CHECK(k(view(100, 445)) == 1);   // SL: more than 444 predicted tokens
  CHECK(k(view(100, 444)) == 0);   // 444 is still short
  CHECK(k(view(1025, 10)) == 2);   // LS
  CHECK(k(view(5000, 900)) == 3);  // LL
}

TEST_CASE("plan_router.shares_follow_planned_capacity_least_loaded_within") {
  fleet f = fleet_of(6);
  plan_router<> r(f, freesh_request_classes::count, freesh_request_classes{1024});
  pool_plan plan(4);
  plan[0] = {plan_group{{0, 1}, 30.0}, plan_group{{2}, 10.0}};  // SS: 3 to 1
  plan[3] = {plan_group{{4, 5}, 5.0}};
  r.set_plan(plan);
  std::vector<int> per_device(6, 0);
  for (int i = 0; i < 400; ++i) {
    const std::optional<assignment> a = r.route(ss);
    REQUIRE(a);
    ++per_device[a->device];
  }
  // Smooth weighted round-robin: exactly 3 to 1 over whole cycles; least loaded within the first group.
  CHECK(per_device[0] + per_device[1] == 300);
  CHECK(per_device[2] == 100);
  CHECK(per_device[0] == 150);
  CHECK(per_device[3] + per_device[4] + per_device[5] == 0);  // other classes' devices are not touched
  // Within a cycle of 4 the groups interleave (A A B A), they do not come in runs of 3 then 1.
  plan_router<> fresh(f, 4, freesh_request_classes{1024});
  fresh.set_plan(plan);
  std::vector<bool> in_b;
  for (int i = 0; i < 8; ++i) in_b.push_back(fresh.route(ss)->device == 2);
  CHECK(in_b == std::vector<bool>{false, false, true, false, false, false, true, false});
  CHECK(r.fallbacks() == 0);
}

TEST_CASE("plan_router.unavailable_groups_are_passed_over_and_misses_fall_back") {
  fleet f = fleet_of(4);
  plan_router<> r(f, 4, freesh_request_classes{1024});
  pool_plan plan(4);
  plan[0] = {plan_group{{0}, 30.0}, plan_group{{1}, 10.0}};
  r.set_plan(plan);
  f.set_available(0, false);
  for (int i = 0; i < 8; ++i) CHECK(r.route(ss)->device == 1);  // the big group is down: the small one serves
  CHECK(r.fallbacks() == 0);
  f.set_available(1, false);
  const std::optional<assignment> a = r.route(ss);  // nothing planned is up: least loaded of the fleet (2 or 3)
  REQUIRE(a);
  CHECK((a->device == 2 || a->device == 3));
  CHECK(r.fallbacks() == 1);
  // A class the plan gives nothing: the fallback, counted.
  CHECK(r.route(view(5000, 900)));
  CHECK(r.fallbacks() == 2);
  // Nothing available anywhere: no assignment.
  f.set_available(2, false);
  f.set_available(3, false);
  CHECK_FALSE(r.route(ss));
}

TEST_CASE("plan_router.replanning_keeps_old_assignments_releasable") {
  fleet f = fleet_of(3);
  plan_router<> r(f, 4, freesh_request_classes{1024});
  pool_plan plan(4);
  plan[0] = {plan_group{{0}, 1.0}};
  r.set_plan(plan);
  const assignment a = *r.route(ss);
  CHECK(a.device == 0);
  plan[0] = {plan_group{{2}, 1.0}};
  r.set_plan(plan);
  CHECK(r.route(ss)->device == 2);
  CHECK(r.release(a));
  CHECK(f.load(0).reserved_ns == 0);
}

TEST_CASE("plan_router.bad_plans_name_class_group_and_value") {
  fleet f = fleet_of(3);
  plan_router<> r(f, 4, freesh_request_classes{1024});
  check_mentions(error_of([&] { r.set_plan(pool_plan(3)); }), {"classes = 3", "must be 4"});
  pool_plan p(4);
  p[2] = {plan_group{{0}, 1.0}, plan_group{{7}, 1.0}};
  check_mentions(error_of([&] { r.set_plan(p); }), {"class 2 group 1", "device = 7"});
  p[2] = {plan_group{{}, 1.0}};
  check_mentions(error_of([&] { r.set_plan(p); }), {"class 2 group 0", "devices"});
  p[2] = {plan_group{{1}, -1.0}};
  check_mentions(error_of([&] { r.set_plan(p); }), {"capacity_rps = -1"});
  check_mentions(error_of([&] { plan_router<> z(f, 0, freesh_request_classes{1024}); }), {"classes"});
}
