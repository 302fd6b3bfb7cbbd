// Stress tests of the concurrent routing state, run under ThreadSanitizer: several threads route and release
// at once while writers drain, restore and re-profile devices. Each test does a fixed number of operations,
// so it ends whatever the scheduling; nothing here depends on timing to pass. A watchdog only turns a hang
// (a bug) into a failure.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <random>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "support/stress_kit.hpp"

using namespace joulesched;
using test::a100, test::h100, test::l4, test::random_request, test::watchdog;

namespace {

std::vector<device_params> three_class_fleet(std::size_t n) {
  std::vector<device_params> ps(n);
  for (std::size_t i = 0; i < n; ++i) ps[i] = i % 10 < 5 ? a100 : i % 10 < 9 ? h100 : l4;
  return ps;
}

// A channel from router threads to a completion thread.
using completions = test::channel<assignment>;

// Routes `ops` requests with `router`; releases about half itself (from a small window, so loads stay above
// zero) and hands the rest to the completion thread. Counts the decisions.
template <class Router>
void route_and_release(Router& router, completions& done, unsigned ops, std::uint64_t seed,
                       std::atomic<std::uint64_t>& decided, std::atomic<bool>& bad_id) {
  std::mt19937_64 rng(seed);
  std::vector<assignment> window;
  const auto n = router.state().size();
  for (unsigned i = 0; i < ops; ++i) {
    const auto a = router.route(random_request(rng));
    if (!a) continue;
    decided.fetch_add(1, std::memory_order_relaxed);
    if (a->device >= n) bad_id = true;
    if (rng() % 2 == 0) {
      done.push(*a);
    } else {
      window.push_back(*a);
      if (window.size() > 8) {
        const auto k = rng() % window.size();
        router.release(window[k]);
        window.erase(window.begin() + static_cast<std::ptrdiff_t>(k));
      }
    }
  }
  for (const auto& a : window) router.release(a);
}

}  // namespace

TEST_CASE("concurrent_router.stress.route_release_reprofile_loads_return_to_zero") {
  constexpr std::size_t n = 48;
  constexpr unsigned ops = 40000;
  concurrent_fleet cf(three_class_fleet(n), 3);
  completions done;
  std::atomic<std::uint64_t> decided{0}, released{0};
  std::atomic<int> routers_left{3};
  std::atomic<bool> bad_id{false}, hung{false};
  const watchdog dog;

  std::latch go(5);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      concurrent_argmin_router<joulesched_cost> router(cf, joulesched_cost(50.0));
      route_and_release(router, done, ops, 1000 + static_cast<std::uint64_t>(t), decided, bad_id);
      routers_left.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    go.arrive_and_wait();
    concurrent_power_of_d_router<joulesched_cost> router(cf, 2, joulesched_cost(50.0), 77);
    route_and_release(router, done, ops, 2000, decided, bad_id);
    routers_left.fetch_sub(1);
  });
  // The completion thread: releases what the routers hand it until they are done and the channel is empty.
  threads.emplace_back([&] {
    go.arrive_and_wait();
    const bool finished = test::consume_until_done(done, routers_left, dog, [&](const assignment& a) {
      cf.release(a);
      released.fetch_add(1, std::memory_order_relaxed);
      return true;
    });
    if (!finished) hung = true;
  });
  // A writer: a fixed number of drains, restores and re-profiles, then everything back to available.
  threads.emplace_back([&] {
    go.arrive_and_wait();
    std::mt19937_64 rng(5);
    const device_params types[] = {a100, h100, l4, {1200.0, 0.18}};
    for (int k = 0; k < 1500; ++k) {
      const auto id = static_cast<device_id>(rng() % n);
      if (rng() % 2 == 0) {
        cf.set_available(id, rng() % 2 == 0);
      } else {
        cf.set_params(id, types[rng() % std::size(types)]);
      }
      std::this_thread::yield();
    }
    for (device_id id = 0; id < n; ++id) cf.undrain(id);
  });
  for (auto& t : threads) t.join();

  REQUIRE_FALSE(hung.load());
  CHECK_FALSE(bad_id.load());
  CHECK(decided.load() > 0);
  // The completion thread's own pops are counted; the routers released the rest themselves.
  for (device_id id = 0; id < n; ++id) {
    CHECK(cf.load(id).reserved_ns == 0);
    CHECK(cf.load(id).requests == 0);
  }
  CHECK(cf.consistent());
  MESSAGE("decisions: " << decided.load() << ", released by the completion thread: " << released.load()
                        << ", snapshots kept: " << cf.snapshot_count());
}

TEST_CASE("concurrent_router.stress.relaxed_mode_power_of_d_loads_return_to_zero") {
  // Relaxed mode: reserve and release are atomic adds only. Three power-of-d routers and a completion thread.
  constexpr std::size_t n = 48;
  constexpr unsigned ops = 40000;
  concurrent_fleet cf(three_class_fleet(n), 3, concurrent_mode::relaxed);
  completions done;
  std::atomic<std::uint64_t> decided{0};
  std::atomic<int> routers_left{3};
  std::atomic<bool> bad_id{false}, hung{false};
  const watchdog dog;
  std::latch go(4);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      concurrent_power_of_d_router<joulesched_cost> router(cf, 2, joulesched_cost(50.0),
                                                           static_cast<std::uint64_t>(t) + 40);
      route_and_release(router, done, ops, 3000 + static_cast<std::uint64_t>(t), decided, bad_id);
      routers_left.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    go.arrive_and_wait();
    const bool finished = test::consume_until_done(done, routers_left, dog, [&](const assignment& a) {
      cf.release(a);
      return true;
    });
    if (!finished) hung = true;
  });
  for (auto& t : threads) t.join();
  REQUIRE_FALSE(hung.load());
  CHECK_FALSE(bad_id.load());
  CHECK(decided.load() == 3 * ops);
  for (device_id id = 0; id < n; ++id) {
    CHECK(cf.load(id).reserved_ns == 0);
    CHECK(cf.load(id).requests == 0);
  }
  CHECK(cf.consistent());
}

TEST_CASE("concurrent_router.stress.hot_shard_many_threads") {
  // One class, one shard: every router wants the same lock. Each thread routes and releases a fixed number of
  // times; the result must be consistent and every load back to zero.
  constexpr std::size_t n = 16;
  constexpr unsigned ops = 25000;
  concurrent_fleet cf(std::vector<device_params>(n, a100), 1);
  REQUIRE(cf.shard_count() == 1);
  std::atomic<std::uint64_t> failures{0}, decided{0}, empty{0};
  std::latch go(4);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      concurrent_argmin_router<joulesched_cost> router(cf);
      std::mt19937_64 rng(static_cast<std::uint64_t>(t));
      std::vector<assignment> window;
      for (unsigned i = 0; i < ops; ++i) {
        const auto a = router.route(random_request(rng));
        if (!a) {
          empty.fetch_add(1);  // cannot happen: nothing is drained
          continue;
        }
        window.push_back(*a);
        if (window.size() > 4) {
          cf.release(window.front());
          window.erase(window.begin());
        }
      }
      for (const auto& a : window) cf.release(a);
      failures.fetch_add(router.stats().lock_failures);
      decided.fetch_add(router.stats().decisions);
    });
  }
  for (auto& t : threads) t.join();
  CHECK(empty.load() == 0);
  CHECK(decided.load() == 4 * ops);
  for (device_id id = 0; id < n; ++id) CHECK(cf.load(id).reserved_ns == 0);
  CHECK(cf.consistent());
  MESSAGE("hot shard: " << failures.load() << " failed try-locks in " << decided.load() << " decisions");
}

TEST_CASE("concurrent_router.stress.never_picks_a_device_drained_before_the_decision") {
  // Per device, a counter the drainer bumps after drain() returns (odd: drained) and before undrain() starts
  // (even). A router reads every counter before it routes and the chosen device's counter after: if it was
  // odd before and unchanged after, the device was drained during the whole decision, and picking it is a bug.
  constexpr std::size_t n = 16;
  constexpr unsigned ops = 20000;
  concurrent_fleet cf(three_class_fleet(n), 2);
  std::vector<std::atomic<std::uint64_t>> drained_epoch(n);
  std::atomic<std::uint64_t> violations{0}, checked_while_drained{0};
  std::atomic<int> routers_left{3};

  auto check_router = [&](auto& router, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint64_t> before(n);
    for (unsigned i = 0; i < ops; ++i) {
      for (std::size_t d = 0; d < n; ++d) before[d] = drained_epoch[d].load(std::memory_order_acquire);
      const auto a = router.route(random_request(rng));
      if (!a) continue;
      const std::uint64_t after = drained_epoch[a->device].load(std::memory_order_acquire);
      if (before[a->device] % 2 == 1) {
        checked_while_drained.fetch_add(1, std::memory_order_relaxed);  // drained before, restored since
        if (after == before[a->device]) violations.fetch_add(1, std::memory_order_relaxed);
      }
      cf.release(*a);
    }
    routers_left.fetch_sub(1);
  };

  std::latch go(4);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      concurrent_argmin_router<joulesched_cost> router(cf, joulesched_cost(20.0));
      check_router(router, 10 + static_cast<std::uint64_t>(t));
    });
  }
  threads.emplace_back([&] {
    go.arrive_and_wait();
    concurrent_power_of_d_router<joulesched_cost> router(cf, 3, joulesched_cost(20.0), 99);
    check_router(router, 20);
  });
  // The drainer: a fixed number of drains and restores, never more than half the fleet drained at once.
  threads.emplace_back([&] {
    go.arrive_and_wait();
    std::mt19937_64 rng(3);
    std::size_t drained = 0;
    for (int k = 0; k < 4000; ++k) {
      const auto id = static_cast<device_id>(rng() % n);
      if (drained_epoch[id].load() % 2 == 0) {
        if (drained >= n / 2) continue;
        cf.drain(id);
        drained_epoch[id].fetch_add(1, std::memory_order_release);  // odd: drain() has returned
        ++drained;
      } else {
        drained_epoch[id].fetch_add(1, std::memory_order_release);  // even: undrain() may start
        cf.undrain(id);
        --drained;
      }
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  CHECK(violations.load() == 0);
  for (device_id id = 0; id < n; ++id) CHECK(cf.load(id).reserved_ns == 0);
  CHECK(cf.consistent());
  MESSAGE("decisions on devices drained when the decision started (and restored during it): "
          << checked_while_drained.load());
}
