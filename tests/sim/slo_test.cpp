// SLO misses by kind (ttft, tbt, e2e, any): the recorder's counts per tier and per SLO class, the pacing
// target the workload gives each request, what the engine decides a request missed, and the PI controller
// pointed at one kind.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/metrics.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/sim/workload.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {

request make(std::uint64_t id, double t, std::uint32_t out, std::uint8_t cls) {
  request r;
  r.id = id;
  r.arrival_s = t;
  r.input_tok = 10;
  r.output_tok = out;
  r.deadline_s = r.ttft_deadline_s = t + 100;  // far: nothing misses unless a test says so
  r.cls = cls;
  return r;
}

// Runs `reqs` on one simple_model device.
sim_result run_one_device(const std::vector<request>& reqs, std::uint32_t max_batch) {
  // Deterministic times: every decode step 0.01 s, every prefill 0.01 s, whatever the batch.
  const device_model m = test::simple_model(max_batch, 100'000);
  const sim_devices devs = test::devices_of({&m});
  fleet f(test::params_of({&m}));
  round_robin_router router(f);
  oracle_estimator est;
  no_control ctl;
  vector_source src;
  src.requests = reqs;
  simulator sim(devs, f, router, est, ctl);
  return sim.run(src);
}

workload_mix one_class_mix(double tbt_slo_s) {
  class_spec c;
  c.name = "only";
  c.share = 1.0;
  c.lengths.input_quantiles = {{0.0, 10}, {1.0, 10}};
  c.lengths.output_quantiles = {{0.0, 20}, {1.0, 20}};
  c.ttft_slo_s = 1;
  c.e2e_slo_s_base = 2;
  c.tbt_slo_s = tbt_slo_s;
  workload_mix mix;
  mix.classes = {c};
  return mix;
}

}  // namespace

TEST_CASE("sim_slo.recorder.counts_each_kind_per_tier_and_per_class") {
  metrics_recorder rec;
  const slo_outcome none{}, ttft{true, false, false}, tbt{false, true, false}, e2e{false, false, true},
      ttft_e2e{true, false, true};
  // interactive, class 0: one clean, one ttft, one tbt; class 2: one ttft + e2e, one rejected
  for (int i = 0; i < 5; ++i) rec.on_read(tier::interactive);
  rec.on_complete(tier::interactive, 0, 1.0, 0.1, 0.01, none);
  rec.on_complete(tier::interactive, 0, 1.0, 3.0, 0.01, ttft);
  rec.on_complete(tier::interactive, 0, 1.0, 0.1, 0.5, tbt);
  CHECK(rec.on_complete(tier::interactive, 2, 9.0, 3.0, 0.02, ttft_e2e).e2e);
  rec.on_reject(tier::interactive, 2);
  // bulk, class 1: one e2e miss with one output token (no TBT recorded), one rejected
  for (int i = 0; i < 2; ++i) rec.on_read(tier::bulk);
  rec.on_complete(tier::bulk, 1, 50.0, 1.0, -1.0, e2e);
  rec.on_reject(tier::bulk, 1);

  sim_result r;
  rec.summarize_into(r);
  const auto counts = [](const slo_misses& m) {
    return std::vector<std::uint64_t>{m.count_of(slo_kind::any), m.count_of(slo_kind::ttft), m.count_of(slo_kind::tbt),
                                      m.count_of(slo_kind::e2e)};
  };
  const tier_metrics& in = r.tiers[static_cast<std::size_t>(tier::interactive)];
  const tier_metrics& bu = r.tiers[static_cast<std::size_t>(tier::bulk)];
  // any, ttft, tbt, e2e: a rejection counts in every kind
  CHECK(counts(in.misses) == std::vector<std::uint64_t>{4, 3, 2, 2});
  CHECK(counts(bu.misses) == std::vector<std::uint64_t>{2, 1, 1, 2});
  CHECK(counts(r.all.misses) == std::vector<std::uint64_t>{6, 4, 3, 4});
  // the existing counts keep their meaning: late and late_ttft are completed requests only
  CHECK(in.violations == 4);
  CHECK(in.late == 1);
  CHECK(in.late_ttft == 2);
  CHECK(r.all.violations == r.all.misses.count_of(slo_kind::any));
  CHECK(in.misses.rate_of(slo_kind::ttft) == doctest::Approx(3.0 / 5.0));
  CHECK(r.all.misses.rate_of(slo_kind::any) == doctest::Approx(6.0 / 7.0));
  CHECK(r.all.misses.rate_of(slo_kind::any) == r.all.violation_rate);

  REQUIRE(r.classes.size() == 3);
  CHECK(counts(r.classes[0].misses) == std::vector<std::uint64_t>{2, 1, 1, 0});
  CHECK(counts(r.classes[1].misses) == std::vector<std::uint64_t>{2, 1, 1, 2});
  CHECK(counts(r.classes[2].misses) == std::vector<std::uint64_t>{2, 2, 1, 2});
  CHECK(r.classes[0].read == 3);
  CHECK(r.classes[2].read == 2);
  CHECK(r.classes[2].rejected == 1);
  CHECK(r.classes[2].misses.rate_of(slo_kind::e2e) == 1.0);
  CHECK(r.classes[0].misses.rate_of(slo_kind::tbt) == doctest::Approx(1.0 / 3.0));

  // TBT: per-request means of the 4 interactive completions; the bulk one had no TBT
  CHECK(in.tbt.count == 4);
  CHECK(bu.tbt.count == 0);
  CHECK(r.all.tbt.count == 4);
  CHECK(in.tbt.max_s == doctest::Approx(0.5));
  CHECK(in.tbt.p50_s == doctest::Approx(0.01).epsilon(quantile_sketch::default_alpha));  // a streamed percentile
  CHECK(in.tbt.mean_s == doctest::Approx((0.01 + 0.01 + 0.5 + 0.02) / 4));
}

TEST_CASE("sim_slo.workload.sets_the_pacing_target") {
  SUBCASE("default mix: interactive classes pace at the TPOT, batch has no target") {
    const workload_mix mix =
        default_mix(std::filesystem::path(JOULESCHED_SOURCE_DIR) / mix_defaults::chat_trace_relpath);
    CHECK(mix.classes[*find_class(mix, "chat")].tbt_slo_s == mix_defaults::interactive_tpot_slo_s);
    CHECK(mix.classes[*find_class(mix, "rag")].tbt_slo_s == mix_defaults::interactive_tpot_slo_s);
    CHECK(mix.classes[*find_class(mix, "batch")].tbt_slo_s == 0.0);
    mix_source_options o;
    o.max_requests = 500;
    mix_source src(mix, o);
    request r;
    int seen = 0;
    while (src.next(r)) {
      CHECK(r.tbt_s == mix.classes[r.cls].tbt_slo_s);
      ++seen;
    }
    CHECK(seen == 500);
  }
  SUBCASE("trace replay takes it from the class it labels the row with") {
    trace tr;
    tr.source = "test";
    for (int i = 0; i < 20; ++i) tr.rows.push_back({static_cast<double>(i), 100, 50});
    workload_mix mix = one_class_mix(0.07);
    class_spec other = mix.classes[0];
    other.name = "other";
    other.tbt_slo_s = 0.0;
    mix.classes[0].share = other.share = 0.5;
    mix.classes.push_back(other);
    trace_source src(tr, mix);
    request r;
    int per_class[2] = {0, 0};
    while (src.next(r)) {
      REQUIRE(r.cls < 2);
      CHECK(r.tbt_s == (r.cls == 0 ? 0.07 : 0.0));
      ++per_class[r.cls];
    }
    CHECK(per_class[0] + per_class[1] == 20);
    CHECK(per_class[0] > 0);  // both classes drawn (seed 1)
    CHECK(per_class[1] > 0);
  }
  SUBCASE("a negative or non-finite target is refused, naming the field") {
    for (const double bad : {-0.1, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
      CHECK_THROWS_WITH_AS(validate(one_class_mix(bad)), doctest::Contains("classes[0] (only).tbt_slo_s"),
                           config_error);
    }
    CHECK_NOTHROW(validate(one_class_mix(0.0)));
  }
}

TEST_CASE("sim_slo.engine.misses_by_kind") {
  SUBCASE("a pacing target tighter than the step time misses tbt, not e2e") {
    // 11 output tokens each. Request 0 is admitted alone (first token at 0.01 s), decodes one step, waits for the
    // prefill of 1 and 2 (0.02-0.03 s), then decodes 9 more: done at 0.12 s, TBT 0.011 s. Request 1: first token
    // at 0.03 s, 10 steps, done at 0.13 s, TBT 0.01 s. Request 2 completes at its prefill.
    request tight = make(0, 0.0, 11, 0);
    tight.tbt_s = 0.005;
    request loose = make(1, 0.0, 11, 1);
    loose.tbt_s = 0.02;
    request single = make(2, 0.0, 1, 2);  // one output token: no TBT, cannot miss it
    single.tbt_s = 1e-9;
    const sim_result r = run_one_device({tight, loose, single}, 8);
    REQUIRE(r.completed == 3);
    CHECK(r.all.misses.count_of(slo_kind::tbt) == 1);
    CHECK(r.all.misses.count_of(slo_kind::e2e) == 0);
    CHECK(r.all.misses.count_of(slo_kind::ttft) == 0);
    CHECK(r.all.violations == 1);
    CHECK(r.all.late == 0);
    REQUIRE(r.classes.size() == 3);
    CHECK(r.classes[0].misses.count_of(slo_kind::tbt) == 1);
    CHECK(r.classes[1].misses.count_of(slo_kind::any) == 0);
    CHECK(r.classes[2].misses.count_of(slo_kind::any) == 0);
    CHECK(r.all.tbt.count == 2);
    CHECK(r.all.tbt.mean_s == doctest::Approx((0.011 + 0.010) / 2).epsilon(1e-6));
    CHECK(r.all.tbt.max_s == doctest::Approx(0.011).epsilon(1e-6));
  }
  SUBCASE("a request waiting behind another misses its ttft, not its e2e deadline") {
    // Batch limit 1: request 0 holds the device until 0.01 + 99 x 0.01 = 1.0 s; request 1 arrives at 0.1 s
    // and gets its first token at 1.01 s, after its TTFT deadline of 0.5 s.
    request late = make(1, 0.1, 10, 3);
    late.ttft_deadline_s = 0.5;
    const sim_result r = run_one_device({make(0, 0.0, 100, 0), late}, 1);
    REQUIRE(r.completed == 2);
    CHECK(r.all.misses.count_of(slo_kind::ttft) == 1);
    CHECK(r.all.misses.count_of(slo_kind::e2e) == 0);
    CHECK(r.all.misses.count_of(slo_kind::tbt) == 0);
    CHECK(r.all.late_ttft == 1);
    REQUIRE(r.classes.size() == 4);
    CHECK(r.classes[3].misses.count_of(slo_kind::ttft) == 1);
    CHECK(r.classes[0].misses.count_of(slo_kind::any) == 0);
  }
  SUBCASE("a rejected request misses every kind, in its class") {
    request huge = make(1, 0.0, 10, 5);
    huge.input_tok = 200'000;  // more than the device's KV cache
    const sim_result r = run_one_device({make(0, 0.0, 10, 0), huge}, 8);
    CHECK(r.rejected == 1);
    for (const slo_kind k : {slo_kind::any, slo_kind::ttft, slo_kind::tbt, slo_kind::e2e}) {
      CAPTURE(to_string(k));
      CHECK(r.all.misses.count_of(k) == 1);
      REQUIRE(r.classes.size() == 6);
      CHECK(r.classes[5].misses.count_of(k) == 1);
      CHECK(r.classes[5].misses.rate_of(k) == 1.0);
    }
  }
  SUBCASE("a source's pacing target must be finite and >= 0") {
    for (const double bad : {-1.0, std::numeric_limits<double>::quiet_NaN()}) {
      request r = make(0, 0.0, 10, 0);
      r.tbt_s = bad;
      CHECK_THROWS_WITH_AS(run_one_device({r}, 8), doctest::Contains("tbt_s"), config_error);
    }
  }
}

TEST_CASE("sim_slo.pi_target.the_controller_holds_only_its_kind") {
  // Every outcome misses e2e only. Pointed at ttft the controller sees no miss and lowers lambda; pointed at
  // e2e (or any) it sees every request miss and raises it. A rejection misses every kind, ttft included.
  const auto run = [](slo_kind target, const slo_outcome& o) {
    shared_price lambda(100.0);
    policy_settings s;
    s.pi_target = target;
    pi_lambda_control c(lambda, s);
    for (int i = 0; i < 100; ++i) c.on_outcome(0.005 * i, tier::interactive, o);
    c.tick(1.0);
    REQUIRE(c.trace().size() == 1);
    return c.trace().back();
  };
  const slo_outcome e2e_only{false, false, true};
  const lambda_sample on_ttft = run(slo_kind::ttft, e2e_only);
  const lambda_sample on_e2e = run(slo_kind::e2e, e2e_only);
  const lambda_sample on_any = run(slo_kind::any, e2e_only);
  CHECK(on_ttft.miss_rate == 0.0);
  CHECK(on_e2e.miss_rate == 1.0);
  CHECK(on_any.miss_rate == 1.0);
  CHECK(on_ttft.lambda_j_per_s < 100.0);
  CHECK(on_e2e.lambda_j_per_s > 100.0);
  CHECK(run(slo_kind::ttft, slo_outcome::rejected()).miss_rate == 1.0);
  CHECK(policy_settings{}.pi_target == slo_kind::any);
  shared_price lambda(100.0);
  policy_settings bad;
  bad.pi_target = static_cast<slo_kind>(7);
  CHECK_THROWS_WITH_AS(pi_lambda_control(lambda, bad), doctest::Contains("pi_target"), config_error);
}

TEST_CASE("sim_slo.parse_slo_kind") {
  CHECK(parse_slo_kind("tbt", "test") == slo_kind::tbt);
  CHECK_THROWS_WITH_AS((void)parse_slo_kind("TTFT", "--pi-target"), doctest::Contains("--pi-target"), config_error);
}
