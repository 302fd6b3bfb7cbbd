#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
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
// reservations, releases, drains and restores, each class's entry must be its least-loaded available device
// (lowest id among equals) with that device's load, or no_device when the class has none available.
TEST_CASE("fleet.class_tops.follow_every_change") {
  std::vector<device_params> ps;
  for (int i = 0; i < 40; ++i) ps.push_back(i % 3 == 0 ? device_params{100, 0.2} : i % 3 == 1 ? device_params{200, 0.1} : device_params{50, 0.3});
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
    } else if (dice < 8 && !live.empty()) {
      const auto k = rng() % live.size();
      f.release(live[k]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    } else {
      f.set_available(id, rng() % 3 != 0);  // mostly restore, so classes are rarely all drained
    }
    for (std::size_t c = 0; c < f.class_count(); ++c) {
      device_id best = fleet::no_device;
      for (device_id d = 0; d < ps.size(); ++d) {
        if (f.class_of(d) != c || !f.available(d)) continue;
        if (best == fleet::no_device || f.load(d).queued_tok < f.load(best).queued_tok) best = d;
      }
      const fleet::class_top_entry& t = f.class_tops()[c];
      INFO("op " << op << ", class " << c);
      REQUIRE(t.id == best);
      REQUIRE(f.class_top(c) == (best == fleet::no_device ? std::nullopt : std::optional<device_id>(best)));
      if (best != fleet::no_device) {
        REQUIRE(t.queued_tok == f.load(best).queued_tok);
        REQUIRE(t.requests == f.load(best).requests);
        REQUIRE(f.class_params()[c] == ps[best]);
      }
    }
  }
}

// Hardening (issue 10): a second release of the same assignment used to subtract again and wrap the load to
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
    CHECK(f.load(0).queued_tok == 0);
    CHECK(f.load(0).requests == 0);
    CHECK(f.load(1).queued_tok == 5);
    if (index == fleet_index::by_class) CHECK(f.class_top(0) == std::optional<device_id>(0));

    // Work of another assignment still there: refused when the released work exceeds it.
    f.reserve(0, 30);
    CHECK_FALSE(f.release(a));
    CHECK(f.load(0).queued_tok == 30);
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
  CHECK(f.load(1).queued_tok == 7);
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
  test::check_mentions(test::error_of([] { fleet f(std::vector<device_params>{{9e-4, 0.1}}); }),
                       {"device 0", "rate_tok_s = 9e-04"});
  concurrent_fleet cf(std::vector<device_params>{{100, 0.2}});
  test::check_mentions(test::error_of([&] { cf.set_params(0, device_params{1e-300, 0.1}); }),
                       {"set_params: device 0", "rate_tok_s = 1e-300"});
  CHECK(cf.params(0).rate_tok_s == 100);
  const fleet ok(std::vector<device_params>{{min_rate_tok_s, 0.1}});
  CHECK(ok.size() == 1);
}
