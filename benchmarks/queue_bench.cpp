// queue_bench: per-device request queues (EDF and LLF) in a steady state, against std::priority_queue in the
// same run.
//
// Names: queue/<edf|llf>/<queue>/<push_pop|push_cancel>/<depth>. Queues:
//   boost_dary   joulesched::deadline_queue on its default heap (Boost.Heap 4-ary, mutable_<true>)
//   intrusive    joulesched::intrusive_deadline_queue (Boost.Intrusive multiset over a hook in the request)
//   std_pq       std::priority_queue of the same queue_entry {key, seq, request}: the baseline (cannot cancel)
//   boost_dary_immutable  Boost.Heap 4-ary without mutable_<true> (cannot cancel): what mutability costs
//
// One timed iteration is one pair of operations at constant depth:
//   push_pop     push a new request, pop the top (the classic "hold" model: the new request's deadline is the
//                popped key plus a random budget, so keys advance like time and land all over the queue);
//   push_cancel  cancel a uniformly random queued request (by handle / by pointer), push a new one.
// Google Benchmark's time column is ns per pair; ns_per_op is half of it; p50/p99/p99.9 are percentiles of
// per-pair means over batches of 32 pairs (support/batch_timer.hpp). allocs_per_push counts heap allocations
// in the timed loop per pushed request (alloc_count.hpp).
//
// Self-checks (SkipWithError on failure): before timing, 2 x depth (at least 4,096) warm-up pairs run in
// lockstep with a std::set of (key, arrival) and every pop (push_pop) or top (push_cancel) must match it; after timing,
// the queue is drained and must come out in (key, arrival) order with exactly `depth` requests.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/heap/d_ary_heap.hpp>

#include "alloc_count.hpp"
#include "joulesched/queues/deadline_queue.hpp"
#include "joulesched/queues/intrusive_queue.hpp"
#include "support/batch_timer.hpp"

namespace js = joulesched;
namespace jb = joulesched::bench;

namespace {

constexpr double rate_tok_s = 2000.0;  // LLF: the device's service rate
constexpr std::size_t arrival_ring = std::size_t{1} << 16;

/// A request stored by value (32 bytes). RequestWithWork through its members.
struct vreq {
  double deadline_s;
  double input_tok;
  double work_tok;
  std::uint64_t id;  // arrival number: (key, id) is the order every queue must produce
};

/// The same request with the intrusive queue's hook embedded (80 bytes).
struct ireq {
  double deadline_s;
  double input_tok;
  double work_tok;
  std::uint64_t id;
  js::queue_hook hook;
};
static_assert(js::RequestWithWork<vreq> && js::RequestWithWork<ireq>);

struct popped {
  double key;
  std::uint64_t id;
};

// Budgets: 70 % interactive U(0.5, 5) s, 30 % bulk U(20, 120) s; work lognormal (median 250 tokens).
struct arrival {
  double budget_s;
  double work_tok;
};
std::vector<arrival> make_arrivals(std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::lognormal_distribution<double> work(std::log(250.0), 1.0);
  std::vector<arrival> out(arrival_ring);
  for (auto& a : out) {
    a.budget_s = u(g) < 0.3 ? 20.0 + 100.0 * u(g) : 0.5 + 4.5 * u(g);
    a.work_tok = std::round(std::clamp(work(g), 1.0, 8192.0));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Adapters: push returns a handle, pop returns the popped key and id, cancel takes a handle.
template <class Key>
class boost_dary {
 public:
  using queue = js::deadline_queue<vreq, Key>;
  using handle = typename queue::handle_type;
  static constexpr bool can_cancel = true;
  boost_dary(Key key, std::size_t) : q_(std::move(key)) {}
  handle push(const vreq& r) { return q_.push(r); }
  popped peek() const { return {q_.top_key(), q_.top().id}; }
  popped pop() {
    const double k = q_.top_key();
    return {k, q_.pop().id};
  }
  void cancel(handle h) { q_.cancel(h); }
  [[nodiscard]] std::size_t size() const { return q_.size(); }

 private:
  queue q_;
};

template <class Key>
class intrusive {
 public:
  using handle = ireq*;
  static constexpr bool can_cancel = true;
  // depth + 1 request objects (a pair pushes before it pops), handed out from a free stack.
  intrusive(Key key, std::size_t depth) : pool_(depth + 1), q_(std::move(key)) {
    free_.reserve(pool_.size());
    for (auto& r : pool_) free_.push_back(&r);
  }
  handle push(const vreq& r) {
    ireq* p = free_.back();
    free_.pop_back();
    p->deadline_s = r.deadline_s;
    p->input_tok = r.input_tok;
    p->work_tok = r.work_tok;
    p->id = r.id;
    return q_.push(*p);
  }
  popped peek() const { return {q_.top_key(), q_.top().id}; }
  popped pop() {
    const double k = q_.top_key();
    ireq& r = q_.pop();
    free_.push_back(&r);
    return {k, r.id};
  }
  void cancel(handle h) {
    q_.cancel(h);
    free_.push_back(h);
  }
  [[nodiscard]] std::size_t size() const { return q_.size(); }

 private:
  std::vector<ireq> pool_;  // declared before the queue: the queue unlinks them when it is destroyed
  std::vector<ireq*> free_;
  js::intrusive_deadline_queue<ireq, &ireq::hook, Key> q_;
};

// A queue that cannot cancel, over Boost's d-ary heap without mutable handles or over std::priority_queue, with
// room for depth + 1 entries either way.
template <class Key, class Queue>
class uncancellable {
 public:
  using handle = int;
  static constexpr bool can_cancel = false;
  uncancellable(Key key, std::size_t depth) : key_(std::move(key)), q_(reserved(depth + 1)) {}
  handle push(const vreq& r) {
    q_.push(js::queue_entry<vreq>{static_cast<double>(key_(r)), seq_++, r});
    return 0;
  }
  popped peek() const { return {q_.top().key, q_.top().value.id}; }
  popped pop() {
    const popped p{q_.top().key, q_.top().value.id};
    q_.pop();
    return p;
  }
  void cancel(handle) {}
  [[nodiscard]] std::size_t size() const { return q_.size(); }

 private:
  static Queue reserved(std::size_t n) {
    if constexpr (requires(Queue& q) { q.reserve(n); }) {
      Queue q;
      q.reserve(n);
      return q;
    } else {  // std::priority_queue: reserve its container, then adopt it
      std::vector<js::queue_entry<vreq>> v;
      v.reserve(n);
      return Queue(js::queue_entry_after{}, std::move(v));
    }
  }

  Key key_;
  std::uint64_t seq_ = 0;
  Queue q_;
};

using ventry = js::queue_entry<vreq>;

template <class Key>
using std_pq = uncancellable<Key, std::priority_queue<ventry, std::vector<ventry>, js::queue_entry_after>>;

template <class Key>
using boost_dary_immutable =
    uncancellable<Key,
                  boost::heap::d_ary_heap<ventry, boost::heap::arity<4>, boost::heap::compare<js::queue_entry_after>>>;

// ---------------------------------------------------------------------------------------------------------
std::string msg(const char* what, std::size_t step) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s (step %zu)", what, step);
  return buf;
}

// Drains q; true when it yields exactly `depth` requests in (key, id) order.
template <class A>
bool drain_in_order(A& q, std::size_t depth) {
  std::size_t n = 0;
  popped prev{-INFINITY, 0};
  while (q.size() > 0) {
    const popped p = q.pop();
    if (p.key < prev.key || (p.key == prev.key && n > 0 && p.id <= prev.id)) return false;
    prev = p;
    ++n;
  }
  return n == depth;
}

// wall_ns: the timed loop's wall-clock time, as Google Benchmark's real-time column.
void report(benchmark::State& st, jb::batch_timer& timer, std::uint64_t allocs, double wall_ns,
            std::uint64_t switches) {
  const auto pairs = static_cast<double>(st.iterations());
  st.SetItemsProcessed(st.iterations() * 2);
  st.counters["ns_per_op"] = pairs > 0 ? wall_ns / (2.0 * pairs) : 0.0;
  jb::report_distribution(st, timer, switches);
  st.counters["allocs_per_push"] = pairs > 0 ? static_cast<double>(allocs) / pairs : 0.0;
}

// Times `pair` (one pair of operations per iteration) with the batch timer and reports it; then q, of `depth`
// requests, must drain in (key, arrival) order. Out of line so that a profiler can collect it alone (callgrind
// --toggle-collect='*time_pairs*'); with QUEUE_BENCH_ITERATIONS=n each benchmark runs n pairs once.
template <class A, class Pair>
[[gnu::noinline]] void time_pairs(benchmark::State& st, A& q, std::size_t depth, Pair pair) {
  jb::batch_timer timer(32, std::size_t{1} << 21);
  const std::uint64_t switches_before = jb::involuntary_switches();
  const std::uint64_t allocs_before = jb::allocation_count();
  const auto t0 = std::chrono::steady_clock::now();
  timer.start();
  for (auto _ : st) {
    pair();
    timer.tick();
  }
  const auto t1 = std::chrono::steady_clock::now();
  const std::uint64_t allocs = jb::allocation_count() - allocs_before;
  report(st, timer, allocs, std::chrono::duration<double, std::nano>(t1 - t0).count(),
         jb::involuntary_switches() - switches_before);
  if (!drain_in_order(q, depth)) st.SkipWithError("after timing: the queue did not drain in (key, arrival) order");
}

template <class A, class Key>
void bm_push_pop(benchmark::State& st, Key key, std::size_t depth) {
  const auto arr = make_arrivals(depth * 31 + 1);
  A q(key, depth);
  std::uint64_t id = 0;
  std::size_t next = 0;
  double now = 0.0;
  auto make = [&]() {
    const arrival& a = arr[next++ & (arrival_ring - 1)];
    return vreq{now + a.budget_s, 100.0, a.work_tok, id++};
  };
  // Fill and warm up, checking every pop against a reference ordered set.
  std::set<std::pair<double, std::uint64_t>> ref;
  for (std::size_t i = 0; i < depth; ++i) {
    const vreq r = make();
    ref.emplace(key(r), r.id);
    q.push(r);
  }
  const std::size_t warm = std::max<std::size_t>(2 * depth, 4096);
  for (std::size_t i = 0; i < warm; ++i) {
    const vreq r = make();
    ref.emplace(key(r), r.id);
    q.push(r);
    const popped p = q.pop();
    if (ref.empty() || ref.begin()->first != p.key || ref.begin()->second != p.id)
      return st.SkipWithError(msg("pop order differs from the reference", i).c_str());
    ref.erase(ref.begin());
    now = p.key;
  }
  ref.clear();

  time_pairs(st, q, depth, [&] {
    q.push(make());
    now = q.pop().key;
  });
}

template <class A, class Key>
void bm_push_cancel(benchmark::State& st, Key key, std::size_t depth) {
  const auto arr = make_arrivals(depth * 37 + 2);
  std::vector<std::uint32_t> victims(arrival_ring);
  {
    std::mt19937_64 g(depth);
    std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(depth - 1));
    for (auto& v : victims) v = pick(g);
  }
  A q(key, depth);
  std::vector<typename A::handle> handles(depth);
  std::vector<std::pair<double, std::uint64_t>> slot_key(depth);  // for the reference only
  std::uint64_t id = 0;
  std::size_t next = 0;
  double now = 0.0;
  auto make = [&]() {
    const arrival& a = arr[next & (arrival_ring - 1)];
    now += 1e-3;  // no pops: time moves on slowly so that new deadlines keep mixing with old ones
    return vreq{now + a.budget_s, 100.0, a.work_tok, id++};
  };
  std::set<std::pair<double, std::uint64_t>> ref;
  for (std::size_t j = 0; j < depth; ++j) {
    const vreq r = make();
    ++next;
    slot_key[j] = {key(r), r.id};
    ref.insert(slot_key[j]);
    handles[j] = q.push(r);
  }
  const std::size_t warm = std::max<std::size_t>(2 * depth, 4096);
  for (std::size_t i = 0; i < warm; ++i) {
    const std::uint32_t j = victims[next & (arrival_ring - 1)];
    q.cancel(handles[j]);
    ref.erase(slot_key[j]);
    const vreq r = make();
    ++next;
    slot_key[j] = {key(r), r.id};
    ref.insert(slot_key[j]);
    handles[j] = q.push(r);
    if (q.size() != ref.size()) return st.SkipWithError(msg("size differs from the reference", i).c_str());
    const popped t = q.peek();
    if (ref.begin()->first != t.key || ref.begin()->second != t.id)
      return st.SkipWithError(msg("top differs from the reference", i).c_str());
  }
  ref.clear();

  time_pairs(st, q, depth, [&] {
    const std::uint32_t j = victims[next & (arrival_ring - 1)];
    q.cancel(handles[j]);
    handles[j] = q.push(make());
    ++next;
  });
}

template <template <class> class A>
void register_queue(const char* name) {
  for (const std::size_t depth : {16u, 256u, 4096u, 100000u}) {
    const std::string d = std::to_string(depth);
    auto reg = [&](const char* kind, const char* op, auto fn) {
      const std::string full = std::string("queue/") + kind + "/" + name + "/" + op + "/" + d;
      auto* b = benchmark::RegisterBenchmark(full.c_str(), fn);
      if (const char* it = std::getenv("QUEUE_BENCH_ITERATIONS")) b->Iterations(std::strtoll(it, nullptr, 10));
    };
    reg("edf", "push_pop", [depth](benchmark::State& st) { bm_push_pop<A<js::edf_key>>(st, js::edf_key{}, depth); });
    reg("llf", "push_pop",
        [depth](benchmark::State& st) { bm_push_pop<A<js::llf_key>>(st, js::llf_key{rate_tok_s}, depth); });
    if constexpr (A<js::edf_key>::can_cancel) {
      reg("edf", "push_cancel",
          [depth](benchmark::State& st) { bm_push_cancel<A<js::edf_key>>(st, js::edf_key{}, depth); });
      reg("llf", "push_cancel",
          [depth](benchmark::State& st) { bm_push_cancel<A<js::llf_key>>(st, js::llf_key{rate_tok_s}, depth); });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!jb::allocation_self_check()) {
    std::fprintf(stderr, "queue_bench: the allocation counter does not see allocations; refusing to run\n");
    return 1;
  }
  register_queue<std_pq>("std_pq");
  register_queue<boost_dary>("boost_dary");
  register_queue<intrusive>("intrusive");
  register_queue<boost_dary_immutable>("boost_dary_immutable");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
