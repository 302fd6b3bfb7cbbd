// The concurrent routers with one thread: the exact one must choose exactly what argmin_router over a fleet
// chooses for the same routes, releases and drains, and what a brute-force argmin chooses; power-of-d with d
// at least the fleet's size must too. Also the packed top word and the state's construction checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "support/brute_force.hpp"
#include "support/exactness_steps.hpp"
#include "support/random_fleet.hpp"

using namespace joulesched;
using joulesched::test::palette;
using joulesched::test::random_request;
using joulesched::test::release_one_at_random;
using joulesched::test::route_as_brute_force;

static_assert(Router<concurrent_argmin_router<joulesched_cost>>);
static_assert(Router<concurrent_power_of_d_router<joulesched_cost>>);

namespace {

// Now and then a large fleet, so that classes of over 64 devices are split into several shards even with one
// shard asked for.
std::vector<device_params> random_fleet(std::mt19937_64& rng) {
  const std::size_t n = rng() % 8 == 0 ? 60 + rng() % 140 : 1 + rng() % 48;
  return joulesched::test::random_fleet(rng, n);
}

// Drives argmin_router over a fleet and concurrent_argmin_router over a concurrent_fleet built from the same
// devices through the same random routes, releases, drains and restores; every decision must agree with each
// other and with the brute force, and the loads must agree after every step.
template <class Cost>
void check_equivalence(Cost cost, unsigned fleets, unsigned ops, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (unsigned trial = 0; trial < fleets; ++trial) {
    const auto ps = random_fleet(rng);
    const auto shards_per_class = static_cast<std::uint32_t>(1 + rng() % 6);
    fleet f(ps);
    concurrent_fleet cf(ps, shards_per_class);
    argmin_router<Cost> reference(f, cost);
    concurrent_argmin_router<Cost> router(cf, cost);
    std::vector<assignment> outstanding;
    for (unsigned op = 0; op < ops; ++op) {
      const auto dice = rng() % 10;
      if (dice < 6) {
        const request_view v = random_request(rng);
        const auto brute = test::brute_force_argmin(f, cost, v);
        const auto expected = reference.route(v);
        const auto got = router.route(v);
        REQUIRE(got.has_value() == expected.has_value());
        REQUIRE(expected.has_value() == brute.has_value());
        if (got) {
          REQUIRE(got->device == expected->device);
          REQUIRE(got->device == *brute);
          REQUIRE(got->work_ns == reserved_work_ns(ps[got->device], v));
          REQUIRE(got->work_ns == expected->work_ns);
          outstanding.push_back(*got);
        }
      } else if (dice < 8 && !outstanding.empty()) {
        const auto i = rng() % outstanding.size();
        reference.release(outstanding[i]);
        router.release(outstanding[i]);
        outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        const auto id = static_cast<device_id>(rng() % f.size());
        const bool on = rng() % 3 != 0;
        f.set_available(id, on);
        cf.set_available(id, on);
      }
    }
    for (device_id id = 0; id < f.size(); ++id) {
      REQUIRE(cf.load(id).reserved_ns == f.load(id).reserved_ns);
      REQUIRE(cf.load(id).requests == f.load(id).requests);
      REQUIRE(cf.available(id) == f.available(id));
    }
    REQUIRE(cf.consistent());
    for (const auto& a : outstanding) router.release(a);
    for (device_id id = 0; id < cf.size(); ++id) {
      REQUIRE(cf.load(id).reserved_ns == 0);
      REQUIRE(cf.load(id).requests == 0);
    }
    REQUIRE(cf.consistent());
    CHECK(router.stats().lock_failures == 0);  // one thread: every try-lock succeeds
  }
}

}  // namespace

TEST_CASE("concurrent.top_word.order_and_limits") {
  using w = detail::top_word;
  CHECK(w::pack(0, 5) < w::pack(0, 6));
  CHECK(w::pack(0, w::max_id) < w::pack(1, 0));
  CHECK(w::pack(7, 3) < w::pack(8, 0));
  CHECK(w::load_ns(w::pack(123456789, 42)) == 123456789);
  CHECK(w::id(w::pack(123456789, 42)) == 42);
  CHECK(w::load_ns(w::pack(w::max_load_ns + 5, 1)) == w::max_load_ns);  // saturates
  CHECK(w::pack(~std::uint64_t{0}, w::max_id) < w::empty);
  CHECK(w::max_id == (1u << 24) - 2);
  CHECK(w::max_load_ns == (std::uint64_t{1} << 40) - 1);  // nanoseconds: about 18 minutes of backlog
  CHECK(concurrent_fleet::max_exact_load_ns == w::max_load_ns);
}

TEST_CASE("concurrent_fleet.construction") {
  const std::vector<device_params> ps = {{1000.0, 0.2}, {1000.0, 0.2}, {2000.0, 0.1}};
  CHECK_THROWS_AS(concurrent_fleet(ps, 0), config_error);
  CHECK_THROWS_AS(concurrent_fleet(std::vector<device_params>{{1000.0, 0.2}, {-1.0, 0.1}}), config_error);
  CHECK_THROWS_WITH_AS(concurrent_fleet(std::vector<device_params>{{1000.0, 0.2}, {-1.0, 0.1}}),
                       doctest::Contains("device 1"), config_error);

  concurrent_fleet cf(ps, 4);
  CHECK(cf.size() == 3);
  CHECK(cf.class_count() == 2);
  CHECK(cf.shard_count() == 3);  // a class of 2 gets 2 shards, a class of 1 gets 1
  CHECK(cf.params(2) == device_params{2000.0, 0.1});
  CHECK(cf.current().version == 0);
  CHECK(cf.consistent());

  // The 320-GPU fleet of the paper: 160 A100, 128 H100, 32 L4; 4 shards per class.
  std::vector<device_params> big;
  big.insert(big.end(), 160, device_params{2500.0, 0.21});
  big.insert(big.end(), 128, device_params{4000.0, 0.15});
  big.insert(big.end(), 32, device_params{900.0, 0.12});
  concurrent_fleet paper(big, 4);
  CHECK(paper.class_count() == 3);
  CHECK(paper.shard_count() == 12);
  // One class of 200 devices and one shard asked for: at most 64 per shard, so 4 shards.
  concurrent_fleet wide(std::vector<device_params>(200, device_params{1000.0, 0.2}), 1);
  CHECK(wide.shard_count() == 4);
  CHECK(wide.consistent());

  concurrent_fleet none(std::vector<device_params>{}, 4);
  concurrent_argmin_router<joulesched_cost> r(none);
  CHECK_FALSE(r.route(request_view{100, 10, 1.0, tier::interactive}).has_value());
}

TEST_CASE("concurrent_fleet.writers.check_ids_and_params") {
  concurrent_fleet cf(std::vector<device_params>{{1000.0, 0.2}, {1000.0, 0.2}}, 2);
  CHECK_THROWS_AS(cf.set_available(2, false), config_error);
  CHECK_THROWS_AS(cf.set_params(0, device_params{0.0, 0.1}), config_error);
  CHECK(cf.params(0) == device_params{1000.0, 0.2});
  const auto before = cf.current().version;
  cf.set_available(0, true);  // unchanged: no new snapshot
  CHECK(cf.current().version == before);
  cf.drain(0);
  CHECK(cf.current().version == before + 1);
  CHECK(cf.snapshot_count() == 1);  // no reader announced the old one: it is freed
  CHECK_FALSE(cf.available(0));
  CHECK(cf.current().available_ids == std::vector<device_id>{1});
  CHECK(cf.consistent());
}

// 300 random fleets of up to 200 devices, 120 operations each, per cost: 1,800 fleets in all.
TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.energy_only") {
  check_equivalence(joulesched_cost(0.0), 300, 120, 100);
}

TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.slo_priced") {
  check_equivalence(joulesched_cost(4.0), 300, 120, 101);
}

TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.slo_dominant") {
  check_equivalence(joulesched_cost(90.0), 300, 120, 102);
}

TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.eta") {
  check_equivalence(eta_cost{}, 300, 120, 11);
}

TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.queued_tokens") {
  check_equivalence(reserved_work_cost{}, 300, 120, 12);
}

TEST_CASE("concurrent_argmin_router.one_thread.matches_argmin_router.weighted") {
  check_equivalence(weighted_cost<energy_term, eta_term, reserved_work_term>({1.0, 2.0, 0.001}), 300, 120, 13);
}

TEST_CASE("concurrent_power_of_d_router.one_thread.d_covers_fleet_is_exact") {
  std::mt19937_64 rng(21);
  for (unsigned trial = 0; trial < 300; ++trial) {
    const std::vector<device_params> ps = joulesched::test::random_fleet(rng, 1 + rng() % 32);
    const auto mode = trial % 2 == 0 ? concurrent_mode::exact : concurrent_mode::relaxed;
    concurrent_fleet cf(ps, static_cast<std::uint32_t>(1 + rng() % 4), mode);
    const joulesched_cost cost(static_cast<double>(rng() % 100));
    concurrent_power_of_d_router<joulesched_cost> router(cf, concurrent_power_of_d_router<joulesched_cost>::max_d, cost,
                                                         rng());
    std::vector<assignment> outstanding;
    for (unsigned op = 0; op < 200; ++op) {
      const auto dice = rng() % 10;
      if (dice < 6) {
        route_as_brute_force(router, cf, cost, random_request(rng), outstanding);
      } else if (dice < 8 && !outstanding.empty()) {
        release_one_at_random(rng, outstanding, [&](const assignment& a) { cf.release(a); });
      } else {
        const auto id = static_cast<device_id>(rng() % cf.size());  // one draw per statement: the same
        cf.set_available(id, rng() % 3 != 0);                       // sequence under every compiler
      }
    }
    REQUIRE(cf.consistent());  // power-of-d's reservations reached the shard heaps too
    for (const auto& a : outstanding) cf.release(a);
    for (device_id id = 0; id < cf.size(); ++id) REQUIRE(cf.load(id).reserved_ns == 0);
    REQUIRE(cf.consistent());
  }
}

TEST_CASE("concurrent_argmin_router.refuses_a_relaxed_state") {
  concurrent_fleet relaxed(std::vector<device_params>{{1000.0, 0.2}}, 1, concurrent_mode::relaxed);
  CHECK(relaxed.mode() == concurrent_mode::relaxed);
  CHECK_THROWS_AS(concurrent_argmin_router<joulesched_cost>(relaxed, joulesched_cost{}), config_error);
  concurrent_fleet exact(std::vector<device_params>{{1000.0, 0.2}}, 1);
  CHECK(exact.mode() == concurrent_mode::exact);
  CHECK_NOTHROW(concurrent_argmin_router<joulesched_cost>(exact, joulesched_cost{}));
}

TEST_CASE("concurrent_power_of_d_router.rejects_bad_d") {
  concurrent_fleet cf(std::vector<device_params>{{1000.0, 0.2}}, 1);
  using pod = concurrent_power_of_d_router<joulesched_cost>;
  CHECK_THROWS_AS(pod(cf, 0, joulesched_cost{}, 1), config_error);
  CHECK_THROWS_AS(pod(cf, pod::max_d + 1, joulesched_cost{}, 1), config_error);
}

TEST_CASE("concurrent_argmin_router.one_thread.set_params_matches_brute_force") {
  // Re-profiling moves devices between classes (and creates classes and shards); the exact router must stay
  // exact against the new parameters, and the heaps consistent.
  std::mt19937_64 rng(33);
  for (unsigned trial = 0; trial < 300; ++trial) {
    const auto ps = random_fleet(rng);
    concurrent_fleet cf(ps, static_cast<std::uint32_t>(1 + rng() % 4));
    const joulesched_cost cost(static_cast<double>(rng() % 100) / 4.0);
    concurrent_argmin_router<joulesched_cost> router(cf, cost);
    std::vector<assignment> outstanding;
    for (unsigned op = 0; op < 150; ++op) {
      const auto dice = rng() % 12;
      if (dice < 6) {
        route_as_brute_force(router, cf, cost, random_request(rng), outstanding);
      } else if (dice < 8 && !outstanding.empty()) {
        release_one_at_random(rng, outstanding, [&](const assignment& a) { cf.release(a); });
      } else if (dice < 10) {
        // A palette type, or a drifted profile that makes a new class.
        const auto id = static_cast<device_id>(rng() % cf.size());
        device_params p = palette[rng() % std::size(palette)];
        if (rng() % 3 == 0) p.energy_j_per_tok += static_cast<double>(rng() % 5) / 100.0;
        cf.set_params(id, p);
        REQUIRE(cf.params(id) == p);
      } else {
        const auto id = static_cast<device_id>(rng() % cf.size());  // one draw per statement: the same
        cf.set_available(id, rng() % 3 != 0);                       // sequence under every compiler
      }
    }
    REQUIRE(cf.consistent());
    for (const auto& a : outstanding) cf.release(a);
    for (device_id id = 0; id < cf.size(); ++id) REQUIRE(cf.load(id).reserved_ns == 0);
    REQUIRE(cf.consistent());
  }
}

TEST_CASE("concurrent_fleet.set_params.fills_a_class_beyond_one_shard") {
  // 70 devices of distinct types moved one by one into one class: its first shard fills at 64, a second opens.
  std::vector<device_params> ps(70);
  for (std::size_t i = 0; i < ps.size(); ++i) ps[i] = device_params{1000.0 + static_cast<double>(i), 0.2};
  concurrent_fleet cf(ps, 1);
  CHECK(cf.class_count() == 70);
  for (device_id id = 0; id < 70; ++id) cf.set_params(id, device_params{500.0, 0.1});
  CHECK(cf.class_count() == 1);
  CHECK(cf.shard_count() == 2);
  CHECK(cf.consistent());
  concurrent_argmin_router<reserved_work_cost> r(cf);
  std::vector<int> hits(70, 0);
  for (int k = 0; k < 70; ++k) {
    const auto a = r.route(request_view{10, 0, 1.0, tier::bulk});
    REQUIRE(a);
    ++hits[a->device];
  }
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));  // least-loaded: one each
  CHECK(cf.consistent());
}

TEST_CASE("concurrent_shard.unlock_applies_changes_posted_while_locked") {
  // The release path never waits: a release that finds its shard locked leaves a pending bit, and the holder
  // must apply it when it unlocks. Played out on one thread: hold the lock, release, unlock.
  concurrent_fleet cf(std::vector<device_params>(4, device_params{1000.0, 0.2}), 1);
  concurrent_argmin_router<reserved_work_cost> r(cf);
  std::vector<assignment> as;
  for (std::uint32_t w : {100u, 200u, 300u, 400u}) as.push_back(*r.route(request_view{w, 0, 1.0, tier::bulk}));
  detail::concurrent_shard& shard = *cf.current().class_shards.at(0);
  CHECK(detail::top_word::id(shard.top()) == as[0].device);  // the device holding 100 tokens
  REQUIRE(shard.try_lock());
  cf.release(as[3]);  // 400 -> 0: posted, not applied (the lock is held)
  CHECK(cf.load(as[3].device).reserved_ns == 0);
  CHECK(detail::top_word::id(shard.top()) == as[0].device);  // the heap does not know yet
  shard.unlock();
  CHECK(shard.top() == detail::top_word::pack(0, as[3].device));  // applied on unlock
  CHECK(cf.consistent());
  for (std::size_t i = 0; i < 3; ++i) cf.release(as[i]);
  CHECK(cf.consistent());
}

// Operating points: a fleet and a concurrent_fleet built from the same random tables, driven through the same
// routes, releases and moves between points; every decision of the concurrent router must be the fleet router's.
TEST_CASE("concurrent_fleet.operating_points.moves_keep_the_router_exact") {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<operating_points> tables(1 + rng() % 3);
    for (auto& t : tables)
      for (std::size_t k = 1 + rng() % 4; k > 0; --k) t.push_back(test::random_priced_params(rng));
    std::vector<device_point> at(1 + rng() % 30);
    for (auto& d : at) {
      d.table = static_cast<std::uint32_t>(rng() % tables.size());
      d.point = static_cast<std::uint32_t>(rng() % tables[d.table].size());
    }
    fleet f(tables, at);
    concurrent_fleet cf(tables, at, static_cast<std::uint32_t>(1 + rng() % 4));
    const joulesched_cost cost(static_cast<double>(rng() % 5) * 3.0);
    argmin_router<joulesched_cost> reference(f, cost);
    concurrent_argmin_router<joulesched_cost> router(cf, cost);
    std::vector<assignment> out;
    for (int op = 0; op < 80; ++op) {
      const auto dice = rng() % 10;
      if (dice < 6) {
        const request_view v = random_request(rng);
        const auto expected = reference.route(v);
        const auto got = router.route(v);
        REQUIRE(got.has_value() == expected.has_value());
        if (!got) continue;
        REQUIRE(got->device == expected->device);
        REQUIRE(got->work_ns == expected->work_ns);
        out.push_back(*got);
      } else if (dice < 8 && !out.empty()) {
        const auto i = rng() % out.size();
        reference.release(out[i]);
        router.release(out[i]);
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        const auto id = static_cast<device_id>(rng() % at.size());
        const auto point = static_cast<std::uint32_t>(rng() % tables[at[id].table].size());
        REQUIRE(f.set_point(id, point));
        cf.set_point(id, point);
        REQUIRE(cf.point_of(id) == f.point_of(id));
        REQUIRE(cf.params(id) == f.params(id));
      }
    }
    REQUIRE(cf.consistent());
    CHECK(cf.class_count() <= [&] {
      std::size_t points = 0;
      for (const auto& t : tables) points += t.size();
      return points;
    }());
  }
  concurrent_fleet plain(std::vector<device_params>{test::random_priced_params(rng)});
  CHECK_THROWS_WITH_AS(plain.set_point(0, 1), doctest::Contains("operating points"), config_error);
  std::vector<operating_points> one{{device_params{1000.0, 0.1}, device_params{500.0, 0.05}}};
  concurrent_fleet pointed(one, {{0, 0}});
  CHECK_THROWS_WITH_AS(pointed.set_point(0, 2), doctest::Contains("point = 2"), config_error);
  CHECK_THROWS_WITH_AS(pointed.set_params(0, device_params{500.0, 0.05}), doctest::Contains("set_point"), config_error);
  pointed.set_point(0, 1);
  CHECK(pointed.params(0) == device_params{500.0, 0.05});
}
