#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "joulesched/fleet.hpp"
#include "joulesched/routing/concurrent/concurrent_fleet.hpp"
#include "support/errors.hpp"

using namespace joulesched;

TEST_CASE("fleet.classes.group_equal_params") {
  std::vector<device_params> ps{{100, 0.2}, {200, 0.1}, {100, 0.2}, {200, 0.1}, {50, 0.3}};
  fleet f(ps);
  CHECK(f.class_count() == 3);
  CHECK(f.class_of(0) == f.class_of(2));
  CHECK(f.class_of(1) == f.class_of(3));
  CHECK(f.class_of(4) != f.class_of(0));
}

// class_tops() and class_params() are what the class-indexed router reads instead of the heaps: after any mix of
// reservations, releases, corrections, drains and restores, each class's entry must be its least-loaded available
// device (lowest id among equals) with that device's load, or no_device when the class has none available.
TEST_CASE("fleet.class_tops.follow_every_change") {
  std::vector<device_params> ps;
  for (int i = 0; i < 40; ++i)
    ps.push_back(i % 3 == 0 ? device_params{100, 0.2} : i % 3 == 1 ? device_params{200, 0.1} : device_params{50, 0.3});
  fleet f(ps);
  std::mt19937_64 rng(5);
  std::vector<assignment> live;
  for (int op = 0; op < 20000; ++op) {
    const auto dice = rng() % 10;
    const auto id = static_cast<device_id>(rng() % ps.size());
    if (dice < 5) {
      const auto work = static_cast<std::uint32_t>(rng() % 50);  // 0 too: ties in load are common
      f.reserve(id, work);
      live.push_back({id, work});
    } else if (dice < 7 && !live.empty()) {
      const auto k = rng() % live.size();
      f.release(live[k]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (dice < 8 && !live.empty()) {
      REQUIRE(f.correct(live[rng() % live.size()], rng() % 50));  // grows, shrinks or keeps a reservation
    } else {
      f.set_available(id, rng() % 3 != 0);  // mostly restore, so classes are rarely all drained
    }
    for (std::size_t c = 0; c < f.class_count(); ++c) {
      device_id best = fleet::no_device;
      for (device_id d = 0; d < ps.size(); ++d) {
        if (f.class_of(d) != c || !f.available(d)) continue;
        if (best == fleet::no_device || f.load(d).reserved_ns < f.load(best).reserved_ns) best = d;
      }
      const fleet::class_top_entry& t = f.class_tops()[c];
      INFO("op " << op << ", class " << c);
      REQUIRE(t.id == best);
      REQUIRE(f.class_top(c) == (best == fleet::no_device ? std::nullopt : std::optional<device_id>(best)));
      if (best != fleet::no_device) {
        REQUIRE(t.reserved_ns == f.load(best).reserved_ns);
        REQUIRE(t.requests == f.load(best).requests);
        REQUIRE(f.class_params()[c] == ps[best]);
      }
    }
  }
}

// Misuse: a second release of the same assignment used to subtract again and wrap the load to
// ~1.8e19 tokens, after which every router avoided the device for good. Now it is refused and changes nothing.
TEST_CASE("fleet.release.twice_is_refused_and_leaves_loads_as_after_one_release") {
  for (const fleet_index index : {fleet_index::by_class, fleet_index::none}) {
    CAPTURE(static_cast<int>(index));
    fleet f(std::vector<device_params>{{100, 0.2}, {100, 0.2}}, "fleet", index);
    f.reserve(0, 100);
    f.reserve(1, 5);
    const assignment a{0, 100};
    CHECK(f.release(a));
    CHECK_FALSE(f.release(a));  // would wrap: 0 - 100
    CHECK(f.load(0).reserved_ns == 0);
    CHECK(f.load(0).requests == 0);
    CHECK(f.load(1).reserved_ns == 5);
    if (index == fleet_index::by_class) CHECK(f.class_top(0) == std::optional<device_id>(0));

    // Work of another assignment still there: refused when the released work exceeds it.
    f.reserve(0, 30);
    CHECK_FALSE(f.release(a));
    CHECK(f.load(0).reserved_ns == 30);
    CHECK(f.load(0).requests == 1);
    // No request left but zero tokens: refused too (a zero-work assignment released twice).
    CHECK(f.release({0, 30}));
    CHECK_FALSE(f.release({0, 0}));
    CHECK(f.load(0).requests == 0);
  }
}

TEST_CASE("fleet.release_and_set_available.ids_out_of_range_change_nothing") {
  fleet f(std::vector<device_params>{{100, 0.2}, {200, 0.1}});
  f.reserve(1, 7);
  CHECK_FALSE(f.release({2, 7}));
  CHECK_FALSE(f.release({fleet::no_device, 0}));
  f.set_available(2, false);
  f.set_available(fleet::no_device, true);
  CHECK(f.available_ids().size() == 2);
  CHECK(f.load(1).reserved_ns == 7);
  CHECK(f.class_top(0).has_value());
  CHECK(f.class_top(1).has_value());
}

TEST_CASE("fleet.ctor.rejects_a_rate_whose_inverse_overflows") {
  // Before: {5e-324, 0.1} was accepted (finite, > 0); its ETA was inf and joulesched_cost(0) gave NaN.
  const std::vector<device_params> tiny{{100, 0.2}, {5e-324, 0.1}};
  test::check_mentions(test::error_of([&] { fleet f(tiny); }),
                       {"device 1", "rate_tok_s = 5e-324", "must be >= 0.001 token/s"});
  test::check_mentions(test::error_of([&] { concurrent_fleet f(tiny); }),
                       {"device 1", "rate_tok_s = 5e-324", "must be >= 0.001 token/s"});
  test::check_mentions(test::error_of([] {
                         fleet f(std::vector<device_params>{{9e-4, 0.1}});
                       }),
                       {"device 0", "rate_tok_s = 9e-04"});
  concurrent_fleet cf(std::vector<device_params>{{100, 0.2}});
  test::check_mentions(test::error_of([&] {
                         cf.set_params(0, device_params{1e-300, 0.1});
                       }),
                       {"set_params: device 0", "rate_tok_s = 1e-300"});
  CHECK(cf.params(0).rate_tok_s == 100);
  const fleet ok(std::vector<device_params>{{min_rate_tok_s, 0.1}});
  CHECK(ok.size() == 1);
}

// fleet::correct: an engine that learned more (the prompt is done, the output runs longer) moves a reservation
// to a new amount; the device's backlog moves by the difference, the class heap follows, and the assignment
// carries the new amount so that its release drains the device to exactly zero.
TEST_CASE("fleet.correct.grows_and_shrinks_a_reservation_and_the_class_top_follows") {
  for (const fleet_index index : {fleet_index::by_class, fleet_index::none}) {
    CAPTURE(static_cast<int>(index));
    // Devices 0-2 one class, device 3 another.
    fleet f(std::vector<device_params>{{100, 0.2}, {100, 0.2}, {100, 0.2}, {200, 0.1}}, "fleet", index);
    const bool heaps = index == fleet_index::by_class;
    assignment a{0, 500};
    assignment b{1, 300};
    const assignment c{2, 400};
    f.reserve(a.device, a.work_ns);
    f.reserve(b.device, b.work_ns);
    f.reserve(c.device, c.work_ns);
    f.reserve(0, 50);                                                 // another request on device 0: 550 ns in all
    if (heaps) CHECK(f.class_top(0) == std::optional<device_id>(1));  // 300 < 400 < 550

    // Grow b from 300 to 1000 ns: device 1 now has the most, device 2 (400) is on top.
    CHECK(f.correct(b, 1000));
    CHECK(b.work_ns == 1000);
    CHECK(f.load(1).reserved_ns == 1000);
    CHECK(f.load(1).requests == 1);  // a correction is no new request
    if (heaps) {
      CHECK(f.class_top(0) == std::optional<device_id>(2));
      CHECK(f.class_tops()[0].reserved_ns == 400);
    }
    // Shrink a from 500 to 20 ns: device 0 keeps the other request's 50, so 70 ns, and is on top.
    CHECK(f.correct(a, 20));
    CHECK(a.work_ns == 20);
    CHECK(f.load(0).reserved_ns == 70);
    CHECK(f.load(0).requests == 2);
    if (heaps) {
      CHECK(f.class_top(0) == std::optional<device_id>(0));
      CHECK(f.class_tops()[0].reserved_ns == 70);
      CHECK(f.class_tops()[0].requests == 2);
      CHECK(f.class_top(1) == std::optional<device_id>(3));  // the other class is untouched
    }
    // The same amount again changes nothing; to zero is legal.
    CHECK(f.correct(a, 20));
    CHECK(f.load(0).reserved_ns == 70);
    CHECK(f.correct(b, 0));
    CHECK(f.load(1).reserved_ns == 0);
    if (heaps) CHECK(f.class_top(0) == std::optional<device_id>(1));  // 0 < 70 < 400

    // Releases give back the corrected amounts: every device returns to exactly zero.
    CHECK(f.release(a));
    CHECK(f.load(0).reserved_ns == 50);
    CHECK(f.release({0, 50}));
    CHECK(f.release(b));
    CHECK(f.release(c));
    for (device_id id = 0; id < f.size(); ++id) {
      CHECK(f.load(id).reserved_ns == 0);
      CHECK(f.load(id).requests == 0);
    }
    if (heaps) CHECK(f.class_top(0) == std::optional<device_id>(0));  // all equal again: the lowest id
  }
}

TEST_CASE("fleet.correct.a_drained_device_keeps_its_heap_out_of_it") {
  // A drained device can still be corrected (its work is running); it is not in its class heap, and coming
  // back it enters with its corrected load.
  fleet f(std::vector<device_params>(3, device_params{100, 0.2}));
  assignment a{0, 10};
  f.reserve(0, 10);
  f.reserve(1, 20);
  f.set_available(0, false);
  CHECK(f.correct(a, 100));
  CHECK(f.load(0).reserved_ns == 100);
  CHECK(f.class_top(0) == std::optional<device_id>(2));  // device 2: 0 ns
  f.reserve(2, 30);
  CHECK(f.class_top(0) == std::optional<device_id>(1));  // 20 < 30; device 0 still drained
  f.set_available(0, true);
  CHECK(f.class_top(0) == std::optional<device_id>(1));  // 20 < 30 < 100
  CHECK(f.correct(a, 5));
  CHECK(f.class_top(0) == std::optional<device_id>(0));  // 5 < 20
}

TEST_CASE("fleet.correct.refuses_what_release_would_refuse_and_changes_nothing") {
  for (const fleet_index index : {fleet_index::by_class, fleet_index::none}) {
    CAPTURE(static_cast<int>(index));
    fleet f(std::vector<device_params>{{100, 0.2}, {100, 0.2}}, "fleet", index);
    f.reserve(0, 100);
    f.reserve(1, 40);
    // A device out of range.
    assignment out{2, 100};
    CHECK_FALSE(f.correct(out, 7));
    CHECK(out.work_ns == 100);
    assignment none{fleet::no_device, 0};
    CHECK_FALSE(f.correct(none, 7));
    CHECK(none.work_ns == 0);
    // More work than the device holds (a stale or foreign assignment).
    assignment big{1, 41};
    CHECK_FALSE(f.correct(big, 1));
    CHECK(big.work_ns == 41);
    CHECK(f.load(1).reserved_ns == 40);
    // Already released: the device is back to zero with no request.
    assignment a{0, 100};
    CHECK(f.release(a));
    CHECK_FALSE(f.correct(a, 50));
    CHECK(a.work_ns == 100);
    CHECK(f.load(0).reserved_ns == 0);
    CHECK(f.load(0).requests == 0);
    // A zero-work assignment released already: no request left on the device, refused too.
    f.reserve(0, 0);
    assignment zero{0, 0};
    CHECK(f.release(zero));
    CHECK_FALSE(f.correct(zero, 10));
    CHECK(f.load(0).reserved_ns == 0);
    CHECK(f.load(1).reserved_ns == 40);
    CHECK(f.load(1).requests == 1);
    if (index == fleet_index::by_class) CHECK(f.class_top(0) == std::optional<device_id>(0));
  }
}

// checked(): each coefficient of device_params finite, >= 0 and <= max_param_coefficient; the batch finite and in
// [1, 2^24]. The error names the device and the field with its value.
TEST_CASE("fleet.ctor.rejects_bad_prefill_context_and_batch_fields_naming_them") {
  constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf_v = std::numeric_limits<double>::infinity();
  using field_ptr = double device_params::*;
  const std::pair<field_ptr, const char*> fields[] = {
      {&device_params::prefill_s_per_tok, "prefill_s_per_tok"},
      {&device_params::prefill_j_per_tok, "prefill_j_per_tok"},
      {&device_params::request_s, "request_s"},
      {&device_params::request_j, "request_j"},
      {&device_params::ctx_s_per_tok, "ctx_s_per_tok"},
      {&device_params::ctx_j_per_tok, "ctx_j_per_tok"},
  };
  for (const auto& [field, name] : fields) {
    CAPTURE(name);
    for (const double bad : {nan_v, -1e-9, -inf_v, inf_v, 1.5e6}) {
      CAPTURE(bad);
      std::vector<device_params> ps{{100, 0.2}, {100, 0.2}};
      ps[1].*field = bad;
      const std::string msg = test::error_of([&] { fleet f(ps); });
      test::check_mentions(msg, {"fleet: device 1: ", std::string(name) + " = "});
      test::check_mentions(test::error_of([&] { concurrent_fleet f(ps); }), {"device 1", std::string(name) + " = "});
    }
    // The bounds themselves are legal.
    std::vector<device_params> ok{{100, 0.2}, {100, 0.2}};
    ok[0].*field = 0.0;
    ok[1].*field = max_param_coefficient;
    CHECK(fleet(ok).params(1).*field == max_param_coefficient);
  }
  test::check_mentions(test::error_of([] {
                         device_params p{100, 0.2};
                         p.prefill_s_per_tok = nan_v;
                         fleet f(std::vector<device_params>{p});
                       }),
                       {"device 0: prefill_s_per_tok = nan"});
  test::check_mentions(test::error_of([] {
                         device_params p{100, 0.2};
                         p.ctx_j_per_tok = -0.5;
                         fleet f(std::vector<device_params>{p});
                       }),
                       {"device 0: ctx_j_per_tok = -0.5"});
  for (const double bad : {0.0, 0.999, -1.0, nan_v, inf_v, max_operating_batch * 2}) {
    CAPTURE(bad);
    device_params p{100, 0.2};
    p.batch = bad;
    test::check_mentions(test::error_of([&] {
                           fleet f(std::vector<device_params>{{100, 0.2}, p});
                         }),
                         {"device 1: batch = "});
    test::check_mentions(test::error_of([&] { concurrent_fleet f(std::vector<device_params>{p}); }),
                         {"device 0", "batch = "});
  }
  test::check_mentions(test::error_of([] {
                         device_params p{100, 0.2};
                         p.batch = 0.5;
                         fleet f(std::vector<device_params>{p});
                       }),
                       {"device 0: batch = 0.5"});
  device_params lo{100, 0.2}, hi{100, 0.2};
  lo.batch = 1.0;
  hi.batch = max_operating_batch;
  const fleet ok(std::vector<device_params>{lo, hi});
  CHECK(ok.params(1).batch == max_operating_batch);
  CHECK(ok.class_count() == 2);  // a different batch is a different class
}

// step_s finite, >= 0 and at most the step at the operating batch (batch / rate_tok_s); capacity >= batch, infinity
// allowed (no limit).
TEST_CASE("fleet.ctor.rejects_bad_step_and_capacity_naming_them") {
  constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf_v = std::numeric_limits<double>::infinity();
  device_params base{100, 0.2};
  base.batch = 4.0;  // the step at zero context is 4 / 100 = 0.04 s
  for (const double bad : {nan_v, -1e-9, inf_v, 0.0401}) {
    CAPTURE(bad);
    device_params p = base;
    p.step_s = bad;
    test::check_mentions(test::error_of([&] {
                           fleet f(std::vector<device_params>{base, p});
                         }),
                         {"device 1: step_s = "});
    test::check_mentions(test::error_of([&] { concurrent_fleet f(std::vector<device_params>{p}); }),
                         {"device 0", "step_s = "});
  }
  for (const double bad : {nan_v, -inf_v, 0.0, 3.999}) {
    CAPTURE(bad);
    device_params p = base;
    p.capacity = bad;
    test::check_mentions(test::error_of([&] {
                           fleet f(std::vector<device_params>{base, p});
                         }),
                         {"device 1: capacity = "});
  }
  device_params edge = base;
  edge.step_s = 0.04;
  edge.capacity = 4.0;
  const fleet ok(std::vector<device_params>{base, edge});
  CHECK(ok.params(1).step_s == 0.04);
  CHECK(ok.params(1).capacity == 4.0);
  CHECK(ok.params(0).capacity == inf_v);  // the default: no limit
  CHECK(ok.class_count() == 2);           // a different step or capacity is a different class
}

namespace {
// An engine's device with the optional fields as members.
struct priced_gpu {
  double rate_tok_s, energy_j_per_tok, prefill_s_per_tok, request_j, batch;
};
// One that also knows its step's fixed part and how many requests it holds.
struct batching_gpu {
  double rate_tok_s, energy_j_per_tok, batch, step_s, capacity;
};
}  // namespace

TEST_CASE("fleet.ctor.reads_and_checks_optional_device_members") {
  const fleet f(std::vector<priced_gpu>{{100, 0.2, 1e-4, 3.0, 8.0}});
  CHECK(f.params(0).prefill_s_per_tok == 1e-4);
  CHECK(f.params(0).request_j == 3.0);
  CHECK(f.params(0).batch == 8.0);
  CHECK(f.params(0).prefill_j_per_tok == 0.0);  // members it lacks: not modelled
  CHECK(f.params(0).ctx_s_per_tok == 0.0);
  test::check_mentions(test::error_of([] {
                         fleet g(std::vector<priced_gpu>{{100, 0.2, 1e-4, 3.0, 0.0}}, "gpus");
                       }),
                       {"gpus: device 0: batch = 0"});
  test::check_mentions(test::error_of([] {
                         fleet g(std::vector<priced_gpu>{{100, 0.2, 1e-4, 3.0, 8.0}, {100, 0.2, -2.0, 3.0, 8.0}});
                       }),
                       {"device 1: prefill_s_per_tok = -2"});
  const fleet g(std::vector<batching_gpu>{{100, 0.2, 8.0, 0.01, 64.0}});
  CHECK(g.params(0).step_s == 0.01);
  CHECK(g.params(0).capacity == 64.0);
  CHECK(f.params(0).step_s == 0.0);  // members it lacks: the defaults
  CHECK(f.params(0).capacity == std::numeric_limits<double>::infinity());
  test::check_mentions(test::error_of([] {
                         fleet h(std::vector<batching_gpu>{{100, 0.2, 8.0, 0.01, 2.0}}, "gpus");
                       }),
                       {"gpus: device 0: capacity = 2"});
}

// Operating points: classes are every table's distinct points, fixed for the fleet's life; set_point moves a device
// between the points of its table, keeping its load and availability; misuse changes nothing.
TEST_CASE("fleet.operating_points.classes_are_the_points_and_moves_rehome_the_device") {
  const device_params slow{100, 0.2}, mid{150, 0.25}, fast{200, 0.3}, other{80, 0.1};
  // Two types: {slow, mid, fast} (a GPU's clocks) and {other, mid} (another GPU that shares one point).
  const std::vector<operating_points> tables{{slow, mid, fast}, {other, mid}};
  fleet f(tables, {{0, 0}, {0, 0}, {0, 2}, {1, 0}, {1, 1}});
  CHECK(f.class_count() == 4);  // slow, mid, fast, other: whichever point each device is at
  CHECK(f.tables().size() == 2);
  CHECK(f.params(2) == fast);
  const std::uint32_t mid_class = f.class_of(4);
  CHECK(f.class_top(mid_class) == std::optional<device_id>(4));
  // Device 0 moves to mid with work reserved: it joins mid's heap with its load.
  f.reserve(0, 1'000);
  CHECK(f.set_point(0, 1));
  CHECK(f.params(0) == mid);
  CHECK(f.class_of(0) == mid_class);
  CHECK(f.point_of(0) == device_point{0, 1});
  CHECK(f.load(0).reserved_ns == 1'000);
  CHECK(f.class_top(mid_class) == std::optional<device_id>(4));  // 4 carries less work
  f.reserve(4, 5'000);
  CHECK(f.class_top(mid_class) == std::optional<device_id>(0));
  // The slow class still holds device 1; a class every device left is empty, not gone.
  CHECK(f.class_top(f.class_of(1)) == std::optional<device_id>(1));
  CHECK(f.set_point(2, 0));
  CHECK(f.class_count() == 4);
  for (std::size_t c = 0; c < f.class_count(); ++c)
    if (f.class_params()[c] == fast) CHECK_FALSE(f.class_top(c).has_value());
  // A drained device moves too, and comes back in its new class.
  f.set_available(3, false);
  CHECK(f.set_point(3, 1));
  CHECK_FALSE(f.available(3));
  f.set_available(3, true);
  CHECK(f.class_of(3) == mid_class);
  CHECK(f.class_top(mid_class) == std::optional<device_id>(3));  // no work: the least loaded
  // Releasing after a move gives back what was reserved.
  CHECK(f.release(assignment{0, 1'000}));
  CHECK(f.load(0).reserved_ns == 0);
}

TEST_CASE("fleet.operating_points.bad_tables_and_moves_name_the_value") {
  const device_params ok{100, 0.2};
  device_params bad{100, 0.2};
  bad.energy_j_per_tok = -1.0;
  test::check_mentions(test::error_of([&] {
                         fleet f(std::vector<operating_points>{{ok, bad}}, {{0, 0}}, "gpus");
                       }),
                       {"gpus: table 0 point 1: energy_j_per_tok = -1"});
  test::check_mentions(test::error_of([&] { fleet f(std::vector<operating_points>{{}}, {}, "gpus"); }),
                       {"gpus: table 0", "points"});
  test::check_mentions(test::error_of([&] {
                         fleet f(std::vector<operating_points>{{ok}}, {{0, 0}, {1, 0}});
                       }),
                       {"device 1: table = 1"});
  test::check_mentions(test::error_of([&] {
                         fleet f(std::vector<operating_points>{{ok}}, {{0, 3}});
                       }),
                       {"device 0: point = 3"});
  fleet f(std::vector<operating_points>{{ok, ok}}, {{0, 0}});
  CHECK_FALSE(f.set_point(0, 2));   // outside its table
  CHECK_FALSE(f.set_point(5, 0));   // no such device
  CHECK(f.point_of(0).point == 0);  // unchanged
  fleet plain(std::vector<device_params>{ok});
  CHECK_FALSE(plain.set_point(0, 0));  // built without tables
}
