// Misuse: concurrent_fleet::release of an assignment released before, or of a device out of range.
// It used to subtract regardless, wrapping the load to ~1.8e19 tokens; now it is refused and changes nothing, and
// no thread ever sees a wrapped load (the release compares and swaps). Run under ThreadSanitizer with the other
// concurrency tests.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/routing/concurrent_router.hpp"

using namespace joulesched;

namespace {
const std::vector<device_params> four(4, device_params{1000.0, 0.2});
}  // namespace

TEST_CASE("concurrent_fleet.release.twice_or_out_of_range_is_refused") {
  for (const concurrent_mode mode : {concurrent_mode::exact, concurrent_mode::relaxed}) {
    CAPTURE(static_cast<int>(mode));
    concurrent_fleet f(four, 2, mode);
    f.reserve(1, 100);
    const assignment a{1, 100};
    CHECK(f.release(a));
    CHECK_FALSE(f.release(a));
    CHECK(f.load(1).reserved_ns == 0);
    CHECK(f.load(1).requests == 0);
    f.reserve(1, 30);  // another assignment's work: a second release of 100 tokens would still wrap
    CHECK_FALSE(f.release(a));
    CHECK(f.load(1).reserved_ns == 30);
    CHECK(f.load(1).requests == 1);
    CHECK(f.release({1, 30}));
    CHECK_FALSE(f.release({1, 0}));  // no request left
    CHECK_FALSE(f.release({4, 1}));
    CHECK_FALSE(f.release({~device_id{0}, 1}));
    CHECK(f.consistent());
  }
}

TEST_CASE("concurrent_routers.release_twice_is_refused") {
  concurrent_fleet f(four);
  concurrent_argmin_router<joulesched_cost> exact(f, joulesched_cost(1.0));
  concurrent_power_of_d_router<joulesched_cost> pod(f, 2, joulesched_cost(1.0), 7);
  for (const auto& a : {exact.route({50, 0, 5.0}), pod.route({60, 0, 5.0})}) {
    REQUIRE(a);
    CHECK(exact.release(*a));
    CHECK_FALSE(pod.release(*a));
  }
  for (device_id id = 0; id < f.size(); ++id) CHECK(f.load(id).reserved_ns == 0);
  CHECK(f.consistent());
}

// Two threads release the same assignments at once, as a completion and a cancellation racing. Every
// assignment of a device has the same work, so a release is refused exactly when the device has no request left:
// n releases succeed in all, whatever the interleaving, and the loads end at zero (a check-then-subtract that
// was not atomic would let both threads take the last request and wrap).
TEST_CASE("concurrent_fleet.racing_double_releases_succeed_exactly_once") {
  concurrent_fleet f(four);
  constexpr unsigned n = 2000;
  std::vector<assignment> as;
  for (unsigned i = 0; i < n; ++i) {
    const auto id = static_cast<device_id>(i % 4);
    as.push_back({id, 1 + id});
    f.reserve(as.back().device, as.back().work_ns);
  }
  std::atomic<unsigned> succeeded{0};
  std::latch start(2);
  const auto release_all = [&] {
    start.arrive_and_wait();
    for (const assignment& a : as)
      if (f.release(a)) succeeded.fetch_add(1, std::memory_order_relaxed);
  };
  std::thread t1(release_all), t2(release_all);
  t1.join();
  t2.join();
  CHECK(succeeded.load() == n);
  for (device_id id = 0; id < f.size(); ++id) {
    CHECK(f.load(id).reserved_ns == 0);
    CHECK(f.load(id).requests == 0);
  }
  CHECK(f.consistent());
}
