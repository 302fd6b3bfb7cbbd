// Snapshot reclamation of concurrent_fleet: router threads read snapshots while a writer replaces them
// thousands of times. The snapshots alive stay bounded by the readers, and no reader touches a freed one (the
// ASan and TSan builds run this). Each test does a fixed number of operations; nothing depends on timing.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "support/stress_kit.hpp"

using namespace joulesched;
using test::a100, test::h100, test::random_request;

TEST_CASE("concurrent_fleet.snapshots_stay_bounded_under_sustained_writes") {
  std::vector<device_params> ps(64, a100);
  for (std::size_t i = 32; i < 64; ++i) ps[i] = h100;
  concurrent_fleet f(ps, 2);
  constexpr int routers = 3;
  constexpr unsigned writes = 20'000;
  std::atomic<bool> writing{true};
  std::atomic<std::size_t> most_alive{0};
  std::latch start(routers + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < routers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      std::optional<concurrent_argmin_router<joulesched_cost>> exact;
      std::optional<concurrent_power_of_d_router<joulesched_cost>> pod;
      if (t == 0) pod.emplace(f, 2, joulesched_cost{}, 7);
      else exact.emplace(f);
      start.arrive_and_wait();
      while (writing.load(std::memory_order_relaxed)) {
        const request_view v = random_request(rng);
        const std::optional<assignment> a = exact ? exact->route(v) : pod->route(v);
        if (a) f.release(*a);
      }
    });
  }
  std::vector<bool> drained(64, false), swapped(64, false);
  start.arrive_and_wait();
  for (unsigned i = 0; i < writes; ++i) {  // every write changes something, so every one publishes
    const auto id = static_cast<device_id>(i % 64);
    if (i % 2 == 0) {
      drained[id] = !drained[id];
      f.set_available(id, !drained[id]);
    } else {
      swapped[id] = !swapped[id];
      f.set_params(id, (id < 32) == swapped[id] ? h100 : a100);
    }
    if (i % 256 == 0) most_alive = std::max(most_alive.load(), f.snapshot_count());
  }
  writing = false;
  for (auto& th : threads) th.join();
  CAPTURE(most_alive.load());
  // Each reader pins at most one retired snapshot; the current one makes one more.
  CHECK(most_alive.load() <= routers + 1);
  CHECK(f.snapshot_count() <= routers + 1);
  CHECK(f.current().version == writes);
  CHECK(f.consistent());
  for (device_id id = 0; id < 64; ++id) CHECK(f.load(id).requests == 0);
}

TEST_CASE("concurrent_fleet.reader_slots_are_claimed_and_given_back") {
  concurrent_fleet f(std::vector<device_params>(4, a100));
  std::vector<concurrent_fleet::reader> readers;
  readers.reserve(concurrent_fleet::max_readers);
  for (std::size_t i = 0; i < concurrent_fleet::max_readers; ++i) readers.emplace_back(f);
  CHECK_THROWS_WITH_AS(concurrent_fleet::reader{f}, doctest::Contains("readers"), config_error);
  CHECK_THROWS_AS(concurrent_argmin_router<joulesched_cost>{f}, config_error);
  readers.pop_back();  // gives its slot back
  {
    concurrent_argmin_router<joulesched_cost> router(f);
    const std::optional<assignment> a = router.route(request_view{10, 10, 1.0, tier::interactive});
    REQUIRE(a.has_value());
    CHECK(router.release(*a));
  }  // and the router gives it back again

  // A reader sees each write at its next read, and its snapshot lives until then.
  const concurrent_fleet::reader& r = readers.front();
  const concurrent_fleet::snapshot& before = r.read();
  f.set_available(2, false);
  CHECK(before.devices[2].available);  // still readable: announced by r
  CHECK_FALSE(r.read().devices[2].available);
  f.set_available(2, true);
  CHECK(f.snapshot_count() == 2);  // the current one and the one r announced
  (void)r.read();
  f.set_available(3, false);
  CHECK(f.snapshot_count() == 2);
}
