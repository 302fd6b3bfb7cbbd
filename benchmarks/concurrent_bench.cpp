// Multi-thread routing throughput of the concurrent routers: decisions per second, each including the release
// of an earlier decision by the same thread (every thread keeps a window of 32 outstanding assignments and
// releases the oldest when it routes a new one, so loads stay above zero and every iteration is one route and
// one release).
//
//   BM_argmin_router_one_thread      the single-threaded argmin_router over a fleet: the baseline
//   BM_private_fleet_per_thread      one fleet and argmin_router per thread, nothing shared: the machine's ceiling
//   BM_concurrent_exact              concurrent_argmin_router, 320 devices in 3 classes, 4 shards per class
//   BM_concurrent_exact_shards_per_class  the same with 1, 2, 8 and 16 shards per class
//   BM_concurrent_exact_hot_shard    every thread wants the same shard: one class of 64 devices, one shard
//   BM_concurrent_power_of_d         concurrent_power_of_d_router (d = 2) over the same 320 devices, exact mode
//                                    (its reservations and the releases keep the shard heaps up to date)
//   BM_concurrent_power_of_d_relaxed_mode  the same over a relaxed-mode state: loads only, no shard heaps
//   BM_partitioned                   partitioned_router: the fleet dealt into one partition per thread, each
//                                    thread routes exactly over its own and releases its own assignments
//   BM_exact_under_writes_1_per_ms   concurrent_argmin_router threads (all cores but one) routing while a writer
//                                    re-profiles or drains one device every millisecond for JOULESCHED_CHURN_S
//                                    seconds (default 60): counters give the snapshots alive at most and the
//                                    process's resident memory before and after, so flat memory is measured
//   BM_partitioned_cross_completion  the same, but every release is made on the next thread: the router
//                                    thread hands completed assignments to thread t+1 (a ring per thread) in
//                                    batches of 1 or 8, which posts them to the owner's inbox; owners apply
//                                    posts on each route
//
// Threads: 1, 2, 4, ... up to std::thread::hardware_concurrency(). Counters: trylock_fail_rate is the share
// of a router's try-locks that found the shard busy (it then took the next best); backoffs_per_decision
// counts rounds in which every candidate shard was busy.
//
// Before measuring, main() checks the answers: on the benchmarked fleet and requests, with one thread, the
// concurrent exact router must choose what argmin_router chooses, decision by decision, and each partition of
// a partitioned_router what an argmin_router over its own devices chooses.
//
// Build: g++ -std=c++20 -O2 -DNDEBUG -Iinclude benchmarks/concurrent_bench.cpp -lbenchmark -lpthread
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "joulesched/routing/partitioned_router.hpp"

namespace {

using namespace joulesched;

// Illustrative device types (not measured values: the routing cost depends on the class structure, not on
// the numbers). The fleet of the JouleSched evaluation: 160 A100, 128 H100, 32 L4.
constexpr device_params a100{2500.0, 0.21};
constexpr device_params h100{4000.0, 0.15};
constexpr device_params l4{900.0, 0.12};

std::vector<device_params> three_class_fleet() {
  std::vector<device_params> ps;
  ps.insert(ps.end(), 160, a100);
  ps.insert(ps.end(), 128, h100);
  ps.insert(ps.end(), 32, l4);
  return ps;
}

std::vector<device_params> hot_class_fleet() { return std::vector<device_params>(64, h100); }

// 70% interactive requests with budgets of 0.05 to 0.5 s (the SLO term steers them to fast devices), 30% bulk
// with 60 s (they go to the most efficient class): all three classes get work.
std::vector<request_view> requests(std::uint64_t seed, std::size_t n = 4096) {
  std::mt19937_64 rng(seed);
  std::vector<request_view> vs(n);
  for (auto& v : vs) {
    v.work_tok = static_cast<std::uint32_t>(50 + rng() % 500);
    v.input_tok = static_cast<std::uint32_t>(rng() % 2000);
    const bool bulk = rng() % 10 < 3;
    v.tier = bulk ? tier::bulk : tier::interactive;
    v.budget_s = bulk ? 60.0 : 0.05 + static_cast<double>(rng() % 450) / 1000.0;
  }
  return vs;
}

constexpr double lambda_j_per_s = 10.0;
constexpr std::size_t window = 32;
constexpr std::uint32_t shards_per_class = 4;

std::unique_ptr<concurrent_fleet> shared;  // built by each benchmark's Setup, before its threads start

void setup_three_class(const benchmark::State&) {
  shared = std::make_unique<concurrent_fleet>(three_class_fleet(), shards_per_class);
}
void setup_three_class_sharded(const benchmark::State& state) {
  shared = std::make_unique<concurrent_fleet>(three_class_fleet(), static_cast<std::uint32_t>(state.range(0)));
}
void setup_three_class_relaxed(const benchmark::State&) {
  shared = std::make_unique<concurrent_fleet>(three_class_fleet(), shards_per_class, concurrent_mode::relaxed);
}
void setup_hot_class(const benchmark::State&) { shared = std::make_unique<concurrent_fleet>(hot_class_fleet(), 1); }
void teardown(const benchmark::State&) { shared.reset(); }

// One thread's loop: route, keep the assignment in a ring of `window`, and hand the one it replaces to
// `retire`; `between` runs once per iteration, after the retirement and before the route. After the loop the
// thread releases what is still outstanding in its ring.
template <class Router, class Retire, class Between>
void run(benchmark::State& state, Router& router, Retire&& retire, Between&& between) {
  const auto vs = requests(static_cast<std::uint64_t>(state.thread_index()) + 1);
  std::vector<assignment> ring(window);
  std::vector<bool> used(window, false);
  std::size_t k = 0;
  std::uint64_t empty = 0;
  for (auto _ : state) {
    const std::size_t slot = k % window;
    if (used[slot]) retire(ring[slot]);
    between();
    const auto a = router.route(vs[k % vs.size()]);
    used[slot] = a.has_value();
    if (a) {
      ring[slot] = *a;
    } else {
      ++empty;
    }
    ++k;
  }
  for (std::size_t i = 0; i < window; ++i)
    if (used[i]) router.release(ring[i]);
  if (empty != 0) state.SkipWithError("a route found no device");
  state.SetItemsProcessed(state.iterations());
}

// The usual loop: the thread releases the assignment it retires itself.
template <class Router>
void run(benchmark::State& state, Router& router) {
  run(
      state, router, [&](const assignment& a) { router.release(a); }, [] {});
}

void report(benchmark::State& state, const concurrent_route_stats& s) {
  const double decisions = static_cast<double>(std::max<std::uint64_t>(s.decisions, 1));
  const double attempts = decisions + static_cast<double>(s.lock_failures);
  state.counters["trylock_fail_rate"] =
      benchmark::Counter(static_cast<double>(s.lock_failures) / attempts, benchmark::Counter::kAvgThreads);
  state.counters["backoffs_per_decision"] =
      benchmark::Counter(static_cast<double>(s.backoffs) / decisions, benchmark::Counter::kAvgThreads);
}

void BM_argmin_router_one_thread(benchmark::State& state) {
  fleet f(three_class_fleet());
  argmin_router<joulesched_cost> router(f, joulesched_cost(lambda_j_per_s));
  run(state, router);
}

// The machine's ceiling: every thread has its own fleet and single-threaded router, nothing is shared. How
// this scales with threads is the most any shared design can hope for on the machine.
void BM_private_fleet_per_thread(benchmark::State& state) {
  fleet f(three_class_fleet());
  argmin_router<joulesched_cost> router(f, joulesched_cost(lambda_j_per_s));
  run(state, router);
}

void BM_concurrent_exact(benchmark::State& state) {
  concurrent_argmin_router<joulesched_cost> router(*shared, joulesched_cost(lambda_j_per_s));
  run(state, router);
  report(state, router.stats());
}

void BM_concurrent_exact_hot_shard(benchmark::State& state) {
  concurrent_argmin_router<joulesched_cost> router(*shared, joulesched_cost(lambda_j_per_s));
  run(state, router);
  report(state, router.stats());
}

void BM_concurrent_power_of_d(benchmark::State& state) {
  concurrent_power_of_d_router<joulesched_cost> router(*shared, 2, joulesched_cost(lambda_j_per_s),
                                                       static_cast<std::uint64_t>(state.thread_index()) + 7);
  run(state, router);
}

// Partitioned: one partition per thread, built before the threads start.
std::unique_ptr<partition_plan> plan;
std::vector<std::unique_ptr<partitioned_router<joulesched_cost>>> partitions;
std::vector<std::unique_ptr<detail::mpsc_ring<assignment>>> completions;  // thread t's completions to post

void setup_partitioned(const benchmark::State& state) {
  const auto threads = static_cast<std::size_t>(state.threads());
  plan = std::make_unique<partition_plan>(three_class_fleet(), threads);
  partitions.clear();
  completions.clear();
  for (std::size_t t = 0; t < threads; ++t) {
    partitions.push_back(
        std::make_unique<partitioned_router<joulesched_cost>>(*plan, t, joulesched_cost(lambda_j_per_s)));
    completions.push_back(std::make_unique<detail::mpsc_ring<assignment>>(4 * window));
  }
}
void teardown_partitioned(const benchmark::State&) {
  partitions.clear();
  completions.clear();
  plan.reset();
}

void BM_partitioned(benchmark::State& state) {
  run(state, *partitions[static_cast<std::size_t>(state.thread_index())]);
}

// Thread t routes on partition t and keeps `window` assignments outstanding; those it retires go, in batches of
// `batch` (the benchmark's argument), to thread t + 1's completion ring; each iteration thread t also takes up
// to `batch` completions from its own ring (all from thread t - 1's partition) and posts their releases to
// that partition's inbox with one post_releases() call. Batches stand for the requests one engine step
// completes together. Nothing waits: completions whose inbox is full are kept and posted on a later iteration,
// and if thread t + 1's ring is full (it has stopped or fallen behind) thread t releases the batch itself; both
// are counted. With one thread it completes its own work through the same path.
void BM_partitioned_cross_completion(benchmark::State& state) {
  const auto t = static_cast<std::size_t>(state.thread_index());
  const auto batch = static_cast<std::size_t>(state.range(0));
  const std::size_t threads = partitions.size();
  partitioned_router<joulesched_cost>& router = *partitions[t];
  detail::mpsc_ring<assignment>& next = *completions[(t + 1) % threads];
  detail::mpsc_ring<assignment>& mine = *completions[t];
  std::vector<assignment> out, in;
  out.reserve(batch);
  in.reserve(batch);
  std::uint64_t inbox_full = 0, self_released = 0;
  const auto hand_to_next_thread = [&](const assignment& a) {
    out.push_back(a);
    if (out.size() < batch) return;
    if (!next.push_all(out)) {
      for (const assignment& x : out) router.release(x);
      self_released += out.size();
    }
    out.clear();
  };
  const auto post_completions = [&] {
    for (assignment a; in.size() < batch && mine.pop(a);) in.push_back(a);
    if (in.empty()) return;
    if (partitions[plan->owner(in.front().device)]->post_releases(in)) {
      in.clear();
    } else {
      ++inbox_full;
    }
  };
  run(state, router, hand_to_next_thread, post_completions);
  // What is still in flight between threads when they stop is left to teardown (the partitions are destroyed).
  const double n = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["inbox_full_share"] =
      benchmark::Counter(static_cast<double>(inbox_full) / n, benchmark::Counter::kAvgThreads);
  state.counters["self_released_share"] =
      benchmark::Counter(static_cast<double>(self_released) / n, benchmark::Counter::kAvgThreads);
}

const int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

BENCHMARK(BM_argmin_router_one_thread)->UseRealTime();
BENCHMARK(BM_private_fleet_per_thread)->ThreadRange(1, max_threads)->UseRealTime();
BENCHMARK(BM_concurrent_exact)
    ->Setup(setup_three_class)
    ->Teardown(teardown)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_concurrent_exact)
    ->Name("BM_concurrent_exact_shards_per_class")
    ->Setup(setup_three_class_sharded)
    ->Teardown(teardown)
    ->ArgName("shards")
    ->Arg(1)
    ->Arg(2)
    ->Arg(8)
    ->Arg(16)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_concurrent_exact_hot_shard)
    ->Setup(setup_hot_class)
    ->Teardown(teardown)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_concurrent_power_of_d)
    ->Setup(setup_three_class)
    ->Teardown(teardown)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_concurrent_power_of_d)
    ->Name("BM_concurrent_power_of_d_relaxed_mode")
    ->Setup(setup_three_class_relaxed)
    ->Teardown(teardown)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_partitioned)
    ->Setup(setup_partitioned)
    ->Teardown(teardown_partitioned)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();
BENCHMARK(BM_partitioned_cross_completion)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(8)
    ->Setup(setup_partitioned)
    ->Teardown(teardown_partitioned)
    ->ThreadRange(1, max_threads)
    ->UseRealTime();

// Resident memory of this process in KiB (Linux /proc/self/statm; 0 elsewhere).
double resident_kib() {
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * 4.0;  // ASSUMPTION: 4 KiB pages (x86-64 and arm64 Linux defaults)
}

void BM_exact_under_writes_1_per_ms(benchmark::State& state) {
  const char* env = std::getenv("JOULESCHED_CHURN_S");
  const double seconds = env ? std::atof(env) : 60.0;
  const unsigned routers = std::max(1u, std::thread::hardware_concurrency() - 1);
  for (auto _ : state) {
    concurrent_fleet cf(three_class_fleet(), shards_per_class);
    const double rss0 = resident_kib();
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> decisions{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < routers; ++t) {
      threads.emplace_back([&, t] {
        concurrent_argmin_router<joulesched_cost> router(cf, joulesched_cost(lambda_j_per_s));
        const auto vs = requests(t + 1);
        std::vector<assignment> ring(window);
        std::vector<bool> used(window, false);
        std::uint64_t k = 0;
        for (; !stop.load(std::memory_order_relaxed); ++k) {
          const std::size_t slot = k % window;
          if (used[slot]) router.release(ring[slot]);
          const auto a = router.route(vs[k % vs.size()]);
          used[slot] = a.has_value();
          if (a) ring[slot] = *a;
        }
        for (std::size_t i = 0; i < window; ++i)
          if (used[i]) router.release(ring[i]);
        decisions += k;
      });
    }
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t writes = 0;
    std::size_t most_alive = 0;
    double rss_1s = 0;
    std::vector<bool> changed(cf.size(), false);
    for (auto next = start; std::chrono::duration<double>(next - start).count() < seconds;
         next += std::chrono::milliseconds(1)) {
      std::this_thread::sleep_until(next);
      const auto id = static_cast<device_id>(writes % 288);  // an A100 or H100: re-profiled, or drained
      changed[id] = !changed[id];
      if (writes % 2 == 0) cf.set_params(id, changed[id] == (id < 160) ? h100 : a100);
      else cf.set_available(id, !changed[id]);
      ++writes;
      most_alive = std::max(most_alive, cf.snapshot_count());
      if (writes == 1000) rss_1s = resident_kib();  // after a second: threads and their stacks are resident
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stop = true;
    for (auto& th : threads) th.join();
    state.counters["writes"] = static_cast<double>(writes);
    state.counters["writes_per_s"] = static_cast<double>(writes) / wall;
    state.counters["routes_per_s"] = static_cast<double>(decisions.load()) / wall;
    state.counters["snapshots_alive_max"] = static_cast<double>(most_alive);
    state.counters["rss_start_kib"] = rss0;
    state.counters["rss_1s_kib"] = rss_1s;
    state.counters["rss_end_kib"] = resident_kib();
    state.counters["router_threads"] = routers;
  }
}
BENCHMARK(BM_exact_under_writes_1_per_ms)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

// The benchmark checks its own answers: one thread, the benchmarked fleet and requests, the same ring of
// releases; the concurrent exact router must choose what argmin_router chooses at every step.
bool concurrent_exact_matches_argmin_router() {
  fleet f(three_class_fleet());
  concurrent_fleet cf(three_class_fleet(), shards_per_class);
  argmin_router<joulesched_cost> reference(f, joulesched_cost(lambda_j_per_s));
  concurrent_argmin_router<joulesched_cost> router(cf, joulesched_cost(lambda_j_per_s));
  const auto vs = requests(1);
  std::vector<assignment> ring(window);
  for (std::size_t k = 0; k < 100000; ++k) {
    const std::size_t slot = k % window;
    if (k >= window) {
      reference.release(ring[slot]);
      router.release(ring[slot]);
    }
    const auto expected = reference.route(vs[k % vs.size()]);
    const auto got = router.route(vs[k % vs.size()]);
    if (!expected || !got || expected->device != got->device) {
      std::fprintf(stderr, "self-check failed at decision %zu\n", k);
      return false;
    }
    ring[slot] = *got;
  }
  return true;
}

// And for the partitioned router: the benchmarked fleet dealt into 2 partitions, requests alternating between
// them, releases posted through the inbox; each partition must choose what an argmin_router over a fleet of its
// own devices chooses (ids mapped through the plan), at every step.
bool partitioned_matches_argmin_router() {
  const partition_plan p(three_class_fleet(), 2);
  std::vector<std::unique_ptr<partitioned_router<joulesched_cost>>> routers;
  std::vector<std::unique_ptr<fleet>> fleets;
  std::vector<argmin_router<joulesched_cost>> references;
  for (std::size_t part = 0; part < 2; ++part) {
    routers.push_back(std::make_unique<partitioned_router<joulesched_cost>>(p, part, joulesched_cost(lambda_j_per_s)));
    fleets.push_back(std::make_unique<fleet>(p.member_params(part)));
    references.emplace_back(*fleets.back(), joulesched_cost(lambda_j_per_s));
  }
  const auto vs = requests(1);
  std::vector<assignment> ring(window);
  for (std::size_t k = 0; k < 100000; ++k) {
    const std::size_t part = k % 2, slot = k % window;
    if (k >= window) {
      const assignment old = ring[slot];
      const std::uint32_t owner = p.owner(old.device);
      if (!routers[owner]->post_release(old)) return false;
      references[owner].release(assignment{p.local_id(old.device), old.work_ns});
    }
    const auto expected = references[part].route(vs[k % vs.size()]);
    const auto got = routers[part]->route(vs[k % vs.size()]);
    if (!expected || !got || p.members(part)[expected->device] != got->device) {
      std::fprintf(stderr, "partitioned self-check failed at decision %zu\n", k);
      return false;
    }
    ring[slot] = *got;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!concurrent_exact_matches_argmin_router() || !partitioned_matches_argmin_router()) return EXIT_FAILURE;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return EXIT_FAILURE;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}
