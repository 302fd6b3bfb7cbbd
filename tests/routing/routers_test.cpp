// Routers: every exact router against the brute-force argmin, the class-indexed path against the scan,
// and the baselines' contracts.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/random_router.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/tiers/classifiers.hpp"
#include "support/brute_force.hpp"
#include "support/errors.hpp"
#include "support/exactness_steps.hpp"
#include "support/random_fleet.hpp"

using namespace joulesched;
using joulesched::test::brute_force_argmin;
using joulesched::test::random_fleet;
using joulesched::test::random_priced_fleet;
using joulesched::test::random_priced_request;
using joulesched::test::random_request;
using joulesched::test::release_one_at_random;
using joulesched::test::route_as_brute_force;

namespace {

// Corrects one of `outstanding` (not empty), drawn at random, as an engine that learned more would: shrinks it
// (the prompt is done: its prefill is no longer ahead), grows it (the output runs longer), or re-estimates it
// from another view; the fleet must take it, and the assignment then holds the new work.
inline void correct_one_at_random(std::mt19937_64& rng, fleet& f, std::vector<assignment>& outstanding) {
  assignment& a = outstanding[rng() % outstanding.size()];
  const auto how = rng() % 3;
  const std::uint64_t work = how == 0   ? rng() % (a.work_ns + 1)
                             : how == 1 ? a.work_ns + rng() % 3'000'000'000u
                                        : reserved_work_ns(f.params(a.device), random_priced_request(rng));
  const std::uint64_t others = f.load(a.device).reserved_ns - a.work_ns;  // the device's other assignments
  const std::uint32_t requests = f.load(a.device).requests;
  REQUIRE(f.correct(a, work));
  REQUIRE(a.work_ns == work);
  REQUIRE(f.load(a.device).reserved_ns == others + work);
  REQUIRE(f.load(a.device).requests == requests);
}

// Moves one device, drawn at random, to a random point of its table (a fleet built with operating points): it
// takes the point's parameters and keeps its reserved work.
inline void move_one_at_random(std::mt19937_64& rng, fleet& f) {
  const auto id = static_cast<device_id>(rng() % f.size());
  const operating_points& table = f.tables()[f.point_of(id).table];
  const auto point = static_cast<std::uint32_t>(rng() % table.size());
  const device_load before = f.load(id);
  REQUIRE(f.set_point(id, point));
  REQUIRE(f.point_of(id).point == point);
  REQUIRE(f.params(id) == table[point]);
  REQUIRE(f.load(id).reserved_ns == before.reserved_ns);
}

// Drives a router through random routes, releases, corrections, drains and restores (and, on a fleet with
// operating points, moves between points); before every decision, checks that the router picks what the
// brute-force argmin picks, and that it never picks a drained device. `make_fleet` returns the device
// parameters or the fleet itself.
template <class MakeRouter, class MakeFleet, class MakeRequest = request_view (*)(std::mt19937_64&)>
void check_exact_against_brute_force(MakeRouter make, unsigned fleets, unsigned ops, MakeFleet make_fleet,
                                     MakeRequest make_request = random_request) {
  std::mt19937_64 rng(42);
  for (unsigned trial = 0; trial < fleets; ++trial) {
    fleet f(make_fleet(rng));
    auto router = make(f, rng);
    std::vector<assignment> outstanding;
    for (unsigned op = 0; op < ops; ++op) {
      const auto dice = rng() % 12;
      if (dice < 7) {
        route_as_brute_force(router, f, router.cost(), make_request(rng), outstanding);
      } else if (dice < 9 && !outstanding.empty()) {
        release_one_at_random(rng, outstanding, [&](const assignment& a) { router.release(a); });
      } else if (dice < 10 && !outstanding.empty()) {
        correct_one_at_random(rng, f, outstanding);
      } else if (dice == 11 && !f.tables().empty()) {
        move_one_at_random(rng, f);
      } else {
        f.set_available(static_cast<device_id>(rng() % f.size()), rng() % 3 != 0);
      }
    }
    // The loads are exactly the sums of the outstanding (corrected) work, and releasing it all drains them.
    std::vector<std::uint64_t> sum(f.size(), 0);
    for (const auto& a : outstanding) sum[a.device] += a.work_ns;
    for (device_id id = 0; id < f.size(); ++id) REQUIRE(f.load(id).reserved_ns == sum[id]);
    for (const auto& a : outstanding) REQUIRE(router.release(a));
    for (device_id id = 0; id < f.size(); ++id) REQUIRE(f.load(id).reserved_ns == 0);
  }
}

// Fleets of up to 48 devices of the palette's few types.
template <class MakeRouter>
void check_exact_against_brute_force(MakeRouter make, unsigned fleets, unsigned ops) {
  check_exact_against_brute_force(make, fleets, ops,
                                  [](std::mt19937_64& rng) { return random_fleet(rng, 1 + rng() % 48); });
}

// Fleets of 1 to 40 classes, enough for the floor-ordered visit by blocks (8 classes and more): energies and
// rates from small sets, so that floors and costs tie across classes.
std::vector<device_params> many_class_fleet(std::mt19937_64& rng) {
  const std::size_t classes = 1 + rng() % 40;
  std::vector<device_params> kinds;
  while (kinds.size() < classes) {
    const device_params p{200.0 * static_cast<double>(1 + rng() % 12), 0.05 * static_cast<double>(1 + rng() % 6)};
    if (std::find(kinds.begin(), kinds.end(), p) == kinds.end()) kinds.push_back(p);
  }
  std::vector<device_params> ps(kinds);  // every class at least once, then up to 39 more devices
  for (std::size_t extra = rng() % 40; extra > 0; --extra) ps.push_back(kinds[rng() % classes]);
  std::shuffle(ps.begin(), ps.end(), rng);
  return ps;
}

}  // namespace

TEST_CASE("argmin_router.class_indexed.many_classes_match_brute_force") {
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) {
        return argmin_router<joulesched_cost>(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0));
      },
      600, 80, many_class_fleet);
}

// The priced model: classes with random prefill, request and context coefficients and batches; requests with
// prompts up to 128k tokens, long outputs, TTFT budgets (some already missed) and pacing targets; routes,
// releases and corrections interleaved. Both class-indexed paths give exactly the brute-force argmin.
TEST_CASE("argmin_router.class_indexed.priced_fleets_match_brute_force") {
  static_assert(argmin_router<joulesched_cost>::floor_ordered);
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) {
        return argmin_router<joulesched_cost>(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0));
      },
      600, 80, random_priced_fleet, random_priced_request);
}

// Operating points: devices of 1-4 types, each type a table of 1-6 random priced points (clocks), some
// shared across tables.
fleet random_table_fleet(std::mt19937_64& rng) {
  std::vector<operating_points> tables(1 + rng() % 4);
  for (auto& t : tables) {
    for (std::size_t k = 1 + rng() % 6; k > 0; --k) t.push_back(joulesched::test::random_priced_params(rng));
    if (rng() % 3 == 0) t.push_back(tables[0].front());  // a point two types share
  }
  std::vector<device_point> at(1 + rng() % 40);
  for (auto& d : at) {
    d.table = static_cast<std::uint32_t>(rng() % tables.size());
    d.point = static_cast<std::uint32_t>(rng() % tables[d.table].size());
  }
  return fleet(std::move(tables), at);
}

// The JouleSched router on `Path` at a random fixed lambda.
template <argmin_path Path>
argmin_router<joulesched_cost, Path> energy_router_on(fleet& f, std::mt19937_64& rng) {
  return argmin_router<joulesched_cost, Path>(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0));
}

// Routes, releases, corrections, drains and moves between points interleaved: both class-indexed paths and the
// scan give exactly the brute-force argmin after every move.
TEST_CASE("argmin_router.operating_points.moves_keep_every_path_exact") {
  check_exact_against_brute_force(energy_router_on<argmin_path::automatic>, 300, 120, random_table_fleet,
                                  random_priced_request);
  check_exact_against_brute_force(energy_router_on<argmin_path::every_class>, 150, 120, random_table_fleet,
                                  random_priced_request);
  check_exact_against_brute_force(energy_router_on<argmin_path::scan>, 150, 120, random_table_fleet,
                                  random_priced_request);
}

TEST_CASE("argmin_router.every_class.priced_fleets_match_brute_force") {
  using router = argmin_router<joulesched_cost, argmin_path::every_class>;
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) { return router(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0)); },
      400, 80, random_priced_fleet, random_priced_request);
}

TEST_CASE("argmin_router.class_indexed.priced_fleets_match_scan_decision_by_decision") {
  // The same decisions and the same reservations as the scan, route after route, with corrections between.
  std::mt19937_64 rng(17);
  for (unsigned trial = 0; trial < 200; ++trial) {
    const auto ps = random_priced_fleet(rng);
    fleet fa(ps), fb(ps);
    const joulesched_cost cost(static_cast<double>(rng() % 40) / 4.0);
    argmin_router<joulesched_cost> indexed(fa, cost);
    scan_router<joulesched_cost> scan(fb, cost);
    std::vector<assignment> out;
    for (unsigned op = 0; op < 120; ++op) {
      const auto dice = rng() % 6;
      if (dice < 3 || out.empty()) {
        const auto v = random_priced_request(rng);
        const auto a = indexed.route(v);
        const auto b = scan.route(v);
        REQUIRE(a == b);
        if (!a) continue;
        REQUIRE(a->work_ns == reserved_work_ns(ps[a->device], v));
        out.push_back(*a);
      } else if (dice < 5) {
        const auto i = rng() % out.size();
        REQUIRE(indexed.release(out[i]));
        REQUIRE(scan.release(out[i]));
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        assignment& a = out[rng() % out.size()];
        assignment b = a;
        const std::uint64_t work = rng() % (2 * a.work_ns + 2);
        REQUIRE(indexed.correct(a, work));
        REQUIRE(fb.correct(b, work));
        REQUIRE(a == b);
      }
    }
  }
}

TEST_CASE("argmin_router.infinite_costs_are_ordered_by_load_and_id") {
  // A request with a budget of -1e308 s costs +inf on every device for any lambda > 0 (late + |late| overflows).
  // The router must still choose, by load and then id, as the brute-force argmin does, in blocks of 8 classes too.
  std::mt19937_64 rng(5);
  unsigned infinite = 0;
  for (unsigned trial = 0; trial < 300; ++trial) {
    fleet f(many_class_fleet(rng));
    argmin_router<joulesched_cost> r(f, joulesched_cost(static_cast<double>(1 + rng() % 5)));
    for (unsigned op = 0; op < 40; ++op) {
      request_view v = random_request(rng);
      if (rng() % 2 == 0) v.budget_s = -1e308;
      if (rng() % 5 == 0) f.set_available(static_cast<device_id>(rng() % f.size()), rng() % 2 == 0);
      const auto want = brute_force_argmin(f, r.cost(), v);
      const auto got = r.route(v);
      REQUIRE(got.has_value() == want.has_value());
      if (!got) continue;
      REQUIRE(got->device == *want);
      infinite += std::isinf(r.cost()(f.params(got->device), device_load{}, v));
    }
  }
  CHECK(infinite > 1000);
}

TEST_CASE("argmin_router.class_indexed.matches_brute_force") {
  static_assert(argmin_router<joulesched_cost>::class_indexed);
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) {
        return argmin_router<joulesched_cost>(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0));
      },
      1500, 60);
}

TEST_CASE("argmin_router.every_class.matches_brute_force") {
  using router = argmin_router<joulesched_cost, argmin_path::every_class>;
  static_assert(router::class_indexed && !router::floor_ordered);
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) { return router(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0)); },
      800, 60);
}

TEST_CASE("argmin_router.scan.matches_brute_force") {
  static_assert(!scan_router<joulesched_cost>::class_indexed);
  check_exact_against_brute_force(
      [](fleet& f, std::mt19937_64& rng) {
        return scan_router<joulesched_cost>(f, joulesched_cost(static_cast<double>(rng() % 5) * 3.0));
      },
      1500, 60);
}

TEST_CASE("least_loaded.matches_brute_force") {
  check_exact_against_brute_force([](fleet& f, std::mt19937_64&) { return least_loaded_router(f); }, 800, 60);
  check_exact_against_brute_force([](fleet& f, std::mt19937_64&) { return least_eta_router(f); }, 800, 60);
}

TEST_CASE("argmin_router.class_indexed.matches_scan_decision_by_decision") {
  std::mt19937_64 rng(7);
  for (unsigned trial = 0; trial < 300; ++trial) {
    const auto ps = random_fleet(rng, 1 + rng() % 200);
    fleet fa(ps), fb(ps);
    argmin_router<joulesched_cost> indexed(fa, joulesched_cost(2.0));
    scan_router<joulesched_cost> scan(fb, joulesched_cost(2.0));
    std::vector<assignment> out;
    for (unsigned op = 0; op < 200; ++op) {
      if (rng() % 3 != 0 || out.empty()) {
        const auto v = random_request(rng);
        const auto a = indexed.route(v);
        const auto b = scan.route(v);
        REQUIRE(a == b);
        if (a) out.push_back(*a);
      } else {
        const auto i = rng() % out.size();
        indexed.release(out[i]);
        scan.release(out[i]);
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
}

namespace {
// The JouleSched cost as an engine might write its own FlooredCostModel, counting how often it is evaluated.
struct counted_cost {
  static constexpr bool monotone_in_load = true;
  joulesched_cost inner;
  std::size_t* calls;
  double operator()(const device_params& d, const device_load& l, const request_view& v) const noexcept {
    ++*calls;
    return inner(d, l, v);
  }
  double floor(const device_params& d, const request_view& v) const noexcept { return inner.floor(d, v); }
  double floor_key(const device_params& d) const noexcept { return inner.floor_key(d); }
};
}  // namespace

TEST_CASE("argmin_router.floor_order_stops_once_no_class_can_win") {
  // 6 classes (visited class by class) and 16 (visited by blocks of 8), of 4 devices each; energy 0.10 J/tok
  // and up by 0.01, listed most expensive first, the fastest the dearest. Stopping early shows in how many
  // classes' costs a decision evaluates: after the cheapest class when it alone wins, never more than half of
  // 16 classes then.
  for (const int classes : {6, 16}) {
    CAPTURE(classes);
    const std::size_t most_when_cheapest_wins = classes < 8 ? 1 : 8;
    std::vector<device_params> ps;
    for (int c = classes - 1; c >= 0; --c)
      for (int k = 0; k < 4; ++k) ps.push_back({400.0 + 100.0 * c, 0.10 + 0.01 * c});
    fleet f(ps);
    const auto cheapest = static_cast<device_id>(4 * (classes - 1));
    std::size_t calls = 0;
    argmin_router<counted_cost> r(f, counted_cost{joulesched_cost(20.0), &calls});
    static_assert(decltype(r)::floor_ordered);

    // Idle fleet, loose budget: the cheapest class costs its energy alone, below every other class's floor.
    const request_view loose{100, 0, 60.0};
    CHECK(r.route(loose)->device == cheapest);
    CHECK(calls == most_when_cheapest_wins);

    // Tight budgets make the cheap classes late; the router must walk further, and still agree with the
    // brute-force argmin at every step, until each class has been tried.
    std::set<std::uint32_t> classes_used;
    std::size_t most_calls = 0;
    for (int i = 0; i < 400; ++i) {
      const request_view tight{200, 0, 0.3};
      const auto want = brute_force_argmin(f, r.cost(), tight);
      calls = 0;
      const auto got = r.route(tight);
      REQUIRE(got);
      REQUIRE(got->device == *want);
      REQUIRE(calls <= static_cast<std::size_t>(classes));
      most_calls = std::max(most_calls, calls);
      classes_used.insert(f.class_of(got->device));
    }
    CHECK(classes_used.size() == static_cast<std::size_t>(classes));
    CHECK(most_calls > most_when_cheapest_wins);
    // A loose request is on time everywhere (at most 8 s of work per device, against 60 s): it stops early again.
    calls = 0;
    CHECK(f.class_of(r.route(loose)->device) == f.class_of(cheapest));
    CHECK(calls == most_when_cheapest_wins);
  }
}

TEST_CASE("argmin_router.ties.lowest_id_among_equal_cost_and_load") {
  fleet f(std::vector<device_params>(5, device_params{1000.0, 0.1}));
  argmin_router<joulesched_cost> r(f, joulesched_cost(1.0));
  const request_view v{100, 10, 60.0};
  // All equal: device 0, then 1, 2, ... as each takes load.
  for (device_id expect = 0; expect < 5; ++expect) CHECK(r.route(v)->device == expect);
  // Devices 3 and 4 drained; all loads equal again after releasing nothing: 0 has lowest id.
  f.set_available(0, false);
  CHECK(r.route(v)->device == 1);
}

TEST_CASE("argmin_router.energy_first_until_deadline_at_risk") {
  // The request below: 100 output tokens, the first from the (free) prefill, so 99 decode tokens. Device 0:
  // efficient but slow (0.1 x 99 = 9.9 J, 99 / 100 = 0.99 s); device 1: fast (0.099 s) but 0.3 x 99 = 29.7 J.
  fleet f(std::vector<device_params>{{100.0, 0.1}, {1000.0, 0.3}});
  argmin_router<joulesched_cost> r(f, joulesched_cost(30.0));
  const request_view v{100, 0, 5.0};                               // 100 tokens, 5 s budget
  for (int i = 0; i < 5; ++i) CHECK(r.route(v)->device == 0);      // ETA 0.99..4.95 s on device 0: never late
  CHECK(f.load(0).reserved_ns == 5 * std::uint64_t{990'000'000});  // 5 x 0.99 s
  // On device 0 the next one would end at 4.95 + 0.99 = 5.94 s, 0.94 s late: 9.9 J + 30 J/s x 0.94 s = 38.1 J >
  // 29.7 J on device 1.
  CHECK(r.route(v)->device == 1);
  // With a cheaper price of lateness the efficient device stays the better deal: 9.9 + 15 x 0.94 = 24 J < 29.7 J.
  r.cost().set_lambda(15.0);
  CHECK(r.route(v)->device == 0);
}

TEST_CASE("routers.empty_and_fully_drained_fleets_give_no_device") {
  fleet empty(std::vector<device_params>{});
  const request_view v{10, 10, 1.0};
  CHECK_FALSE(argmin_router<joulesched_cost>(empty).route(v));
  CHECK_FALSE(scan_router<joulesched_cost>(empty).route(v));
  CHECK_FALSE(round_robin_router(empty).route(v));
  CHECK_FALSE(random_router<>(empty, 1).route(v));
  CHECK_FALSE(power_of_d_router<joulesched_cost>(empty, 2, joulesched_cost(1.0), 1).route(v));

  fleet f(std::vector<device_params>(3, device_params{100.0, 0.1}));
  for (device_id id = 0; id < 3; ++id) f.set_available(id, false);
  CHECK_FALSE(argmin_router<joulesched_cost>(f).route(v));
  CHECK_FALSE(scan_router<joulesched_cost>(f).route(v));
  CHECK_FALSE(round_robin_router(f).route(v));
  CHECK_FALSE(random_router<>(f, 1).route(v));
  CHECK_FALSE(power_of_d_router<joulesched_cost>(f, 2, joulesched_cost(1.0), 1).route(v));
  f.set_available(2, true);
  CHECK(argmin_router<joulesched_cost>(f).route(v)->device == 2);
}

TEST_CASE("round_robin.cycles_in_id_order_skipping_drained") {
  fleet f(std::vector<device_params>(4, device_params{100.0, 0.1}));
  round_robin_router r(f);
  const request_view v{1, 1, 1.0};
  std::vector<device_id> got;
  for (int i = 0; i < 5; ++i) got.push_back(r.route(v)->device);
  CHECK(got == std::vector<device_id>{0, 1, 2, 3, 0});
  f.set_available(2, false);
  got.clear();
  for (int i = 0; i < 4; ++i) got.push_back(r.route(v)->device);
  CHECK(got == std::vector<device_id>{1, 3, 0, 1});
}

TEST_CASE("random_router.uniform_over_available_and_deterministic") {
  fleet f(std::vector<device_params>(8, device_params{100.0, 0.1}));
  f.set_available(5, false);
  random_router<> a(f, 99), b(f, 99);
  std::vector<int> hits(8, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto x = a.route({1, 1, 1.0});
    const auto y = b.route({1, 1, 1.0});
    REQUIRE(x == y);
    ++hits[x->device];
  }
  CHECK(hits[5] == 0);
  for (int id : {0, 1, 2, 3, 4, 6, 7}) CHECK(hits[static_cast<std::size_t>(id)] == doctest::Approx(1000).epsilon(0.15));
}

TEST_CASE("power_of_d.picks_best_of_sample_never_drained") {
  std::mt19937_64 rng(3);
  for (unsigned trial = 0; trial < 300; ++trial) {
    fleet f(random_fleet(rng, 1 + rng() % 64));
    for (device_id id = 0; id < f.size(); ++id)
      if (rng() % 4 == 0) f.set_available(id, false);
    const std::uint32_t d = 1 + static_cast<std::uint32_t>(rng() % 4);
    power_of_d_router<joulesched_cost> r(f, d, joulesched_cost(1.0), trial);
    for (unsigned op = 0; op < 50; ++op) {
      const auto v = random_request(rng);
      const auto best = brute_force_argmin(f, r.cost(), v);
      const auto got = r.route(v);
      REQUIRE(got.has_value() == best.has_value());
      if (!got) break;
      REQUIRE(f.available(got->device));
      if (f.available_ids().size() <= d) REQUIRE(got->device == *best);  // sees everything: exact
    }
  }
}

TEST_CASE("power_of_d.more_choices_give_lower_mean_cost") {
  // Over the same random requests, best-of-4 beats best-of-1 on average: the sample is doing work.
  std::mt19937_64 rng(11);
  fleet f1(random_fleet(rng, 100)), f4(f1);
  power_of_d_router<joulesched_cost> one(f1, 1, joulesched_cost(1.0), 5), four(f4, 4, joulesched_cost(1.0), 5);
  double c1 = 0, c4 = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto v = random_request(rng);
    const auto a = one.route(v);
    const auto b = four.route(v);
    c1 += one.cost()(f1.params(a->device), f1.load(a->device), v);
    c4 += four.cost()(f4.params(b->device), f4.load(b->device), v);
    one.release(*a);
    four.release(*b);
  }
  CHECK(c4 < c1);
}

TEST_CASE("power_of_d.bad_d_throws") {
  fleet f(std::vector<device_params>(3, device_params{100.0, 0.1}));
  CHECK_THROWS_AS(power_of_d_router<joulesched_cost>(f, 0, joulesched_cost(), 1), config_error);
  CHECK_THROWS_WITH(power_of_d_router<joulesched_cost>(f, 99, joulesched_cost(), 1), doctest::Contains("d = 99"));
}

// A fleet without class heaps (fleet_index::none) serves the routers that never read them, with the same
// decisions: over random fleets, requests, releases, drains and restores, power-of-d (same seed), round-robin,
// random (same seed) and the scan make exactly the choices they make over a fleet with heaps, and both fleets
// hold the same loads and the same available ids throughout.
TEST_CASE("fleet_index.none.same_decisions_for_routers_that_do_not_read_class_heaps") {
  std::mt19937_64 rng(29);
  for (unsigned trial = 0; trial < 200; ++trial) {
    const auto ps = random_fleet(rng, 1 + rng() % 80);
    fleet indexed(ps), flat(ps, "flat", fleet_index::none);
    REQUIRE(flat.index() == fleet_index::none);
    CHECK(flat.class_tops().empty());
    const std::uint32_t d = 1 + static_cast<std::uint32_t>(rng() % 4);
    power_of_d_router<joulesched_cost> pd_i(indexed, d, joulesched_cost(2.0), trial),
        pd_f(flat, d, joulesched_cost(2.0), trial);
    round_robin_router rr_i(indexed), rr_f(flat);
    random_router rnd_i(indexed, trial), rnd_f(flat, trial);
    scan_router<joulesched_cost> scan_i(indexed, joulesched_cost(2.0)), scan_f(flat, joulesched_cost(2.0));
    std::vector<assignment> live;
    for (unsigned op = 0; op < 120; ++op) {
      const auto dice = rng() % 10;
      if (dice < 6) {
        const auto v = random_request(rng);
        std::optional<assignment> a, b;
        switch (rng() % 4) {
          case 0:
            a = pd_i.route(v), b = pd_f.route(v);
            break;
          case 1:
            a = rr_i.route(v), b = rr_f.route(v);
            break;
          case 2:
            a = rnd_i.route(v), b = rnd_f.route(v);
            break;
          default:
            a = scan_i.route(v), b = scan_f.route(v);
            break;
        }
        REQUIRE(a == b);
        if (a) {
          REQUIRE(flat.available(a->device));
          live.push_back(*a);
        }
      } else if (dice < 8 && !live.empty()) {
        const auto k = rng() % live.size();
        indexed.release(live[k]);
        flat.release(live[k]);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        const auto id = static_cast<device_id>(rng() % ps.size());
        const bool on = rng() % 3 != 0;
        indexed.set_available(id, on);
        flat.set_available(id, on);
      }
      REQUIRE(std::ranges::equal(indexed.available_ids(), flat.available_ids()));
      for (device_id id = 0; id < ps.size(); ++id) {
        REQUIRE(indexed.load(id).reserved_ns == flat.load(id).reserved_ns);
        REQUIRE(indexed.load(id).requests == flat.load(id).requests);
      }
    }
  }
}

TEST_CASE("fleet_index.none.class_indexed_router_refuses_the_fleet") {
  fleet flat(std::vector<device_params>(4, device_params{100.0, 0.1}), "flat", fleet_index::none);
  CHECK_THROWS_WITH_AS(argmin_router<joulesched_cost>(flat, joulesched_cost(1.0)),
                       doctest::Contains("fleet_index::none"), config_error);
  CHECK_THROWS_AS(least_loaded_router{flat}, config_error);
  CHECK_NOTHROW(scan_router<joulesched_cost>(flat, joulesched_cost(1.0)));
}

// Misuse: every router's release goes to its fleet, which refuses a second release of the same
// assignment (it used to wrap the load to ~1.8e19 tokens and routing carried on around the device).
namespace {
template <class R>
void check_release_twice_is_refused(R& router, fleet& f) {
  const std::optional<assignment> a = router.route(request_view{40, 10, 5.0, tier::interactive});
  REQUIRE(a.has_value());
  CHECK(router.release(*a));
  CHECK_FALSE(router.release(*a));
  CHECK_FALSE(router.release(assignment{static_cast<device_id>(f.size()), 1}));
  for (device_id id = 0; id < f.size(); ++id) {
    CHECK(f.load(id).reserved_ns == 0);
    CHECK(f.load(id).requests == 0);
  }
  const std::optional<assignment> b = router.route(request_view{40, 10, 5.0, tier::interactive});
  REQUIRE(b.has_value());
  // 39 decode tokens (the first comes from the prefill): 0.39 s at 100 tok/s, 0.195 s at 200 tok/s.
  CHECK(f.load(b->device).reserved_ns == (b->device == 0 ? 390'000'000u : 195'000'000u));
  CHECK(b->work_ns == f.load(b->device).reserved_ns);
  CHECK(router.release(*b));
}
}  // namespace

TEST_CASE("routers.release_twice_is_refused_and_loads_stay_as_after_one") {
  const std::vector<device_params> ps{{100, 0.2}, {200, 0.1}, {200, 0.1}};
  fleet f(ps);
  SUBCASE("argmin") {
    argmin_router<joulesched_cost> r(f, joulesched_cost(5.0));
    check_release_twice_is_refused(r, f);
  }
  SUBCASE("scan") {
    scan_router<joulesched_cost> r(f, joulesched_cost(5.0));
    check_release_twice_is_refused(r, f);
  }
  SUBCASE("power_of_d") {
    power_of_d_router<joulesched_cost> r(f, 2, joulesched_cost(5.0), 1);
    check_release_twice_is_refused(r, f);
  }
  SUBCASE("round_robin") {
    round_robin_router r(f);
    check_release_twice_is_refused(r, f);
  }
  SUBCASE("random") {
    random_router<> r(f, 3);
    check_release_twice_is_refused(r, f);
  }
  SUBCASE("tiered") {
    tiered_router r(slack_classifier(600.0), argmin_router<joulesched_cost>(f, joulesched_cost(5.0)),
                    argmin_router<joulesched_cost>(f, joulesched_cost(0.0)));
    check_release_twice_is_refused(r, f);
  }
}

namespace {
struct view_req {
  double input_tok;
  double deadline_s;
};
}  // namespace

// Misuse: finite inputs whose derived values overflow. deadline 1.7e308 at now -1.7e308 gave an
// infinite budget (and a NaN cost that Release builds routed on); a token count above 2^32 - 1 was cut silently.
TEST_CASE("request_view.checked_rejects_finite_inputs_whose_budget_or_tokens_overflow") {
  using joulesched::test::check_mentions;
  using joulesched::test::error_of;
  const double big = 1.7e308;
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{1, big}, -big, 1.0, "client 3");
                 }),
                 {"client 3: budget_s (deadline_s - now_s) = inf", "deadline_s = 1.7e+308", "now_s = -1.7e+308"});
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{1, -big}, big, 1.0, "x");
                 }),
                 {"budget_s (deadline_s - now_s) = -inf"});
  // Finite but beyond max_budget_s, either way.
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{1, 2e12}, 0.0, 1.0, "x");
                 }),
                 {"budget_s (deadline_s - now_s) = 2e+12", "within +-1e12 s"});
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{1, 0.0}, 2e12, 1.0, "x");
                 }),
                 {"budget_s (deadline_s - now_s) = -2e+12"});
  CHECK(checked_request_view(view_req{1, 1e12}, 0.0, 1.0, "x").budget_s == 1e12);
  CHECK(checked_request_view(view_req{1, 0.0}, 1e12, 1.0, "x").budget_s == -1e12);
  // Token counts beyond a request_view's 32 bits.
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{1, 5.0}, 0.0, 5e9, "x");
                 }),
                 {"x: output_estimate_tok = 5e+09", "must be <= 4294967295"});
  check_mentions(error_of([&] {
                   (void)checked_request_view(view_req{4294967295.5, 5.0}, 0.0, 1.0, "x");
                 }),
                 {"x: input_tok = 4294967295.5"});
  const request_view top = checked_request_view(view_req{4294967295.0, 5.0}, 0.0, 4294967295.0, "x");
  CHECK(top.input_tok == std::numeric_limits<std::uint32_t>::max());
  CHECK(top.work_tok == std::numeric_limits<std::uint32_t>::max());
}
