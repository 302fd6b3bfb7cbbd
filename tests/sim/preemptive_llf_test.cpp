// Preemptive least laxity first (queue_discipline::preemptive_llf, FREESH's request level): a short urgent request
// takes the slot of a long relaxed one at the next re-rank, the preempted request's tokens are recomputed and its
// first token kept; running slots cap the batch; the rule's bad settings are config errors. The laxity rule itself
// by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "joulesched/cost/service.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/queues/laxity.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/sim/engine.hpp"
#include "support/errors.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;
using joulesched::test::recorder;

TEST_CASE("laxity_rule.by_hand") {
  const laxity_rule rule;  // FREESH: slack 1.4, margin 0
  // Arrived at 2 s, 0.3 s to its first token, 100 tokens at 0.05 s each: d = 2 + 1.4 (0.3 + 5) = 9.42.
  CHECK(rule.deadline_s(2.0, 0.3, 100, 0.05) == doctest::Approx(9.42));
  // At 4 s with 60 tokens to come: 9.42 - 4 - 3 = 2.42 s of laxity; key = laxity + now.
  CHECK(laxity_rule::laxity_s(9.42, 4.0, 60, 0.05) == doctest::Approx(2.42));
  CHECK(laxity_rule::key(9.42, 60, 0.05) == doctest::Approx(6.42));
  CHECK(rule.preempts(1.0, 2.0));
  CHECK_FALSE(rule.preempts(2.0, 2.0));  // a tie keeps the running request
  const laxity_rule damped{1.4, 0.5};
  CHECK_FALSE(damped.preempts(1.6, 2.0));
  CHECK(damped.preempts(1.4, 2.0));
}

namespace {
request make(std::uint64_t id, double t, std::uint32_t out) {
  request r;
  r.id = id;
  r.arrival_s = t;
  r.input_tok = 10;
  r.output_tok = out;
  r.deadline_s = r.ttft_deadline_s = 1e4;
  return r;
}

// One device (every step and prefill 0.01 s) of batch `batch`, round robin, the oracle's estimates.
struct one_device {
  device_model m;
  sim_devices devs;
  fleet f;
  round_robin_router router{f};
  oracle_estimator est;
  no_control ctl;
  explicit one_device(std::uint32_t batch)
      : m(joulesched::test::simple_model(batch, 1'000'000)),
        devs(joulesched::test::devices_of({&m})),
        f(joulesched::test::params_of({&m})) {}

  template <class Check>
  sim_result run(const std::vector<request>& reqs, const engine_options& eo, Check&& check) {
    vector_source src;
    src.requests = reqs;
    simulator<round_robin_router, oracle_estimator, no_control, recorder> sim(devs, f, router, est, ctl, eo);
    const sim_result r = sim.run(src);
    check(sim.observer());
    return r;
  }
};
}  // namespace

TEST_CASE("sim_preemptive_llf.an_urgent_request_takes_the_slot_of_a_relaxed_one") {
  // One slot. A (1000 tokens, laxity about 4 s) runs from t = 0; B (10 tokens, laxity about 0.1 s) arrives at
  // 0.05 s. Non-preemptive LLF serves B after A, at about 10 s; preemptive LLF swaps them at the first re-rank
  // (0.1 s) and serves A's rest after B: at no cost when A keeps its KV (resume::resident), else with its prompt
  // and the tokens it had made recomputed (resume::recompute).
  const std::vector<request> reqs{make(0, 0.0, 1000), make(1, 0.05, 10)};
  {
    one_device d(1);
    engine_options eo;
    eo.discipline = queue_discipline::llf;
    const sim_result r = d.run(reqs, eo, [](const recorder& o) { CHECK(o.completions.at(1).first_token_s > 10.0); });
    CHECK(r.preemptions == 0);
  }
  one_device d(1);
  // B's key is far below A's: A's is about 0.4 x its predicted latency (the slack over it) plus what it made.
  const service_estimate a = predict_service(d.f.params(0), request_view{1000, 10, 0.0, tier::interactive});
  const service_estimate b = predict_service(d.f.params(0), request_view{10, 10, 0.0, tier::interactive});
  const laxity_rule rule;
  REQUIRE(rule.deadline_s(0.05, b.first_token_s, 10, b.tbt_s) - 10 * b.tbt_s <
          rule.deadline_s(0.0, a.first_token_s, 1000, a.tbt_s) - 990 * a.tbt_s);
  engine_options eo;
  eo.discipline = queue_discipline::preemptive_llf;
  auto b_jumps_the_queue = [](const recorder& o) {
    const auto& ra = o.completions.at(0);
    const auto& rb = o.completions.at(1);
    CHECK(ra.first_token_s == doctest::Approx(0.01));  // A's first token is its first prefill's
    CHECK(rb.first_token_s > 0.1);                     // B got A's slot at the first re-rank...
    CHECK(rb.first_token_s < 0.13);                    // ...at A's next step boundary, then its prefill
    CHECK(rb.done_s == doctest::Approx(rb.first_token_s + 0.09));
    CHECK(ra.done_s > rb.done_s);
  };
  // Resident: the device never idles and no work is redone, so A ends when both services are done: A's prefill
  // and 999 steps (10 s) plus B's prefill and 9 steps (0.1 s).
  const sim_result kept = d.run(reqs, eo, [&](const recorder& o) {
    b_jumps_the_queue(o);
    CHECK(o.completions.at(0).done_s == doctest::Approx(10.1).epsilon(1e-9));
  });
  CHECK(kept.preemptions == 1);
  CHECK(kept.recomputed_tok == 0);
  eo.preemption.mode = preemption_options::resume::recompute;
  const sim_result r = d.run(reqs, eo, b_jumps_the_queue);
  REQUIRE(r.completed == 2);
  CHECK(r.preemptions == 1);
  // A made m tokens before it left: its second prefill recomputes 10 + m, then yields a token, then the
  // 1000 - m - 1 others take a step each: A ends 0.01 (1000 - m) s after B.
  const std::uint64_t made = r.recomputed_tok - 10;
  CHECK(made >= 9);
  CHECK(made <= 12);
  CHECK(r.output_tok == 1010);
  d.run(reqs, eo, [&](const recorder& o) {
    CHECK(o.completions.at(0).done_s ==
          doctest::Approx(o.completions.at(1).done_s + 0.01 * static_cast<double>(1000 - made)).epsilon(1e-9));
  });
}

TEST_CASE("sim_preemptive_llf.slots_cap_the_running_requests") {
  // Four alike requests at t = 0 on a device of batch 4: with 2 slots, at most 2 decode at once (the power of
  // 2, never of 3 or 4), and the last two finish one service later; with slots 0, all 4 at once.
  std::vector<request> reqs;
  for (std::uint64_t i = 0; i < 4; ++i) reqs.push_back(make(i, 0.0, 100));
  engine_options eo;
  eo.discipline = queue_discipline::preemptive_llf;
  eo.preemption.rule.margin_s = 1e6;  // no preemption: slots alone
  for (const std::uint32_t slots : {2u, 0u}) {
    CAPTURE(slots);
    eo.preemption.slots = slots;
    one_device d(4);
    const std::uint32_t most = slots == 0 ? 4 : slots;
    const sim_result r = d.run(reqs, eo, [&](const recorder& o) {
      double top = 0;
      for (const auto& c : o.power) top = std::max(top, c.w);
      CHECK(top == d.m.busy_power_w(most));
      double last = 0;
      for (const auto& [id, c] : o.completions) last = std::max(last, c.done_s);
      CHECK(last == doctest::Approx(slots == 2 ? 2.0 : 1.0).epsilon(0.02));
    });
    CHECK(r.completed == 4);
    CHECK(r.preemptions == 0);
  }
}

TEST_CASE("sim_preemptive_llf.every_request_is_served_under_thrashing") {
  // Pure LLF (margin 0) on alike requests: a waiting request's laxity falls while a running one's holds, so
  // they take turns. Every request still completes with all its tokens; each preemption recomputes a prompt of 10
  // tokens and at least the one token its first prefill made.
  std::vector<request> reqs;
  for (std::uint64_t i = 0; i < 40; ++i) reqs.push_back(make(i, 0.01 * static_cast<double>(i), 200));
  engine_options eo;
  eo.discipline = queue_discipline::preemptive_llf;
  eo.preemption.slots = 2;
  for (const auto mode : {preemption_options::resume::resident, preemption_options::resume::recompute}) {
    const bool recompute = mode == preemption_options::resume::recompute;
    CAPTURE(recompute);
    eo.preemption.mode = mode;
    eo.preemption.rule.margin_s = 0.0;
    one_device pure(4);
    const sim_result r = pure.run(reqs, eo, [](const recorder&) {});
    eo.preemption.rule.margin_s = 1e6;
    one_device damped(4);
    const sim_result none = damped.run(reqs, eo, [](const recorder&) {});
    CHECK(r.completed == 40);
    CHECK(r.output_tok == 8000);
    CHECK(r.preemptions > 0);
    CHECK(none.preemptions == 0);
    CHECK(none.output_tok == 8000);
    if (recompute) {
      CHECK(r.recomputed_tok >= 11 * r.preemptions);
    } else {
      CHECK(r.recomputed_tok == 0);  // nothing is redone
    }
  }
}

TEST_CASE("sim_preemptive_llf.bad_settings_are_config_errors") {
  one_device d(2);
  engine_options eo;
  eo.discipline = queue_discipline::preemptive_llf;
  auto build = [&] { simulator<round_robin_router, oracle_estimator> sim(d.devs, d.f, d.router, d.est, d.ctl, eo); };
  eo.preemption.period_s = 0.0;
  check_mentions(error_of(build), {"preemption", "period_s", "0"});
  eo.preemption.period_s = 0.1;
  eo.preemption.rule.slack = 0.5;
  check_mentions(error_of(build), {"preemption", "rule.slack", "0.5"});
  eo.preemption.rule.slack = 1.4;
  eo.preemption.rule.margin_s = -1.0;
  check_mentions(error_of(build), {"preemption", "rule.margin_s", "-1"});
  eo.discipline = queue_discipline::edf;  // read only with preemptive_llf
  CHECK_NOTHROW(build());
}
