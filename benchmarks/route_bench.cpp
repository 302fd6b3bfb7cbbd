// route_bench: single-thread decision latency of every router, including the reservation and the matching
// release, against `naive_scan` (the plain loop over all devices) in the same run.
//
// Names: route/<policy>/<devices>/<classes>, e.g. `--benchmark_filter='route/(naive_scan|energy)/320/'`.
// `energy` is argmin_router<joulesched_cost> (floor order, stopping early); `energy_every_class` the same router
// with argmin_path::every_class; `carbon` argmin_router<carbon_cost> (one site, the energy router's decisions).
// ROUTE_BENCH_OVERLOAD=1 makes every request late (see make_requests). Every policy runs over a fleet with class heaps
// except power_of_two_flat (power_of_two over a fleet built with fleet_index::none, which keeps only loads and
// availability).
//
// Steady state (what one timed iteration is): the fleet carries K = 8 x devices outstanding assignments in a
// FIFO ring. Each iteration routes the next request of a pre-generated stream (which reserves its work on the
// chosen device) and then releases the oldest outstanding assignment (the completion of a request routed K
// decisions earlier), so the load stays at K requests. Before timing, the ring is filled and turned over once
// (2K decisions), so the timed state is the one the policy itself produces. The O(n) policies (energy_scan,
// naive_scan) are warmed with the class-indexed `energy` router instead: all three are exact over the same
// cost and tie order, so they make identical decisions (checked below), and the warm-up at 100,000 devices
// takes 0.3 s instead of minutes. FIFO completion ignores that faster devices finish sooner; it keeps the
// load level and the mix of late and on-time devices stable, which is what the decision cost depends on.
//
// Distributions: the clock is read once per batch of 8 decisions (once per decision for the O(n) policies at
// 4,096 devices and up, where a decision takes microseconds); p50/p99/p99.9 are percentiles of per-decision
// batch means (see support/batch_timer.hpp for what that hides). Why 8: a clock read costs about 30 ns here, so
// batch 8 adds about 4 ns to each decision (counted in the figures, not subtracted), while a batch stays near
// 1 us. Longer batches smooth real slow decisions over more neighbours and are more often hit by the machine's
// own interruptions (about 300 a second on the shared guest the figures come from), which then set the p99.9;
// the harness/floor benchmarks show that share. ROUTE_BENCH_BATCH=n in the environment sets another batch.
// Google Benchmark's own time column is the mean per decision, clock reads included.
//
// Self-checks (SkipWithError on failure): before the first timed run of each benchmark, and after every
// timed run on the state the timed inputs left, a sample of decisions is replayed step by step on the same
// stream: every exact router's pick must equal tests/support/brute_force.hpp's argmin over its own cost, and
// for the JouleSched cost `naive_scan` must agree too (three-way); round_robin must take the next device;
// random and power_of_two(_flat) are checked for validity (a device of the fleet, with the work reserved on it).
// Heap allocations inside the timed loop are counted (alloc_count.hpp) and must be zero.
//
// Counters: p50_ns, p99_ns, p999_ns (batch means, per decision); batch, samples; outlier_share (batches above
// 20x the median) and preempted_share (involuntary context switches per sample): read the tail with these on a
// shared host; allocs_per_decision; late_share (chosen device misses the request's budget by its ETA) and
// penalty_share (the lambda = 20 J/s argmin differs from the lambda = 0 one), both from the pre-timing check;
// checked (decisions checked so far). ROUTE_BENCH_ITERATIONS=n in the environment runs each benchmark once
// with exactly n decisions (for profilers). Results and commands: RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "alloc_count.hpp"
#include "joulesched/control/site_carbon.hpp"
#include "joulesched/cost/carbon_cost.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/random_router.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/tiers/classifiers.hpp"
#include "support/batch_timer.hpp"
#include "support/brute_force.hpp"  // tests/support: the reference argmin the unit tests use

namespace js = joulesched;
namespace jb = joulesched::bench;

namespace {

// ---------------------------------------------------------------------------------------------------------
// Workload. Device classes for 3 classes: rate and energy of Llama-3.1-8B on A100-SXM4-40GB (batch 128) and
// H100 80GB (batch 192) from ML.ENERGY v2 (../shared/data/energy/mlenergy_v2_llm_energy_A100_H100.csv); the
// L4 row is an assumption (no L4 serving measurement exists). Shares 50/40/10 % as in the JouleSched fleet
// (160 A100, 128 H100, 32 L4). 16 classes: rates 400..3000 tok/s and energies 0.10..0.30 J/tok, permuted so
// that the fastest class is not the cheapest, equal shares. These only shape the decisions; the benchmark
// measures decision cost, not energy.
constexpr double lambda_j_per_s = 20.0;      // the SLO price of `energy` and of the tiered interactive router
constexpr double bulk_lambda_j_per_s = 1.0;  // tiered: the bulk router's price
constexpr double bulk_slack_s = 10.0;        // tiered: bulk when the budget is at least this
constexpr std::size_t outstanding_per_device = 8;
constexpr std::size_t request_ring = std::size_t{1} << 16;  // pre-generated requests, cycled

struct device_class {
  double rate_tok_s;
  double energy_j_per_tok;
  double share;
};

std::vector<device_class> classes_for(std::size_t c) {
  if (c == 3) return {{1516.8, 0.1239, 0.5}, {2474.6, 0.1188, 0.4}, {400.0, 0.150, 0.1}};
  std::vector<device_class> out;
  for (std::size_t k = 0; k < c; ++k) {
    const double x = c == 1 ? 0.0 : static_cast<double>(k) / static_cast<double>(c - 1);
    const double y = c == 1 ? 0.0 : static_cast<double>((k * 7) % c) / static_cast<double>(c - 1);
    out.push_back({400.0 + 2600.0 * x, 0.10 + 0.20 * y, 1.0 / static_cast<double>(c)});
  }
  return out;
}

// A class's parameters with its prefill priced. ASSUMPTION, shaped after the shipped device models (H100 at its
// nominal batch prefills about as fast per token as it decodes, and draws more while it does): prefill at 10x the
// decode rate per token at 2x the decode energy per token, and a fixed 5 ms and 3 J per request (the prefill
// pass's weight read).
js::device_params priced(const device_class& c) {
  js::device_params p{c.rate_tok_s, c.energy_j_per_tok, 0, nullptr};
  p.prefill_s_per_tok = 1.0 / (10.0 * c.rate_tok_s);
  p.prefill_j_per_tok = 2.0 * c.energy_j_per_tok;
  p.request_s = 0.005;
  p.request_j = 3.0;
  return p;
}

// n devices, every class present (n >= classes), ids shuffled so that a class's devices are scattered.
std::vector<js::device_params> make_params(std::size_t n, std::size_t c) {
  const auto cls = classes_for(c);
  std::vector<std::size_t> count(cls.size(), 1);
  std::size_t used = cls.size();
  for (std::size_t k = 0; k < cls.size(); ++k) {
    const auto want = static_cast<std::size_t>(cls[k].share * static_cast<double>(n));
    const std::size_t extra = want > 1 ? std::min(want - 1, n - used) : 0;
    count[k] += extra;
    used += extra;
  }
  for (std::size_t k = 0; used < n; k = (k + 1) % cls.size(), ++used) ++count[k];
  std::vector<js::device_params> ps;
  ps.reserve(n);
  for (std::size_t k = 0; k < cls.size(); ++k)
    for (std::size_t i = 0; i < count[k]; ++i) ps.push_back(priced(cls[k]));
  std::mt19937_64 g(n * 131 + c);
  std::shuffle(ps.begin(), ps.end(), g);
  return ps;
}

// ROUTE_BENCH_OVERLOAD=1 in the environment: every budget U(0, 0.01) s instead, so that every device is late
// and the SLO penalty decides every decision (an overloaded fleet).
bool overload() {
  static const bool on = [] {
    const char* e = std::getenv("ROUTE_BENCH_OVERLOAD");
    return e != nullptr && std::string(e) == "1";
  }();
  return on;
}

// Output tokens lognormal (median 250, sigma 1, 1..8192), prompts lognormal (median 500, sigma 1, 1..32768);
// 70 % interactive with budgets U(0.5, 5) s and a TTFT budget of U(0.2, 2) s, 30 % bulk with U(20, 120) s and no
// TTFT budget. Tight interactive budgets against queues of seconds make the SLO penalty bite often.
std::vector<js::request_view> make_requests(std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::lognormal_distribution<double> work(std::log(250.0), 1.0), input(std::log(500.0), 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<js::request_view> out(request_ring);
  for (auto& v : out) {
    v.work_tok = static_cast<std::uint32_t>(std::clamp(work(g), 1.0, 8192.0));
    v.input_tok = static_cast<std::uint32_t>(std::clamp(input(g), 1.0, 32768.0));
    const bool bulk = u(g) < 0.3;
    v.budget_s = bulk ? 20.0 + 100.0 * u(g) : 0.5 + 4.5 * u(g);
    if (overload()) v.budget_s = 0.01 * u(g);
    v.ttft_budget_s = bulk ? js::max_budget_s : std::min(v.budget_s, 0.2 + 1.8 * u(g));
    v.tier = bulk ? js::tier::bulk : js::tier::interactive;
  }
  return out;
}

const js::joulesched_cost& energy_cost(double lambda) {
  static const js::joulesched_cost interactive(lambda_j_per_s), bulk(bulk_lambda_j_per_s), pure(0.0);
  return lambda == lambda_j_per_s ? interactive : lambda == bulk_lambda_j_per_s ? bulk : pure;
}

// ---------------------------------------------------------------------------------------------------------
// The baseline: what an engineer writes first. A vector of devices {mu, eps, prefill and per-request seconds and
// joules, B}; one pass computing, for a request of p prompt and t output tokens,
//   energy  = J_req + J_pre * p + (t - 1) * eps
//   first   = S_req + S_pre * p,   work = first + (t - 1) * (1 / mu),   n = B / work + 1
//   last    = first + (t - 1) * (n / mu) * (1 + (1 - 1/n) * (work - first)^-1 * first)
//   cost    = energy + lambda * (max(0, last - D) + max(0, first - D_ttft))   (the TTFT part if it has one)
// with B the reserved device-seconds: predict_behind for a device of batch 1 and no capacity limit (the request
// joins a batch of the n requests its backlog implies; batch-mates' prefills stall it); keep the least (cost, then
// reserved work, so that it breaks ties as the library does: the JouleSched cost is flat in load while a device
// is on time, so ties are common and a lowest-id tie-break would pile work on one device); then add
// ceil(latency) ns to B. The expressions are written in the same order as predict_service and joulesched_cost
// evaluate them, so both round identically (no -ffast-math, no FMA contraction at the default x86-64 target) and
// the answers can be compared with ==.
struct naive_device {
  double rate_tok_s;
  double energy_j_per_tok;
  double prefill_s_per_tok, prefill_j_per_tok, request_s, request_j;
  std::uint64_t reserved_ns;
};

[[nodiscard]] inline double naive_decode_tok(const js::request_view& v) noexcept {
  return v.work_tok > 0 ? static_cast<double>(v.work_tok - 1) : 0.0;
}

[[nodiscard]] inline double naive_first_s(const naive_device& d, const js::request_view& v) noexcept {
  return d.request_s + d.prefill_s_per_tok * static_cast<double>(v.input_tok);
}

// Device-seconds of the request on d (served alone, at batch 1, its latency).
[[nodiscard]] inline double naive_work_s(const naive_device& d, const js::request_view& v) noexcept {
  return naive_first_s(d, v) + naive_decode_tok(v) * (1.0 / d.rate_tok_s);
}

// The same in whole nanoseconds, rounded up (requests here are far below to_work_ns's 2^50 ns cap).
[[nodiscard]] inline std::uint64_t naive_work_ns(const naive_device& d, const js::request_view& v) noexcept {
  return static_cast<std::uint64_t>(std::ceil(naive_work_s(d, v) * 1e9));
}

[[nodiscard]] std::uint32_t naive_pick(const std::vector<naive_device>& ds, double lambda,
                                       const js::request_view& v) noexcept {
  const double decode_tok = naive_decode_tok(v);
  const double in = static_cast<double>(v.input_tok);
  const bool has_ttft = v.ttft_budget_s < js::max_budget_s;
  std::uint32_t best = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  std::uint64_t best_q = std::numeric_limits<std::uint64_t>::max();
  const auto n = static_cast<std::uint32_t>(ds.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const naive_device& d = ds[i];
    const double backlog_s = static_cast<double>(d.reserved_ns) * 1e-9;
    const double energy = d.request_j + d.prefill_j_per_tok * in + decode_tok * d.energy_j_per_tok;
    const double first = naive_first_s(d, v);
    const double work = first + decode_tok * (1.0 / d.rate_tok_s);
    // Behind the backlog: n = B / work + 1 requests like it, all in one batch (no capacity limit, so the first token
    // does not wait); the step n / mu, stretched by the others' prefills, (1 - 1/n) x first / decode-seconds.
    double last = backlog_s + work;
    if (work > 0.0) {
      const double batch = backlog_s / work + 1.0;
      const double decode_s = work - first;
      const double stall = decode_s > 0.0 ? (1.0 - 1.0 / batch) * first / decode_s : 0.0;
      last = first + decode_tok * ((0.0 + batch * std::max(0.0, 1.0 / d.rate_tok_s - 0.0 / 1.0)) * (1.0 + stall));
    }
    double late = std::max(0.0, last - v.budget_s);
    if (has_ttft) late += std::max(0.0, (work > 0.0 ? first : backlog_s + first) - v.ttft_budget_s);
    const double cost = 1.0 * energy + lambda * late;
    if (cost < best_cost || (cost == best_cost && d.reserved_ns < best_q)) {
      best = i;
      best_cost = cost;
      best_q = d.reserved_ns;
    }
  }
  return best;
}

class naive_scan {
 public:
  naive_scan(std::vector<naive_device> ds, double lambda) : devices_(std::move(ds)), lambda_(lambda) {}

  [[nodiscard]] std::optional<js::device_id> pick(const js::request_view& v) const noexcept {
    return naive_pick(devices_, lambda_, v);
  }
  [[nodiscard]] std::optional<js::assignment> route(const js::request_view& v) noexcept {
    const std::uint32_t id = naive_pick(devices_, lambda_, v);
    const std::uint64_t work_ns = naive_work_ns(devices_[id], v);
    devices_[id].reserved_ns += work_ns;
    return js::assignment{id, work_ns};
  }
  void release(const js::assignment& a) noexcept { devices_[a.device].reserved_ns -= a.work_ns; }
  [[nodiscard]] const std::vector<naive_device>& devices() const noexcept { return devices_; }

 private:
  std::vector<naive_device> devices_;
  double lambda_;
};

std::vector<naive_device> naive_devices_of(const js::fleet& f) {
  std::vector<naive_device> ds(f.size());
  for (js::device_id i = 0; i < f.size(); ++i)
    ds[i] = {f.params(i).rate_tok_s,        f.params(i).energy_j_per_tok, f.params(i).prefill_s_per_tok,
             f.params(i).prefill_j_per_tok, f.params(i).request_s,        f.params(i).request_j,
             f.load(i).reserved_ns};
  return ds;
}

// ---------------------------------------------------------------------------------------------------------
// Scenario: a fleet, a request stream and the FIFO ring of outstanding assignments.
struct scenario {
  scenario(std::size_t n, std::size_t c, js::fleet_index index)
      : fleet(make_params(n, c), "route_bench", index),
        reqs(make_requests(n * 7919 + c)),
        ring(outstanding_per_device * n) {}

  const js::request_view& next() noexcept { return reqs[next_req++ & (request_ring - 1)]; }

  js::fleet fleet;
  std::vector<js::request_view> reqs;
  std::size_t next_req = 0;
  std::vector<js::assignment> ring;
  std::size_t head = 0;
};

// A fleet whose loads are exactly those of the assignments in the ring (for checking naive_scan's state).
js::fleet fleet_of_ring(const scenario& s) {
  js::fleet f(std::vector<js::device_params>(s.fleet.all_params().begin(), s.fleet.all_params().end()));
  for (const auto& a : s.ring) f.reserve(a.device, a.work_ns);
  return f;
}

template <class R>
void fill_and_turn_over(R& r, scenario& s) {
  for (auto& a : s.ring) a = *r.route(s.next());
  for (std::size_t k = 0; k < s.ring.size(); ++k) {
    const auto a = *r.route(s.next());
    r.release(s.ring[s.head]);
    s.ring[s.head] = a;
    if (++s.head == s.ring.size()) s.head = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Policies.
enum class exactness { joulesched, other_exact, round_robin, valid_only };

using energy_router = js::argmin_router<js::joulesched_cost>;

struct energy_p {
  static constexpr const char* name = "energy";
  static constexpr exactness kind = exactness::joulesched;
  static constexpr bool linear = false;
  using router = energy_router;
  static router make(scenario& s) { return router(s.fleet, energy_cost(lambda_j_per_s)); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static double lambda_for(const js::request_view&) { return lambda_j_per_s; }
};

struct energy_scan_p {
  static constexpr const char* name = "energy_scan";
  static constexpr exactness kind = exactness::joulesched;
  static constexpr bool linear = true;
  using router = js::scan_router<js::joulesched_cost>;
  static router make(scenario& s) { return router(s.fleet, energy_cost(lambda_j_per_s)); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static double lambda_for(const js::request_view&) { return lambda_j_per_s; }
};

// The same router visiting every class in the fleet's order instead of stopping early in floor order.
struct energy_every_class_p : energy_p {
  static constexpr const char* name = "energy_every_class";
  using router = js::argmin_router<js::joulesched_cost, js::argmin_path::every_class>;
  static router make(scenario& s) { return router(s.fleet, energy_cost(lambda_j_per_s)); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
};

struct naive_scan_p {
  static constexpr const char* name = "naive_scan";
  static constexpr exactness kind = exactness::joulesched;
  static constexpr bool linear = true;
  using router = naive_scan;
  static router make(scenario& s) { return router(naive_devices_of(s.fleet), lambda_j_per_s); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static double lambda_for(const js::request_view&) { return lambda_j_per_s; }
};

using tiered_router = js::tiered_router<js::slack_classifier, energy_router, energy_router>;
struct tiered_p {
  static constexpr const char* name = "tiered";
  static constexpr exactness kind = exactness::joulesched;
  static constexpr bool linear = false;
  using router = tiered_router;
  static router make(scenario& s) {
    return router(js::slack_classifier(bulk_slack_s), energy_router(s.fleet, energy_cost(lambda_j_per_s)),
                  energy_router(s.fleet, energy_cost(bulk_lambda_j_per_s)));
  }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) {
    return r.classifier()(v) == js::tier::bulk ? r.bulk().pick(v) : r.interactive().pick(v);
  }
  static double lambda_for(const js::request_view& v) {
    return js::slack_classifier(bulk_slack_s)(v) == js::tier::bulk ? bulk_lambda_j_per_s : lambda_j_per_s;
  }
};

// The carbon-aware argmin: carbon_cost over one site at 400 g/kWh (a fixed test value), lambda the energy
// router's in grams (x g/J), so its decisions are the energy router's and the difference is the term's price.
const js::carbon_cost& carbon_cost_for_bench() {
  static js::site_carbon carbon(std::vector<double>{1.0});
  static const js::carbon_cost cost = [] {
    carbon.set_intensity(0, 400.0);
    return js::carbon_cost(carbon, lambda_j_per_s * carbon.g_per_j(0));
  }();
  return cost;
}

struct carbon_p {
  static constexpr const char* name = "carbon";
  static constexpr exactness kind = exactness::other_exact;
  static constexpr bool linear = false;
  using router = js::argmin_router<js::carbon_cost>;
  static router make(scenario& s) { return router(s.fleet, carbon_cost_for_bench()); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static const js::carbon_cost& cost() { return carbon_cost_for_bench(); }
};

struct least_loaded_p {
  static constexpr const char* name = "least_loaded";
  static constexpr exactness kind = exactness::other_exact;
  static constexpr bool linear = false;
  using router = js::least_loaded_router;
  static router make(scenario& s) { return router(s.fleet); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static js::reserved_work_cost cost() { return {}; }
};

struct least_eta_p {
  static constexpr const char* name = "least_eta";
  static constexpr exactness kind = exactness::other_exact;
  static constexpr bool linear = false;
  using router = js::least_eta_router;
  static router make(scenario& s) { return router(s.fleet); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
  static js::eta_cost cost() { return {}; }
};

struct round_robin_p {
  static constexpr const char* name = "round_robin";
  static constexpr exactness kind = exactness::round_robin;
  static constexpr bool linear = false;
  using router = js::round_robin_router;
  static router make(scenario& s) { return router(s.fleet); }
  static std::optional<js::device_id> pick(const router& r, const js::request_view& v) { return r.pick(v); }
};

struct random_p {
  static constexpr const char* name = "random";
  static constexpr exactness kind = exactness::valid_only;
  static constexpr bool linear = false;
  using router = js::random_router<>;
  static router make(scenario& s) { return router(s.fleet, 42); }
};

struct power_of_two_p {
  static constexpr const char* name = "power_of_two";
  static constexpr exactness kind = exactness::valid_only;
  static constexpr bool linear = false;
  using router = js::power_of_d_router<js::joulesched_cost>;
  static router make(scenario& s) { return router(s.fleet, 2, energy_cost(lambda_j_per_s), 42); }
};

// power_of_two over a fleet without class heaps (fleet_index::none), which it never reads.
struct power_of_two_flat_p : power_of_two_p {
  static constexpr const char* name = "power_of_two_flat";
  static constexpr js::fleet_index index = js::fleet_index::none;
};

// The fleet a policy runs on: with class heaps unless the policy says otherwise.
template <class P>
constexpr js::fleet_index index_of() {
  if constexpr (requires { P::index; }) {
    return P::index;
  } else {
    return js::fleet_index::by_class;
  }
}

template <class P>
constexpr bool is_naive = std::is_same_v<P, naive_scan_p>;

// ---------------------------------------------------------------------------------------------------------
// The state one benchmark keeps between Google Benchmark's calls of it (it calls a benchmark several times
// while it sizes the iteration count, and once per repetition): one slot, dropped when another benchmark
// starts, so at most one 100,000-device scenario lives at a time.
template <class P>
struct bench_state {
  bench_state(std::size_t n, std::size_t c) : s(n, c, index_of<P>()), r(P::make(s)) {}
  scenario s;
  typename P::router r;
  std::string error;           // from the pre-timing check
  double late_share = 0.0;     // chosen device misses the request's budget by its ETA
  double penalty_share = 0.0;  // the lambda > 0 argmin differs from the pure-energy (lambda = 0) argmin
  std::size_t checked = 0;     // decisions checked so far (before and after timing)
};

std::shared_ptr<void> g_slot;
std::string g_slot_key;

struct check_out {
  std::string error;
  std::size_t late = 0, penalty = 0;
};

std::string fail_msg(const char* what, std::size_t step, std::optional<js::device_id> got,
                     std::optional<js::device_id> want) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s at checked step %zu: got %lld, expected %lld", what, step,
                got ? static_cast<long long>(*got) : -1LL, want ? static_cast<long long>(*want) : -1LL);
  return buf;
}

// Replays `steps` decisions of the stream on the benchmark's own state, checking each (see the file comment).
// The state advances exactly as in the timed loop (route, then release the oldest), so the check runs on the
// benchmarked inputs. It keeps two representations of the load in step: the fleet (for the brute force) and a
// naive device vector (for naive_scan, and as an independent ledger of the reservations); the one the policy
// does not own is a mirror built at the start.
template <class P>
check_out check(bench_state<P>& b, std::size_t steps, bool stats) {
  check_out out;
  scenario& s = b.s;
  std::optional<js::fleet> mirror_fleet;
  std::optional<std::vector<naive_device>> mirror_naive;
  if constexpr (is_naive<P>) mirror_fleet.emplace(fleet_of_ring(s));
  js::fleet& f = is_naive<P> ? *mirror_fleet : s.fleet;
  if constexpr (!is_naive<P>) mirror_naive.emplace(naive_devices_of(f));
  auto ledger = [&]() -> const std::vector<naive_device>& {
    if constexpr (is_naive<P>) return b.r.devices();
    else return *mirror_naive;
  };
  std::optional<js::device_id> last;
  const auto n = static_cast<js::device_id>(f.size());

  for (std::size_t k = 0; k < steps; ++k) {
    auto fail = [&](const char* what, std::optional<js::device_id> got, std::optional<js::device_id> want) {
      out.error = fail_msg(what, k, got, want);
      return out;
    };
    const js::request_view v = s.next();
    std::optional<js::device_id> want, got;
    if constexpr (P::kind == exactness::joulesched) {
      const double lambda = P::lambda_for(v);
      want = js::test::brute_force_argmin(f, energy_cost(lambda), v);
      got = P::pick(b.r, v);
      if (got != want) return fail("router != brute-force argmin", got, want);
      const std::optional<js::device_id> naive = naive_pick(ledger(), lambda, v);
      if (naive != want) return fail("naive_scan != brute-force argmin", naive, want);
    } else if constexpr (P::kind == exactness::other_exact) {
      want = js::test::brute_force_argmin(f, P::cost(), v);
      got = P::pick(b.r, v);
      if (got != want) return fail("router != brute-force argmin", got, want);
    } else if constexpr (P::kind == exactness::round_robin) {
      got = P::pick(b.r, v);
      want = last ? std::optional<js::device_id>((*last + 1) % n) : got;
      if (got != want) return fail("round_robin skipped a device", got, want);
    }
    if (stats) {
      const auto pure = js::test::brute_force_argmin(f, energy_cost(0.0), v);
      const auto priced = js::test::brute_force_argmin(f, energy_cost(lambda_j_per_s), v);
      out.penalty += pure != priced;
    }

    // Route, exactly as the timed loop does; the work must be reserved on the chosen device and nowhere else
    // (the fleet's load of that device must equal the ledger's plus the request's work).
    const auto a = b.r.route(v);
    if (!a || a->device >= n || !f.available(a->device))
      return fail("route returned no valid device", std::nullopt, want);
    if (want && a->device != *want) return fail("route != pick", a->device, want);
    if (a->work_ns != js::reserved_work_ns(f.params(a->device), v))
      return fail("assignment does not carry the request's work", a->device, want);
    if constexpr (is_naive<P>) f.reserve(a->device, a->work_ns);
    const std::uint64_t q_after = f.load(a->device).reserved_ns;
    if constexpr (is_naive<P>) {
      if (ledger()[a->device].reserved_ns != q_after)
        return fail("naive_scan's load diverged from the fleet", a->device, want);
    } else {
      if ((*mirror_naive)[a->device].reserved_ns + a->work_ns != q_after)
        return fail("work not reserved on the chosen device", a->device, want);
      (*mirror_naive)[a->device].reserved_ns += a->work_ns;
    }
    out.late += (static_cast<double>(q_after) * 1e-9 > v.budget_s);  // its backlog, itself included, in seconds
    last = a->device;

    const js::assignment old = s.ring[s.head];
    b.r.release(old);
    if constexpr (is_naive<P>) f.release(old);
    if (mirror_naive) (*mirror_naive)[old.device].reserved_ns -= old.work_ns;
    if (ledger()[old.device].reserved_ns != f.load(old.device).reserved_ns)
      return fail("release did not give back the work", old.device, std::nullopt);
    s.ring[s.head] = *a;
    if (++s.head == s.ring.size()) s.head = 0;
  }
  return out;
}

template <class P>
bench_state<P>& acquire(std::size_t n, std::size_t c) {
  const std::string key = std::string(P::name) + "/" + std::to_string(n) + "/" + std::to_string(c);
  if (g_slot_key != key) {
    g_slot.reset();  // free the previous benchmark's scenario first
    auto b = std::make_shared<bench_state<P>>(n, c);
    if constexpr (P::linear) {
      energy_router warm(b->s.fleet, energy_cost(lambda_j_per_s));
      fill_and_turn_over(warm, b->s);
      if constexpr (is_naive<P>) b->r = P::make(b->s);  // take over the warmed loads
    } else {
      fill_and_turn_over(b->r, b->s);
    }
    const std::size_t steps = std::clamp<std::size_t>(20'000'000 / n, 100, 5000);
    const check_out o = check(*b, steps, true);
    b->error = o.error;
    b->late_share = static_cast<double>(o.late) / static_cast<double>(steps);
    b->penalty_share = static_cast<double>(o.penalty) / static_cast<double>(steps);
    b->checked = steps;
    g_slot = b;
    g_slot_key = key;
  }
  return *static_cast<bench_state<P>*>(g_slot.get());
}

// The timed loop, out of line so that a profiler can collect it alone (callgrind --toggle-collect='*timed_loop*';
// see RESULTS.md). Everything it calls is inlined into it as usual. Returns false if a route came back empty.
template <class P>
[[gnu::noinline]] bool timed_loop(benchmark::State& st, bench_state<P>& b, jb::batch_timer& timer) {
  auto& r = b.r;
  scenario& s = b.s;
  std::size_t head = s.head;
  const std::size_t k_out = s.ring.size();
  js::assignment* const ring = s.ring.data();
  bool ok = true;
  timer.start();
  for (auto _ : st) {
    const auto a = r.route(s.next());
    if (!a) [[unlikely]] {
      ok = false;
      continue;
    }
    r.release(ring[head]);
    ring[head] = *a;
    if (++head == k_out) head = 0;
    timer.tick();
  }
  s.head = head;
  return ok;
}

// Decisions per clock read: 8, or ROUTE_BENCH_BATCH from the environment.
std::uint32_t batch_size() {
  static const std::uint32_t b = [] {
    const char* e = std::getenv("ROUTE_BENCH_BATCH");
    const long v = e != nullptr ? std::strtol(e, nullptr, 10) : 8;
    return static_cast<std::uint32_t>(std::clamp(v, 1L, 4096L));
  }();
  return b;
}

template <class P>
void bm_route(benchmark::State& st, std::size_t n, std::size_t c) {
  bench_state<P>& b = acquire<P>(n, c);
  if (!b.error.empty()) {
    st.SkipWithError(b.error.c_str());
    return;
  }
  jb::batch_timer timer(P::linear && n >= 4096 ? 1 : batch_size(), std::size_t{1} << 21);
  const std::uint64_t switches_before = jb::involuntary_switches();
  const std::uint64_t allocs_before = jb::allocation_count();
  const bool failed = !timed_loop(st, b, timer);
  const std::uint64_t allocs = jb::allocation_count() - allocs_before;
  const std::uint64_t switches = jb::involuntary_switches() - switches_before;

  const auto decisions = static_cast<double>(st.iterations());
  jb::report_distribution(st, timer, switches);
  st.counters["batch"] = timer.batch();
  st.counters["samples"] = static_cast<double>(timer.samples());
  st.counters["allocs_per_decision"] = decisions > 0 ? static_cast<double>(allocs) / decisions : 0.0;
  st.counters["late_share"] = b.late_share;
  st.counters["penalty_share"] = b.penalty_share;

  if (failed) return st.SkipWithError("a router returned no device inside the timed loop");
  if (allocs != 0) return st.SkipWithError("heap allocation on the decision path (see allocs_per_decision)");
  // Check again on the state the timed inputs produced.
  const std::size_t steps = std::clamp<std::size_t>(2'000'000 / n, 20, 1000);
  const check_out o = check(b, steps, false);
  b.checked += steps;
  st.counters["checked"] = static_cast<double>(b.checked);
  if (!o.error.empty()) {
    b.error = "after timing: " + o.error;
    st.SkipWithError(b.error.c_str());
  }
}

template <class P>
void register_one(std::size_t n, std::size_t c) {
  const std::string name = std::string("route/") + P::name + "/" + std::to_string(n) + "/" + std::to_string(c);
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [n, c](benchmark::State& st) { bm_route<P>(st, n, c); });
  // For profiling: a fixed decision count, run once (no calibration runs), so that a profiler's count for
  // timed_loop divided by it is a count per decision.
  if (const char* it = std::getenv("ROUTE_BENCH_ITERATIONS")) b->Iterations(std::strtoll(it, nullptr, 10));
}

// The harness's floor: the same batch timer around a computation that touches no memory (a dependent chain of
// `chain` 64-bit multiply-adds, about 3 cycles each), named harness/floor/<chain>. Its p50 is a fixed amount
// of work; its p99 and p99.9 are what the machine adds to any batch (interrupts, the hypervisor, the
// scheduler), so a router's tail that matches the floor's at a similar p50 is the machine's, not the router's.
void bm_floor(benchmark::State& st, unsigned chain) {
  jb::batch_timer timer(batch_size(), std::size_t{1} << 21);
  std::uint64_t x = 1;
  const std::uint64_t switches_before = jb::involuntary_switches();
  timer.start();
  for (auto _ : st) {
    for (unsigned i = 0; i < chain; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
    benchmark::DoNotOptimize(x);
    timer.tick();
  }
  jb::report_distribution(st, timer, jb::involuntary_switches() - switches_before);
  st.counters["batch"] = timer.batch();
  st.counters["samples"] = static_cast<double>(timer.samples());
}

}  // namespace

int main(int argc, char** argv) {
  if (!jb::allocation_self_check()) {
    std::fprintf(stderr, "route_bench: the allocation counter does not see allocations; refusing to run\n");
    return 1;
  }
  for (const std::size_t n : {8u, 64u, 320u, 4096u, 100000u}) {
    for (const std::size_t c : {3u, 16u}) {
      if (c > n) continue;  // 8 devices cannot form 16 classes
      register_one<naive_scan_p>(n, c);
      register_one<energy_p>(n, c);
      register_one<carbon_p>(n, c);
      register_one<energy_every_class_p>(n, c);
      register_one<energy_scan_p>(n, c);
      register_one<tiered_p>(n, c);
      register_one<least_loaded_p>(n, c);
      register_one<least_eta_p>(n, c);
      register_one<power_of_two_p>(n, c);
      register_one<power_of_two_flat_p>(n, c);
      register_one<round_robin_p>(n, c);
      register_one<random_p>(n, c);
    }
  }
  for (const unsigned chain : {64u, 128u})
    benchmark::RegisterBenchmark(("harness/floor/" + std::to_string(chain)).c_str(),
                                 [chain](benchmark::State& st) { bm_floor(st, chain); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_slot.reset();
  return 0;
}
