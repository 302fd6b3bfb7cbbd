#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "joulesched/control/lambda_controller.hpp"
#include "joulesched/control/miss_window.hpp"
#include "joulesched/error.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::test;

namespace {

// Uniform in [0, 1) from the engine's raw bits (std::uniform_real_distribution differs between libraries).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

bool controller_throws_naming(const std::function<void(lambda_controller_config&)>& mutate, const std::string& field) {
  return throws_naming(
      [&] {
        lambda_controller_config c;
        mutate(c);
        lambda_controller<> ctl(c, count_window(10));
      },
      field);
}

// Feeds `n` outcomes, `missed` each, at time t_s.
template <class C>
void feed(C& ctl, double t_s, int n, bool missed) {
  for (int i = 0; i < n; ++i) ctl.observe(t_s, missed);
}

}  // namespace

static_assert(Controller<lambda_controller<>>);
static_assert(Controller<lambda_controller<time_window>>);
static_assert(MissWindow<count_window> && MissWindow<time_window>);

// ---------------------------------------------------------------- count_window

TEST_CASE("count_window.empty_rate_is_zero") {
  count_window w(4);
  CHECK(w.miss_rate(0.0) == 0.0);
  CHECK(w.samples(0.0) == 0);
}

TEST_CASE("count_window.forgets_the_oldest") {
  count_window w(3);
  w.record(0.0, true);
  w.record(1.0, false);
  w.record(2.0, false);
  CHECK(w.samples(2.0) == 3);
  CHECK(w.miss_rate(2.0) == doctest::Approx(1.0 / 3.0));
  w.record(3.0, false);  // pushes out the miss
  CHECK(w.samples(3.0) == 3);
  CHECK(w.miss_rate(3.0) == 0.0);
  w.record(4.0, true);
  w.record(5.0, true);
  w.record(6.0, true);  // the window now holds only the last three, all misses
  CHECK(w.miss_rate(6.0) == 1.0);
  w.clear();
  CHECK(w.samples(6.0) == 0);
  CHECK(w.miss_rate(6.0) == 0.0);
}

TEST_CASE("count_window.matches_brute_force_over_random_outcomes") {
  std::mt19937_64 rng(7);
  const std::size_t n = 37;
  count_window w(n);
  std::vector<bool> all;
  for (int i = 0; i < 1000; ++i) {
    const bool missed = uniform01(rng) < 0.3;
    w.record(i, missed);
    all.push_back(missed);
    const std::size_t from = all.size() > n ? all.size() - n : 0;
    std::size_t misses = 0;
    for (std::size_t j = from; j < all.size(); ++j) misses += all[j] ? 1u : 0u;
    REQUIRE(w.samples(i) == all.size() - from);
    REQUIRE(w.miss_rate(i) == doctest::Approx(static_cast<double>(misses) / static_cast<double>(all.size() - from)));
  }
}

TEST_CASE("count_window.bad_config") {
  CHECK(throws_naming([] { count_window w(0); }, "capacity"));
}

TEST_CASE("miss_windows.absurd_sizes_are_config_errors") {
  // Before: count_window(SIZE_MAX) threw std::length_error and 2^40 buckets aborted (out of memory) under ASan.
  check_mentions(error_of([] { count_window w(std::numeric_limits<std::size_t>::max()); }),
                 {"count_window", "capacity", "must be <= 2^24"});
  check_mentions(error_of([] { time_window w(60.0, std::size_t{1} << 40); }),
                 {"time_window", "buckets = 1099511627776", "must be <= 2^24"});
  CHECK(count_window(count_window::max_capacity).samples() == 0);
  CHECK_THROWS_AS(count_window(count_window::max_capacity + 1), config_error);
  CHECK_THROWS_AS(time_window(60.0, time_window::max_buckets + 1), config_error);
}

// ---------------------------------------------------------------- time_window

TEST_CASE("time_window.forgets_outcomes_older_than_the_window") {
  time_window w(10.0, 10);  // 1 s buckets
  CHECK(w.bucket_s() == 1.0);
  CHECK(w.miss_rate(0.0) == 0.0);
  w.record(0.5, true);
  w.record(5.5, false);
  CHECK(w.samples(9.9) == 2);
  CHECK(w.miss_rate(9.9) == doctest::Approx(0.5));
  // At 10.5 the window is buckets [1, 10]: the miss at 0.5 (bucket 0) is gone, the hit remains.
  CHECK(w.samples(10.5) == 1);
  CHECK(w.miss_rate(10.5) == 0.0);
  // Long after, nothing is left.
  CHECK(w.samples(100.0) == 0);
  CHECK(w.miss_rate(100.0) == 0.0);
}

TEST_CASE("time_window.resolution_is_window_over_buckets") {
  time_window w(10.0, 4);  // 2.5 s buckets
  w.record(0.0, true);
  CHECK(w.samples(9.99) == 1);  // counted for at least W - W/B = 7.5 s ...
  CHECK(w.samples(10.0) == 0);  // ... and less than W = 10 s
  time_window v(10.0, 4);
  v.record(2.49, true);
  CHECK(v.samples(7.5) == 1);   // 5.01 s later: counted
  CHECK(v.samples(10.0) == 0);  // 7.51 s later: the whole bucket [0, 2.5) has left
}

TEST_CASE("time_window.reuses_buckets_after_wrapping") {
  time_window w(3.0, 3);
  for (int t = 0; t < 30; ++t) w.record(t + 0.5, t % 2 == 0);
  // Buckets 27, 28, 29 hold hit, miss, hit; the 27 earlier outcomes are gone.
  CHECK(w.samples(29.5) == 3);
  CHECK(w.miss_rate(29.5) == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("time_window.out_of_order_times") {
  time_window w(10.0, 10);
  w.record(20.0, false);
  w.record(15.0, true);  // earlier, but inside the window of 20: counted
  CHECK(w.samples(20.0) == 2);
  CHECK(w.miss_rate(20.0) == doctest::Approx(0.5));
  w.record(5.0, true);  // before the window of the latest time: dropped
  CHECK(w.samples(20.0) == 2);
  CHECK(w.samples(15.0) == 1);  // a query in the past sees what is still held of that window
  // The hit at 20 is still counted after the miss at 15 expires.
  CHECK(w.samples(25.5) == 1);
  CHECK(w.miss_rate(25.5) == 0.0);
}

TEST_CASE("time_window.negative_times") {
  time_window w(2.0, 2);
  w.record(-1.5, true);
  w.record(-0.5, false);
  CHECK(w.samples(-0.1) == 2);
  CHECK(w.miss_rate(-0.1) == doctest::Approx(0.5));
  CHECK(w.samples(0.5) == 1);
}

TEST_CASE("time_window.bad_config") {
  CHECK(throws_naming([] { time_window w(0.0, 10); }, "window_s"));
  CHECK(throws_naming([] { time_window w(-1.0, 10); }, "window_s"));
  CHECK(throws_naming([] { time_window w(std::numeric_limits<double>::infinity(), 10); }, "window_s"));
  CHECK(throws_naming([] { time_window w(std::numeric_limits<double>::quiet_NaN(), 10); }, "window_s"));
  CHECK(throws_naming([] { time_window w(10.0, 0); }, "buckets"));
}

// ---------------------------------------------------------------- lambda_controller

TEST_CASE("lambda_controller.starts_at_initial_and_holds_without_evidence") {
  lambda_controller_config c;
  lambda_controller ctl(c, count_window(100));
  CHECK(ctl.value() == c.lambda_initial);
  CHECK(ctl.update(1.0) == c.lambda_initial);  // empty window: no evidence, no move
  CHECK(ctl.integral() == 0.0);
  CHECK(ctl.miss_rate() == 0.0);
}

TEST_CASE("lambda_controller.raises_lambda_when_misses_exceed_target") {
  lambda_controller_config c{.target_miss_rate = 0.01, .kp = 100.0, .ki = 10.0, .lambda_initial = 100.0};
  lambda_controller ctl(c, count_window(100));
  double prev = ctl.value();
  for (int step = 1; step <= 20; ++step) {
    feed(ctl, step, 9, false);
    feed(ctl, step, 1, true);  // 10% misses
    const double lambda = ctl.update(step);
    CHECK(ctl.miss_rate() == doctest::Approx(0.1));
    CHECK(lambda > prev);  // the integral keeps pushing while the error persists
    prev = lambda;
  }
  CHECK(ctl.integral() > 0.0);
}

TEST_CASE("lambda_controller.lowers_lambda_when_misses_below_target") {
  lambda_controller_config c{.target_miss_rate = 0.05, .kp = 100.0, .ki = 10.0, .lambda_initial = 100.0};
  lambda_controller ctl(c, count_window(100));
  double prev = ctl.value();
  for (int step = 1; step <= 20; ++step) {
    feed(ctl, step, 10, false);  // no misses
    const double lambda = ctl.update(step);
    CHECK(lambda < prev);
    prev = lambda;
  }
  CHECK(ctl.integral() < 0.0);
}

TEST_CASE("lambda_controller.at_target_stays_put") {
  lambda_controller_config c{.target_miss_rate = 0.1, .kp = 100.0, .ki = 10.0, .lambda_initial = 50.0};
  lambda_controller ctl(c, count_window(10));
  for (int step = 1; step <= 10; ++step) {
    feed(ctl, step, 9, false);
    feed(ctl, step, 1, true);
    CHECK(ctl.update(step) == doctest::Approx(50.0));
  }
}

TEST_CASE("lambda_controller.bounds") {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 20; ++trial) {
    lambda_controller_config c;
    c.target_miss_rate = 0.2 * uniform01(rng);
    c.kp = 5000.0 * uniform01(rng);
    c.ki = 2000.0 * uniform01(rng);
    c.lambda_min = 50.0 * uniform01(rng);
    c.lambda_max = c.lambda_min + 1000.0 * uniform01(rng);
    c.lambda_initial = c.lambda_min + (c.lambda_max - c.lambda_min) * uniform01(rng);
    lambda_controller ctl(c, count_window(1 + rng() % 200));
    double p_miss = uniform01(rng);
    for (int step = 0; step < 2000; ++step) {
      if (step % 100 == 0) p_miss = uniform01(rng);  // regimes from no misses to all misses
      const int n = static_cast<int>(rng() % 20);
      for (int i = 0; i < n; ++i) ctl.observe(step, uniform01(rng) < p_miss);
      const double lambda = ctl.update(step);
      REQUIRE(lambda >= c.lambda_min);
      REQUIRE(lambda <= c.lambda_max);
      REQUIRE(lambda == ctl.value());
    }
  }
}

TEST_CASE("lambda_controller.no_windup") {
  // Saturate at lambda_max with 100% misses for `saturation` updates, then stop missing; count the updates
  // until lambda leaves lambda_max. Without anti-windup the long saturation would take ~250x as long.
  const lambda_controller_config c{.target_miss_rate = 0.01,
                                   .kp = 50.0,
                                   .ki = 20.0,
                                   .lambda_min = 0.0,
                                   .lambda_max = 1000.0,
                                   .lambda_initial = 100.0};
  const auto recovery_updates = [&](int saturation) {
    lambda_controller ctl(c, count_window(50));
    int step = 0;
    for (; step < saturation; ++step) {
      feed(ctl, step, 10, true);
      ctl.update(step);
    }
    REQUIRE(ctl.value() == c.lambda_max);
    int updates = 0;
    while (ctl.value() == c.lambda_max && updates < 1'000'000) {
      feed(ctl, step, 10, false);
      ctl.update(step);
      ++step;
      ++updates;
    }
    return updates;
  };
  const int short_saturation = recovery_updates(200);
  const int long_saturation = recovery_updates(50'000);
  CHECK(short_saturation == long_saturation);
  // The window (5 updates' worth) is free of misses after 5 updates, and from then on e < 0. Since Ki*I never
  // exceeds lambda_max - lambda_0, lambda is below lambda_max as soon as e < 0: at most 6 updates.
  CHECK(long_saturation <= 6);
  CHECK(long_saturation >= 1);
}

TEST_CASE("lambda_controller.integral_bounds") {
  lambda_controller_config c{
      .kp = 0.0, .ki = 10.0, .lambda_max = 1e6, .lambda_initial = 100.0, .integral_min = -1.0, .integral_max = 2.0};
  lambda_controller ctl(c, count_window(10));
  for (int step = 0; step < 100; ++step) {
    feed(ctl, step, 10, true);
    ctl.update(step);
  }
  CHECK(ctl.integral() == 2.0);
  CHECK(ctl.value() == doctest::Approx(100.0 + 10.0 * 2.0));
  for (int step = 100; step < 1000; ++step) {
    feed(ctl, step, 10, false);
    ctl.update(step);
  }
  CHECK(ctl.integral() == -1.0);
  CHECK(ctl.value() == doctest::Approx(100.0 - 10.0 * 1.0));
}

TEST_CASE("lambda_controller.min_update_interval") {
  lambda_controller_config c{.kp = 100.0, .ki = 10.0, .min_update_interval_s = 1.0};
  lambda_controller ctl(c, count_window(10));
  feed(ctl, 0.0, 10, true);
  const double first = ctl.update(0.0);
  CHECK(first > c.lambda_initial);
  CHECK(ctl.update(0.5) == first);  // too soon: nothing changes
  CHECK(ctl.integral() == doctest::Approx(0.99));
  CHECK(ctl.update(1.0) > first);  // an interval later: integrates again
}

TEST_CASE("lambda_controller.deterministic") {
  const auto run = [](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    lambda_controller ctl(lambda_controller_config{}, time_window(30.0, 30));
    std::vector<double> out;
    double t = 0.0;
    for (int step = 0; step < 3000; ++step) {
      t += uniform01(rng);
      ctl.observe(t, uniform01(rng) < 0.05);
      if (step % 10 == 0) out.push_back(ctl.update(t));
    }
    return out;
  };
  const std::vector<double> a = run(11);
  const std::vector<double> b = run(11);
  CHECK(a == b);  // bit-identical
  CHECK(a != run(12));
}

TEST_CASE("lambda_controller.time_window") {
  lambda_controller_config c{.kp = 100.0, .ki = 10.0};
  lambda_controller ctl(c, time_window(10.0, 10));
  feed(ctl, 0.5, 10, true);
  CHECK(ctl.update(1.0) > c.lambda_initial);
  CHECK(ctl.miss_rate() == 1.0);
  // 20 s later the misses have left the window: no evidence, lambda holds.
  const double held = ctl.value();
  CHECK(ctl.update(21.0) == held);
  CHECK(ctl.miss_rate() == 0.0);
}

TEST_CASE("lambda_controller.bad_config") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  using cfg = lambda_controller_config;
  CHECK(controller_throws_naming([](cfg& c) { c.target_miss_rate = -0.1; }, "target_miss_rate"));
  CHECK(controller_throws_naming([](cfg& c) { c.target_miss_rate = 1.0; }, "target_miss_rate"));
  CHECK(controller_throws_naming([&](cfg& c) { c.target_miss_rate = nan; }, "target_miss_rate"));
  CHECK(controller_throws_naming([](cfg& c) { c.kp = -1.0; }, "kp"));
  CHECK(controller_throws_naming([&](cfg& c) { c.kp = inf; }, "kp"));
  CHECK(controller_throws_naming([](cfg& c) { c.ki = -0.5; }, "ki"));
  CHECK(controller_throws_naming([&](cfg& c) { c.ki = nan; }, "ki"));
  CHECK(controller_throws_naming([](cfg& c) { c.lambda_min = -1.0; }, "lambda_min"));
  CHECK(controller_throws_naming(
      [](cfg& c) {
        c.lambda_max = -1.0;
        c.lambda_min = 0.0;
      },
      "lambda_max"));
  CHECK(controller_throws_naming(
      [](cfg& c) {
        c.lambda_min = 10.0;
        c.lambda_max = 5.0;
      },
      "lambda_max"));
  CHECK(controller_throws_naming([&](cfg& c) { c.lambda_max = inf; }, "lambda_max"));
  CHECK(controller_throws_naming([](cfg& c) { c.lambda_initial = c.lambda_max + 1.0; }, "lambda_initial"));
  CHECK(controller_throws_naming(
      [](cfg& c) {
        c.lambda_min = 10.0;
        c.lambda_initial = 5.0;
      },
      "lambda_initial"));
  CHECK(controller_throws_naming([](cfg& c) { c.integral_min = 1.0; }, "integral_min"));
  CHECK(controller_throws_naming([&](cfg& c) { c.integral_min = nan; }, "integral_min"));
  CHECK(controller_throws_naming([](cfg& c) { c.integral_max = -1.0; }, "integral_max"));
  CHECK(controller_throws_naming([](cfg& c) { c.min_update_interval_s = -1.0; }, "min_update_interval_s"));
  // The defaults and edge values that are allowed do not throw.
  CHECK_NOTHROW(lambda_controller<>(lambda_controller_config{}, count_window(1)));
  CHECK_NOTHROW(lambda_controller<>(
      lambda_controller_config{
          .target_miss_rate = 0.0, .kp = 0.0, .ki = 0.0, .lambda_min = 5.0, .lambda_max = 5.0, .lambda_initial = 5.0},
      count_window(1)));
}
