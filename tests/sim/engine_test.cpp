// The simulator engine against queueing theory, against a naive step-by-step reference, and against its own
// energy and accounting invariants. Every run here routes with a real router of the library.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <stdexcept>
#include <vector>

#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/workload.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::constant_mix;
using joulesched::test::devices_of;
using joulesched::test::params_of;
using joulesched::test::recorder;
using joulesched::test::simple_model;

TEST_CASE("sim_engine.md1.mean_wait_matches_formula") {
  // One device, batch limit 1: service = prefill (0.01 s) + 99 decode steps of 0.01 s = 1 s exactly, so the
  // device is an M/D/1 queue. Wq = rho / (2 mu (1 - rho)).
  const device_model m = simple_model(1, 1'000'000);
  const sim_devices devs = devices_of({&m});
  for (const double rho : {0.5, 0.8}) {
    CAPTURE(rho);
    fleet f(params_of({&m}));
    round_robin_router router(f);
    oracle_estimator est;
    no_control ctl;
    mix_source_options o;
    o.rate_rps = rho;  // mu = 1 per second
    o.max_requests = 400'000;
    o.seed = 7;
    mix_source src(constant_mix(1, 100), o);
    simulator sim(devs, f, router, est, ctl);
    const sim_result r = sim.run(src);
    REQUIRE(r.completed == 400'000);
    const double service_s = 1.0;
    const double wq_measured = r.all.e2e.mean_s - service_s;
    const double wq_formula = rho / (2.0 * 1.0 * (1.0 - rho));
    CHECK(wq_measured == doctest::Approx(wq_formula).epsilon(0.03));
    // TTFT = wait + prefill.
    CHECK(r.all.ttft.mean_s == doctest::Approx(wq_measured + 0.01).epsilon(1e-6));
  }
}

namespace {

// A naive reference of one device, FCFS, stepping every decode iteration with O(batch) work: the semantics
// the engine documents, written the obvious way. Returns completion time per request id.
std::map<std::uint64_t, double> reference_run(const device_model& m, const std::vector<request>& reqs) {
  struct run {
    std::uint64_t id;
    std::uint32_t rem, in, out;
    std::uint64_t ctx;
  };
  std::map<std::uint64_t, double> done;
  std::vector<run> running;
  std::vector<std::size_t> queue;  // indices into reqs, FIFO
  std::size_t next = 0, qhead = 0;
  std::uint64_t kv = 0;
  double t = 0;
  bool after_prefill = false;
  while (done.size() < reqs.size()) {
    while (next < reqs.size() && reqs[next].arrival_s < t) queue.push_back(next++);
    if (!(after_prefill && !running.empty())) {
      std::vector<std::size_t> adm;
      std::uint64_t prompt = 0;
      while (qhead < queue.size()) {
        const request& h = reqs[queue[qhead]];
        if (running.size() + adm.size() >= m.max_batch) break;
        if (kv + h.input_tok + h.output_tok > m.kv_capacity_tok) break;
        kv += h.input_tok + h.output_tok;
        prompt += h.input_tok;
        adm.push_back(queue[qhead++]);
      }
      if (!adm.empty()) {
        t += m.prefill_base_s + m.prefill_per_tok_s * static_cast<double>(prompt);
        for (const std::size_t i : adm) {
          const request& r = reqs[i];
          if (r.output_tok <= 1) {
            done[r.id] = t;
            kv -= r.input_tok + r.output_tok;
          } else {
            running.push_back({r.id, r.output_tok - 1, r.input_tok, r.output_tok, std::uint64_t{r.input_tok} + 1});
          }
        }
        after_prefill = true;
        continue;
      }
    }
    if (!running.empty()) {
      std::uint64_t ctx = 0;
      for (const run& x : running) ctx += x.ctx;
      t += m.decode_step_s(static_cast<std::uint32_t>(running.size()), ctx);
      for (run& x : running) {
        --x.rem;
        ++x.ctx;
      }
      for (std::size_t i = 0; i < running.size();) {
        if (running[i].rem == 0) {
          done[running[i].id] = t;
          kv -= running[i].in + running[i].out;
          running[i] = running.back();
          running.pop_back();
        } else {
          ++i;
        }
      }
      after_prefill = false;
      continue;
    }
    after_prefill = false;
    if (next < reqs.size()) {
      t = reqs[next].arrival_s;
      queue.push_back(next++);
    }
  }
  return done;
}

}  // namespace

TEST_CASE("sim_engine.continuous_batching.matches_step_by_step_reference") {
  // A device whose step time depends on batch and context, with a batch limit and a KV limit that both bind:
  // the engine's closed-form multi-step plans, cut short by arrivals, must give the completion times of the
  // naive simulation that steps every iteration.
  device_model m = simple_model(8, 6000);
  m.decode_step_per_seq_s = 0.0007;
  m.decode_step_per_ctx_tok_s = 3e-6;
  m.prefill_per_tok_s = 2e-5;
  validate(m, "test");
  std::mt19937_64 g(42);
  std::uniform_real_distribution<double> gap(0.0, 1.2);
  std::uniform_int_distribution<std::uint32_t> in(1, 800), out(1, 300);
  std::vector<request> reqs;
  double t = 0.0;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    t += gap(g) + 1e-7;
    request r;
    r.id = i;
    r.arrival_s = t;
    r.input_tok = in(g);
    r.output_tok = out(g);
    r.deadline_s = t + 1000;
    r.ttft_deadline_s = t + 1000;
    reqs.push_back(r);
  }
  const auto ref = reference_run(m, reqs);

  const sim_devices devs = devices_of({&m});
  fleet f(params_of({&m}));
  round_robin_router router(f);
  oracle_estimator est;
  no_control ctl;
  engine_options o;
  o.discipline = queue_discipline::fcfs;
  vector_source src;
  src.requests = reqs;
  simulator<round_robin_router, oracle_estimator, no_control, recorder> sim(devs, f, router, est, ctl, o);
  const sim_result r = sim.run(src);
  REQUIRE(r.completed == reqs.size());
  const auto& got = sim.observer().completions;
  REQUIRE(got.size() == ref.size());
  double worst = 0;
  for (const auto& [id, done_s] : ref) worst = std::max(worst, std::abs(got.at(id).done_s - done_s));
  CHECK(worst < 1e-7);
  // Work was reserved and all of it given back.
  CHECK(f.load(0).reserved_ns == 0);
  CHECK(f.load(0).requests == 0);
}

TEST_CASE("sim_engine.energy.equals_integral_of_power_trace") {
  device_model a = simple_model(16, 100'000);
  a.decode_step_per_seq_s = 0.0005;
  device_model b = simple_model(4, 20'000);
  b.gpu = "small-gpu";
  b.idle_power_w = 20;
  b.busy_power_base_w = 60;
  b.busy_power_per_seq_w = 2;
  b.prefill_power_w = 60;
  b.tdp_w = 70;
  std::vector<const device_model*> ms{&a, &a, &b, &b, &b};
  const sim_devices devs = devices_of(ms);
  fleet f(params_of(ms));
  least_loaded_router router(f);
  oracle_estimator est;
  no_control ctl;
  engine_options o;
  o.window_s = 500.0;
  mix_source_options mo;
  mo.rate_rps = 3.0;
  mo.duration_s = 400.0;
  mo.seed = 3;
  mix_source src(constant_mix(200, 80), mo);
  simulator<least_loaded_router, oracle_estimator, no_control, recorder> sim(devs, f, router, est, ctl, o);
  const sim_result r = sim.run(src);
  REQUIRE(r.read > 1000);

  // Integrate the recorded trace: each device's power is constant between its changes.
  const auto& trace = sim.observer().power;
  const std::vector<double> integral = sim.observer().energy_j(ms.size(), r.sim_time_s);
  double total = 0;
  for (std::size_t d = 0; d < ms.size(); ++d) {
    CHECK(r.device_energy_j[d] == doctest::Approx(integral[d]).epsilon(1e-12));
    total += integral[d];
  }
  CHECK(r.energy_total_j == doctest::Approx(total).epsilon(1e-12));
  // Power only takes the values the device model gives.
  for (const auto& c : trace) {
    const device_model& m = *ms[c.d];
    bool ok = c.w == m.idle_power_w || c.w == m.prefill_power_w;  // idle, prefilling, or decoding k requests
    for (std::uint32_t k = 1; k <= m.max_batch && !ok; ++k) ok = c.w == m.busy_power_w(k);
    CHECK(ok);
  }
  CHECK(r.window_s == 500.0);
  CHECK(r.energy_j <= r.energy_total_j);
}

TEST_CASE("sim_engine.energy.idle_fleet_draws_idle_power") {
  const device_model a = simple_model(4, 10'000);
  device_model b = simple_model(4, 10'000);
  b.gpu = "other";
  b.idle_power_w = 33.25;
  std::vector<const device_model*> ms{&a, &b, &b};
  const sim_devices devs = devices_of(ms);
  fleet f(params_of(ms));
  round_robin_router router(f);
  oracle_estimator est;
  no_control ctl;
  engine_options o;
  o.window_s = 7200.0;
  vector_source empty;
  simulator sim(devs, f, router, est, ctl, o);
  const sim_result r = sim.run(empty);
  CHECK(r.read == 0);
  CHECK(r.sim_time_s == 7200.0);
  CHECK(r.energy_j == (50.0 + 2 * 33.25) * 7200.0);
  CHECK(r.energy_total_j == r.energy_j);
  CHECK(r.avg_power_w == doctest::Approx(50.0 + 2 * 33.25));
  for (const auto& t : r.types) CHECK(t.utilisation == 0.0);
}

TEST_CASE("sim_engine.network.users_see_the_first_and_last_token_a_round_trip_later") {
  const device_model m = simple_model(4, 10'000);
  std::vector<const device_model*> ms{&m};
  sim_devices devs = devices_of(ms);
  request r;
  r.arrival_s = 1.0;
  r.input_tok = 200;
  r.output_tok = 20;
  r.deadline_s = 1000.0;
  r.ttft_deadline_s = 1000.0;
  const auto run = [&](const sim_devices& d, double ttft_deadline_s) {
    fleet f(params_of(ms));
    round_robin_router router(f);
    oracle_estimator est;
    no_control ctl;
    vector_source src;
    request one = r;
    one.ttft_deadline_s = ttft_deadline_s;
    src.requests = {one};
    simulator sim(d, f, router, est, ctl);
    return sim.run(src);
  };
  const sim_result near = run(devs, 1000.0);
  devs.network_s = {0.25};  // a site a quarter of a second's round trip from its users
  const sim_result far = run(devs, 1000.0);
  REQUIRE(near.completed == 1);
  REQUIRE(far.completed == 1);
  CHECK(far.all.ttft.max_s == doctest::Approx(near.all.ttft.max_s + 0.25));
  CHECK(far.all.e2e.max_s == doctest::Approx(near.all.e2e.max_s + 0.25));
  CHECK(far.sim_time_s == near.sim_time_s);  // the device's work is the same
  // A TTFT deadline the device meets by 0.1 s: met near the users, missed a round trip away.
  const double deadline = r.arrival_s + near.all.ttft.max_s + 0.1;
  CHECK(run(devices_of(ms), deadline).all.violations == 0);
  CHECK(run(devs, deadline).all.violations == 1);
  // Every device has one value or none.
  devs.network_s = {0.25, 0.25};
  CHECK_THROWS_WITH_AS(run(devs, 1000.0), doctest::Contains("network_s.size() = 2"), config_error);
  devs.network_s = {-1.0};
  CHECK_THROWS_WITH_AS(run(devs, 1000.0), doctest::Contains("network_s[0] = -1"), config_error);
}

TEST_CASE("sim_engine.accounting.rejections_are_counted") {
  // Device 0 holds 1,000 tokens of KV, device 1 holds 10,000.
  const device_model small = simple_model(4, 1'000);
  device_model big = simple_model(4, 10'000);
  big.gpu = "big";
  std::vector<const device_model*> ms{&small, &big};
  const sim_devices devs = devices_of(ms);
  std::vector<request> reqs;
  auto add = [&](double t, std::uint32_t in, std::uint32_t out) {
    request r;
    r.id = reqs.size();
    r.arrival_s = t;
    r.input_tok = in;
    r.output_tok = out;
    r.deadline_s = t + 100;
    r.ttft_deadline_s = t + 100;
    reqs.push_back(r);
  };
  add(0.0, 20'000, 10);  // fits no device: no_fit
  add(1.0, 3'000, 10);   // round robin's first choice is device 0, too small: device_too_small
  add(2.0, 3'000, 10);   // device 1: completes
  add(3.0, 100, 10);     // device 0: completes
  add(4.0, 0, 0);        // an empty request: completes after its prefill
  fleet f(params_of(ms));
  round_robin_router router(f);
  oracle_estimator est;
  no_control ctl;
  vector_source src;
  src.requests = reqs;
  simulator sim(devs, f, router, est, ctl);
  const sim_result r = sim.run(src);
  CHECK(r.read == 5);
  CHECK(r.rejected_no_fit == 1);
  CHECK(r.rejected_device_too_small == 1);
  CHECK(r.rejected_no_device == 0);
  CHECK(r.completed == 3);
  CHECK(r.read == r.completed + r.rejected);
  CHECK(r.all.violations == 2);  // the two rejections; the rest met their deadlines
  CHECK(f.load(0).requests == 0);
  CHECK(f.load(1).requests == 0);

  // With every device drained the router places nothing: every request is rejected as no_device.
  fleet drained(params_of(ms));
  drained.set_available(0, false);
  drained.set_available(1, false);
  round_robin_router router2(drained);
  vector_source src2;
  src2.requests = reqs;
  simulator sim2(devs, drained, router2, est, ctl);
  const sim_result r2 = sim2.run(src2);
  CHECK(r2.read == 5);
  CHECK(r2.rejected_no_fit == 1);
  CHECK(r2.rejected_no_device == 4);
  CHECK(r2.completed == 0);
  CHECK(r2.all.violation_rate == 1.0);
}

TEST_CASE("sim_engine.source.bad_requests_are_config_errors") {
  const device_model m = simple_model(4, 10'000);
  const sim_devices devs = devices_of({&m});
  oracle_estimator est;
  no_control ctl;
  request a;
  a.id = 0;
  a.arrival_s = 5.0;
  a.deadline_s = 6.0;
  a.ttft_deadline_s = 6.0;
  request b = a;
  b.id = 1;
  b.arrival_s = 4.0;  // goes back in time
  b.deadline_s = 6.0;
  fleet f(params_of({&m}));
  round_robin_router router(f);
  vector_source src;
  src.requests = {a, b};
  simulator sim(devs, f, router, est, ctl);
  CHECK_THROWS_WITH_AS(sim.run(src), doctest::Contains("request 1: arrival_s = 4"), config_error);

  request c = a;
  c.deadline_s = std::numeric_limits<double>::quiet_NaN();
  fleet f2(params_of({&m}));
  round_robin_router router2(f2);
  vector_source src2;
  src2.requests = {c};
  simulator sim2(devs, f2, router2, est, ctl);
  CHECK_THROWS_WITH_AS(sim2.run(src2), doctest::Contains("deadline_s"), config_error);

  // Simulated time starts at 0: a first arrival before it ran the clock backwards (negative energy).
  request d = a;
  d.arrival_s = -1.0;
  fleet f3(params_of({&m}));
  round_robin_router router3(f3);
  vector_source src3;
  src3.requests = {d};
  simulator sim3(devs, f3, router3, est, ctl);
  CHECK_THROWS_WITH_AS(sim3.run(src3), doctest::Contains("request 0: arrival_s = -1: must be finite, >= 0"),
                       config_error);
}

TEST_CASE("sim_engine.options.window_is_0_or_within_its_bounds") {
  // A subnormal window made every rate per window NaN or inf; a window of 1e12 s ran until killed.
  const device_model m = simple_model(4, 10'000);
  const sim_devices devs = devices_of({&m});
  oracle_estimator est;
  no_control ctl;
  fleet f(params_of({&m}));
  round_robin_router router(f);
  for (const double w : {4.9e-324, 1e-6, -1.0, 1e12, std::numeric_limits<double>::quiet_NaN()}) {
    engine_options eo;
    eo.window_s = w;
    CAPTURE(w);
    CHECK_THROWS_WITH_AS(simulator(devs, f, router, est, ctl, eo), doctest::Contains("window_s = "), config_error);
  }
  for (const double w : {0.0, 1e-3, 3600.0}) {
    engine_options eo;
    eo.window_s = w;
    CHECK_NOTHROW(simulator(devs, f, router, est, ctl, eo));
  }
}

TEST_CASE("sim_engine.bounds.arrivals_periods_and_one_run") {
  // Arrivals beyond bounds::max_arrival_s lost the resolution of every latency (1e15 s: 0.125 s steps; DBL_MAX:
  // infinite energy); a control period of 5e-324 s never let a run finish; a second run() is a logic error.
  const device_model m = simple_model(4, 10'000);
  const sim_devices devs = devices_of({&m});
  oracle_estimator est;
  const auto one_request = [](double t) {
    vector_source src;
    request r;
    r.arrival_s = t;
    r.input_tok = 10;
    r.output_tok = 10;
    r.deadline_s = r.ttft_deadline_s = t + 100;
    src.requests = {r};
    return src;
  };
  for (const double t : {1e15, std::numeric_limits<double>::max()}) {
    fleet f(params_of({&m}));
    round_robin_router router(f);
    no_control ctl;
    vector_source src = one_request(t);
    simulator sim(devs, f, router, est, ctl);
    CHECK_THROWS_WITH_AS(sim.run(src), doctest::Contains("bounds::max_arrival_s"), config_error);
  }
  struct fast_control {
    double period = 5e-324;
    [[nodiscard]] double period_s() const noexcept { return period; }
    void on_outcome(double, tier, const slo_outcome&) noexcept {}
    void tick(double) noexcept {}
  };
  {
    fleet f(params_of({&m}));
    round_robin_router router(f);
    fast_control ctl;
    vector_source src = one_request(1.0);
    simulator sim(devs, f, router, est, ctl);
    CHECK_THROWS_WITH_AS(sim.run(src), doctest::Contains("period_s = 5e-324"), config_error);
  }
  fleet f(params_of({&m}));
  round_robin_router router(f);
  no_control ctl;
  vector_source src = one_request(1.0);
  simulator sim(devs, f, router, est, ctl);
  CHECK(sim.run(src).completed == 1);
  vector_source again = one_request(2.0);
  CHECK_THROWS_AS(sim.run(again), std::logic_error);
}

TEST_CASE("sim_engine.horizon_source.stops_at_the_horizon") {
  vector_source inner;
  for (int i = 0; i < 10; ++i) {
    request r;
    r.id = static_cast<std::uint64_t>(i);
    r.arrival_s = i;
    inner.requests.push_back(r);
  }
  horizon_source h(inner, 4.0);
  request r;
  int n = 0;
  while (h.next(r)) ++n;
  CHECK(n == 4);
  CHECK_FALSE(h.next(r));
}

TEST_CASE("sim_engine.queue_discipline.orders_waiting_requests") {
  // Batch limit 1: request 0 holds the device for 1 s while 1, 2, 3 arrive and wait; they are then served in
  // the waiting queue's order. LLF keys use the device's nominal rate, 100 tokens/s here, and the oracle's
  // work estimates: 1: 25 - 1000/100 = 15; 2: 20 - 0.1 = 19.9; 3: 10 - 0.1 = 9.9.
  const device_model m = simple_model(1, 1'000'000);
  const sim_devices devs = devices_of({&m});
  auto make = [](std::uint64_t id, double t, std::uint32_t out, double deadline) {
    request r;
    r.id = id;
    r.arrival_s = t;
    r.input_tok = 10;
    r.output_tok = out;
    r.deadline_s = deadline;
    r.ttft_deadline_s = deadline;
    return r;
  };
  const std::vector<request> reqs{make(0, 0.0, 100, 100), make(1, 0.1, 1000, 25), make(2, 0.2, 10, 20),
                                  make(3, 0.3, 10, 10)};
  const std::vector<std::pair<queue_discipline, std::vector<std::uint64_t>>> cases{
      {queue_discipline::fcfs, {0, 1, 2, 3}},
      {queue_discipline::edf, {0, 3, 2, 1}},
      {queue_discipline::llf, {0, 3, 1, 2}},
  };
  for (const auto& [q, expected] : cases) {
    CAPTURE(to_string(q));
    fleet f(params_of({&m}));
    REQUIRE(f.params(0).rate_tok_s == doctest::Approx(100.0));
    round_robin_router router(f);
    oracle_estimator est;
    no_control ctl;
    engine_options o;
    o.discipline = q;
    vector_source src;
    src.requests = reqs;
    simulator<round_robin_router, oracle_estimator, no_control, recorder> sim(devs, f, router, est, ctl, o);
    const sim_result r = sim.run(src);
    REQUIRE(r.completed == 4);
    std::vector<std::uint64_t> order{0, 1, 2, 3};
    const auto& c = sim.observer().completions;
    std::sort(order.begin(), order.end(),
              [&](std::uint64_t a, std::uint64_t b) { return c.at(a).first_token_s < c.at(b).first_token_s; });
    CHECK(order == expected);
  }
}

namespace {
// Hands out `queued` requests at t = 0, then calls `raise` (which throws) from next().
struct throwing_source final : request_source {
  std::uint32_t queued = 0, n = 0;
  void (*raise)() = nullptr;
  bool next(request& r) override {
    if (n == queued) raise();
    r = request{};
    r.id = n++;
    r.input_tok = 10;
    r.output_tok = 100;
    r.deadline_s = r.ttft_deadline_s = 1e3;
    return true;
  }
};
}  // namespace

TEST_CASE("sim_engine.exception_safety.a_run_that_throws_leaves_nothing_dangling") {
  // Batch limit 1: of the 50 requests at t = 0, one runs and 49 wait in the device's queue when the source
  // breaks its ordering promise (config_error) or runs out of memory. Destroying the simulator then must not
  // touch freed requests (ASan: heap-use-after-free before the slab outlived the queues).
  const device_model m = simple_model(1, 1'000'000);
  const sim_devices devs = devices_of({&m, &m});
  oracle_estimator est;
  no_control ctl;
  SUBCASE("config_error: arrivals go back in time") {
    vector_source src;
    for (std::uint64_t i = 0; i < 50; ++i) {
      request r;
      r.id = i;
      r.arrival_s = 1.0;
      r.input_tok = 10;
      r.output_tok = 100;
      r.deadline_s = r.ttft_deadline_s = 1e3;
      src.requests.push_back(r);
    }
    request back = src.requests.back();
    back.id = 50;
    back.arrival_s = 0.5;
    src.requests.push_back(back);
    fleet f(params_of({&m, &m}));
    least_loaded_router router(f);
    {
      simulator sim(devs, f, router, est, ctl);
      CHECK_THROWS_AS(sim.run(src), config_error);
    }  // the destructor runs here with 48 requests queued
    CHECK(src.read == src.requests.size());
  }
  SUBCASE("bad_alloc from the source") {
    throwing_source src;
    src.queued = 50;
    src.raise = [] { throw std::bad_alloc(); };
    fleet f(params_of({&m, &m}));
    least_loaded_router router(f);
    {
      simulator sim(devs, f, router, est, ctl);
      CHECK_THROWS_AS(sim.run(src), std::bad_alloc);
    }
    CHECK(src.n == 50);
  }
  SUBCASE("any exception from the source") {
    throwing_source src;
    src.queued = 5000;  // more than one 4,096-request chunk of the slab
    src.raise = [] { throw std::runtime_error("source failed"); };
    fleet f(params_of({&m, &m}));
    least_loaded_router router(f);
    {
      simulator sim(devs, f, router, est, ctl);
      CHECK_THROWS_AS(sim.run(src), std::runtime_error);
    }
    CHECK(src.n == 5000);
  }
}

namespace {
// Counts ticks; period 1 s.
struct tick_counter {
  std::uint64_t ticks = 0;
  std::vector<double> at;
  [[nodiscard]] double period_s() const noexcept { return 1.0; }
  void on_outcome(double, tier, const slo_outcome&) noexcept {}
  void tick(double t) {
    ++ticks;
    if (at.size() < 64) at.push_back(t);
  }
};
static_assert(SimControl<tick_counter>);
}  // namespace

TEST_CASE("sim_engine.control.idle_fleet_does_not_tick_through_simulated_time") {
  // Two requests 10^9 s apart: a run's cost must follow its work, not simulated time. Before, the controller
  // ticked every second in between (10^9 ticks: minutes of CPU, and a PI policy stored a sample per tick).
  const device_model m = simple_model(4, 1'000'000);
  const sim_devices devs = devices_of({&m});
  vector_source src;
  for (const double t : {0.5, 1e9 + 0.25}) {
    request r;
    r.id = src.requests.size();
    r.arrival_s = t;
    r.input_tok = 10;
    r.output_tok = 300;  // 0.01 s prefill + 299 steps of 0.01 s = 3 s each
    r.deadline_s = r.ttft_deadline_s = t + 100;
    src.requests.push_back(r);
  }
  fleet f(params_of({&m}));
  round_robin_router router(f);
  oracle_estimator est;
  tick_counter ctl;
  simulator sim(devs, f, router, est, ctl);
  const sim_result r = sim.run(src);
  CHECK(r.completed == 2);
  // Busy from 0.5 to 3.5 and from 1e9 + 0.25 to 1e9 + 3.25: ticks at 1, 2, 3 (and the wake-up tick at 1e9 + 1,
  // ..., 1e9 + 3); the first tick falls at the first whole period, not before.
  CHECK(ctl.ticks <= 8);
  CHECK(ctl.ticks >= 6);
  REQUIRE(ctl.at.size() >= 4);
  CHECK(ctl.at[0] == 1.0);
  CHECK(ctl.at[3] == 1e9 + 1.0);  // exactly k * period: no accumulated rounding across the skip
}

TEST_CASE("sim_engine.release_at.holds_a_request_and_counts_its_wait_from_arrival") {
  const device_model m = simple_model(4, 10'000);
  std::vector<const device_model*> ms{&m};
  const sim_devices devs = devices_of(ms);
  const auto run = [&](std::function<double(const request&, double)> release_at) {
    fleet f(params_of(ms));
    round_robin_router router(f);
    oracle_estimator est;
    no_control ctl;
    vector_source src;
    for (std::uint64_t i = 0; i < 3; ++i) {
      request r;
      r.id = i;
      r.arrival_s = 1.0 + static_cast<double>(i);
      r.input_tok = 100;
      r.output_tok = 10;
      r.deadline_s = 1000.0;
      r.ttft_deadline_s = 50.0;
      r.tier = i == 1 ? tier::bulk : tier::interactive;
      src.requests.push_back(r);
    }
    engine_options o;
    o.release_at = std::move(release_at);
    simulator sim(devs, f, router, est, ctl, o);
    return sim.run(src);
  };
  const sim_result now = run({});
  // The bulk request (arrives at 2 s) is held until 100 s; the others are routed at once.
  const sim_result held = run([](const request& r, double t) { return r.tier == tier::bulk ? 100.0 : t; });
  REQUIRE(held.read == 3);
  REQUIRE(held.completed == 3);
  CHECK(held.deferred == 1);
  CHECK(held.deferred_mean_s == 98.0);
  CHECK(held.tiers[1].e2e.max_s == doctest::Approx(now.tiers[1].e2e.max_s + 98.0));
  CHECK(held.tiers[0].e2e.max_s == now.tiers[0].e2e.max_s);
  CHECK(held.all.violations == 1);  // its TTFT deadline (50 s) passed while it waited
  CHECK(held.sim_time_s > 100.0);
  // A time at or before now routes at once; a time that is not finite is refused.
  CHECK(run([](const request&, double t) { return t - 1.0; }).deferred == 0);
  CHECK_THROWS_WITH_AS(run([](const request&, double) { return std::nan(""); }),
                       doctest::Contains("release time = nan"), config_error);
}
