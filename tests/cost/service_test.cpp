// cost/service.hpp by hand: what a request costs on a device that prices every part of it (prefill, request,
// context, operating batch), for prefill-heavy and decode-heavy views and for 0 and 1 output tokens; the
// nanoseconds a router reserves; its service behind a backlog (capacity, step, stalls; monotone); the cost
// terms read from it; and the request_view fields it reads (TTFT
// budget, pacing target, SLO class) as make_request_view and checked_request_view fill and check them.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/terms.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "support/errors.hpp"

using namespace joulesched;

namespace {
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

// Every field set: 1000 tok/s and 0.1 J per decode token; prefill 0.2 ms and 0.05 J per prompt token; 10 ms and
// 2 J per request; 1 us and 0.1 mJ per decode token per token of context; batch 4.
device_params every_field() {
  device_params p{1000.0, 0.1};
  p.prefill_s_per_tok = 2e-4;
  p.prefill_j_per_tok = 0.05;
  p.request_s = 0.01;
  p.request_j = 2.0;
  p.ctx_s_per_tok = 1e-6;
  p.ctx_j_per_tok = 1e-4;
  p.batch = 4.0;
  return p;
}

// The reservation is ceil(work_s * 1e9): exact up to the rounding of work_s itself, which may carry it 1 ns up.
void check_ns(std::uint64_t got, std::uint64_t by_hand) {
  CHECK(got >= by_hand);
  CHECK(got <= by_hand + 1);
}
}  // namespace

TEST_CASE("predict_service.prefill_heavy_by_hand") {
  const device_params p = every_field();
  const request_view v{11, 5000, 10.0};  // 11 output tokens after a 5000-token prompt
  const service_estimate e = predict_service(p, v);
  // decode tokens 11 - 1 = 10 (the prefill yields the first); mean context 5000 + 11 / 2 = 5005.5.
  CHECK(decode_tokens(v) == 10.0);
  CHECK(mean_context_tok(v) == 5005.5);
  // prefill 0.01 + 2e-4 x 5000 = 1.01 s; a decode token 1 / 1000 + 1e-6 x 5005.5 = 0.0060055 s.
  CHECK(e.first_token_s == doctest::Approx(1.01));
  // work 1.01 + 10 x 0.0060055 = 1.070055 s.
  CHECK(e.work_s == doctest::Approx(1.070055));
  // energy 2 + 0.05 x 5000 + 10 x (0.1 + 1e-4 x 5005.5) = 252 + 6.0055 = 258.0055 J.
  CHECK(e.energy_j == doctest::Approx(258.0055));
  // the batch shares each step: tbt 4 x 0.0060055 = 0.024022 s; latency 1.01 + 10 x 0.024022 = 1.25022 s.
  CHECK(e.tbt_s == doctest::Approx(0.024022));
  CHECK(e.latency_s == doctest::Approx(1.25022));
  check_ns(reserved_work_ns(p, v), 1'070'055'000);
  CHECK(reserved_work_ns(p, v) == to_work_ns(e.work_s));
}

TEST_CASE("predict_service.decode_heavy_by_hand") {
  const device_params p = every_field();
  const request_view v{2001, 10, 10.0};
  const service_estimate e = predict_service(p, v);
  // decode tokens 2000; mean context 10 + 2001 / 2 = 1010.5; a decode token 0.001 + 1e-6 x 1010.5 = 0.0020105 s.
  CHECK(mean_context_tok(v) == 1010.5);
  // prefill 0.01 + 2e-4 x 10 = 0.012 s; work 0.012 + 2000 x 0.0020105 = 4.033 s.
  CHECK(e.first_token_s == doctest::Approx(0.012));
  CHECK(e.work_s == doctest::Approx(4.033));
  // energy 2 + 0.05 x 10 + 2000 x (0.1 + 1e-4 x 1010.5) = 2.5 + 402.1 = 404.6 J.
  CHECK(e.energy_j == doctest::Approx(404.6));
  // tbt 4 x 0.0020105 = 0.008042 s; latency 0.012 + 2000 x 0.008042 = 16.096 s (4x the device-seconds of decode).
  CHECK(e.tbt_s == doctest::Approx(0.008042));
  CHECK(e.latency_s == doctest::Approx(16.096));
  check_ns(reserved_work_ns(p, v), 4'033'000'000);
}

TEST_CASE("predict_service.zero_and_one_output_tokens_price_the_prefill_alone") {
  const device_params p = every_field();
  for (const std::uint32_t t : {0u, 1u}) {
    CAPTURE(t);
    const request_view v{t, 100, 10.0};
    const service_estimate e = predict_service(p, v);
    CHECK(decode_tokens(v) == 0.0);
    // prefill 0.01 + 2e-4 x 100 = 0.03 s and 2 + 0.05 x 100 = 7 J; no decode.
    CHECK(e.work_s == doctest::Approx(0.03));
    CHECK(e.first_token_s == doctest::Approx(0.03));
    CHECK(e.latency_s == doctest::Approx(0.03));
    CHECK(e.energy_j == doctest::Approx(7.0));
    check_ns(reserved_work_ns(p, v), 30'000'000);
  }
  // The pacing a token would have: batch 4 x (0.001 + 1e-6 x ctx), ctx 100 for t = 0 and 100.5 for t = 1.
  CHECK(predict_service(p, request_view{0, 100, 1.0}).tbt_s == doctest::Approx(0.0044));
  CHECK(predict_service(p, request_view{1, 100, 1.0}).tbt_s == doctest::Approx(0.004402));

  // Legacy parameters {rate, eps} price decode alone: nothing for 0 or 1 token, eps x (t - 1) after.
  const device_params legacy{200.0, 0.15};
  for (const std::uint32_t t : {0u, 1u}) {
    const service_estimate e = predict_service(legacy, request_view{t, 5000, 1.0});
    CHECK(e.work_s == 0.0);
    CHECK(e.energy_j == 0.0);
    CHECK(e.latency_s == 0.0);
    CHECK(reserved_work_ns(legacy, request_view{t, 5000, 1.0}) == 0);
  }
  // t = 2: one decode token, 1 / 200 = 5 ms, 0.15 J.
  CHECK(predict_service(legacy, request_view{2, 5000, 1.0}).energy_j == doctest::Approx(0.15));
  CHECK(reserved_work_ns(legacy, request_view{2, 5000, 1.0}) == 5'000'000);
  // t = 101 at 200 tok/s: 100 / 200 = 0.5 s exactly.
  CHECK(reserved_work_ns(legacy, request_view{101, 0, 1.0}) == 500'000'000);
}

TEST_CASE("to_work_ns.rounds_up_and_saturates") {
  CHECK(to_work_ns(0.0) == 0);
  CHECK(to_work_ns(-1.0) == 0);
  CHECK(to_work_ns(nan_v) == 0);
  CHECK(to_work_ns(1e-12) == 1);  // anything that costs reserves at least 1 ns
  CHECK(to_work_ns(2.5e-9) == 3);
  CHECK(to_work_ns(1.0) == 1'000'000'000);
  CHECK(to_work_ns(1e9) == max_work_ns);  // 1e18 ns > 2^50
  CHECK(to_work_ns(inf_v) == max_work_ns);
  CHECK(max_work_ns == std::uint64_t{1} << 50);
}

TEST_CASE("cost_terms.read_the_service_by_hand") {
  const device_params p = every_field();
  request_view v{11, 5000, 1.2};  // the prefill-heavy view: work 1.070055 s, first token 1.01 s, latency 1.25022 s
  v.ttft_budget_s = 1.0;
  v.tbt_s = 0.02;
  const device_load l{500'000'000, 3};  // 0.5 s of backlog
  // predict_behind: the 0.5 s backlog holds 0.5 / 1.070055 = 0.467266 requests like this one, so it decodes in a
  // batch of j = 1.467266 (no capacity limit: admitted at once, first token at 1.01 s, 0.01 s late). Its step
  // j x 0.0060055 s (step_s 0) is stretched by the others' prefills: (1 - 1 / j) x 1.01 / 0.060055 = 5.355837,
  // so tbt = 0.0560055 s (= j x 0.0060055 + 0.467266 x 1.01 / 10), 0.0360055 s over its target for 10 tokens:
  // 0.360055 s; last token at 1.01 + 10 x 0.0560055 = 1.570055 s, 0.370055 s late. Sum 0.74011 s.
  const service_estimate behind = predict_behind(p, v, 0.5);
  CHECK(behind.first_token_s == doctest::Approx(1.01));
  CHECK(behind.tbt_s == doctest::Approx(0.0560055));
  CHECK(behind.latency_s == doctest::Approx(1.570055));
  CHECK(slo_penalty_term{}(p, l, v) == doctest::Approx(0.74011));
  CHECK(eta_term{}(p, l, v) == doctest::Approx(1.75022));  // the fluid ETA: backlog + latency at the batch
  CHECK(energy_term{}(p, l, v) == doctest::Approx(258.0055));
  CHECK(energy_term{}.floor(p, v) == doctest::Approx(1.0));  // 0.1 J x 10 decode tokens: below 258 J
  CHECK(reserved_work_term{}(p, l, v) == doctest::Approx(0.5));
  CHECK(joulesched_cost(2.0)(p, l, v) == doctest::Approx(258.0055 + 2.0 * 0.74011));
  // Each SLO kind alone. Already past the TTFT budget (negative, legal): the whole time to it counts, 1.01 + 2.
  request_view ttft_only{11, 5000, 100.0};
  ttft_only.ttft_budget_s = -2.0;
  CHECK(slo_penalty_term{}(p, l, ttft_only) == doctest::Approx(3.01));
  // No TTFT budget (max_budget_s), no pacing target: only the end-to-end deadline.
  const request_view e2e_only{11, 5000, 1.2};
  CHECK(slo_penalty_term{}(p, l, e2e_only) == doctest::Approx(0.370055));
  // On an idle device it runs alone, unstalled: tbt 0.0060055 s meets a 0.03 s target and costs nothing.
  request_view paced{11, 5000, 100.0};
  paced.tbt_s = 0.03;
  CHECK(slo_penalty_term{}(p, device_load{}, paced) == 0.0);
  // Behind the 0.5 s backlog: (0.0560055 - 0.03) x 10.
  CHECK(slo_penalty_term{}(p, l, paced) == doctest::Approx(0.260055));
  paced.tbt_s = 0.0040055;  // missed by 0.002 s a token on the idle device, for 10 tokens
  CHECK(slo_penalty_term{}(p, device_load{}, paced) == doctest::Approx(0.02));
}

namespace {
// 1000 tok/s at batch 4, 2 ms of each step fixed, capacity 6 requests, prefill 10 ms + 0.1 ms a prompt token.
device_params capacity_device() {
  device_params d{1000.0, 0.1};
  d.batch = 4.0;
  d.step_s = 0.002;
  d.capacity = 6.0;
  d.request_s = 0.01;
  d.prefill_s_per_tok = 1e-4;
  return d;
}
}  // namespace

TEST_CASE("predict_behind.capacity_step_and_stalls_by_hand") {
  // 1000 tok/s at batch 4 (1 ms of device time a token), 2 ms of each step fixed; capacity 6 requests;
  // prefill 10 ms + 0.1 ms a prompt token. A request of 100 prompt and 101 output tokens: prefill p = 0.02 s,
  // 100 decode tokens of 1 ms: work w = 0.12 s, decode 0.1 s.
  const device_params d = capacity_device();
  const request_view v{101, 100, 100.0};
  // Alone (no backlog): a batch of 1, step 0.002 + 1 x (0.001 - 0.002 / 4) = 0.0025 s, no stall.
  const service_estimate alone = predict_behind(d, v, 0.0);
  CHECK(alone.first_token_s == doctest::Approx(0.02));
  CHECK(alone.tbt_s == doctest::Approx(0.0025));
  CHECK(alone.latency_s == doctest::Approx(0.02 + 100 * 0.0025));
  CHECK(alone.work_s == doctest::Approx(0.12));
  CHECK(alone.energy_j == predict_service(d, v).energy_j);
  // Behind 0.36 s: 3 requests like it, a batch of 4 (the operating one): step 0.002 + 4 x 0.0005 = 0.004 s,
  // stretched by (1 - 1/4) x 0.02 / 0.1 = 0.15.
  const service_estimate four = predict_behind(d, v, 0.36);
  CHECK(four.first_token_s == doctest::Approx(0.02));
  CHECK(four.tbt_s == doctest::Approx(0.004 * 1.15));
  // Behind 1.2 s: 10 ahead, 11 with it, 5 beyond the capacity of 6: admitted after 5 x 0.12 = 0.6 s, then a
  // batch of 6: step 0.002 + 6 x 0.0005 = 0.005 s, stretched by (1 - 1/6) x 0.2.
  const service_estimate full = predict_behind(d, v, 1.2);
  CHECK(full.first_token_s == doctest::Approx(0.6 + 0.02));
  CHECK(full.tbt_s == doctest::Approx(0.005 * (1.0 + 5.0 / 6.0 * 0.2)));
  CHECK(full.latency_s == doctest::Approx(full.first_token_s + 100 * full.tbt_s));
  // Beyond the capacity the step stops growing; only the wait does.
  CHECK(predict_behind(d, v, 12.0).tbt_s == doctest::Approx(full.tbt_s));
  CHECK(predict_behind(d, v, 12.0).first_token_s == doctest::Approx((100.0 + 1.0 - 6.0) * 0.12 + 0.02));
}

TEST_CASE("predict_service.network_round_trip_delays_the_tokens_not_the_work") {
  const device_params d = capacity_device();
  const request_view v{101, 100, 100.0};
  device_params far = d;
  far.network_s = 0.08;
  for (const double backlog_s : {0.0, 0.36, 1.2, 12.0}) {
    const service_estimate a = predict_behind(d, v, backlog_s);
    const service_estimate b = predict_behind(far, v, backlog_s);
    CHECK(b.first_token_s == doctest::Approx(a.first_token_s + 0.08));
    CHECK(b.latency_s == doctest::Approx(a.latency_s + 0.08));
    CHECK(b.tbt_s == a.tbt_s);  // the prefill that stalls batch-mates is the device's, not the network's
    CHECK(b.work_s == a.work_s);
    CHECK(b.energy_j == a.energy_j);
  }
  // A TTFT budget the near device meets by 0.05 s is missed by 0.03 s at the far one.
  request_view ttft = v;
  ttft.ttft_budget_s = predict_service(d, v).first_token_s + 0.05;
  CHECK(slo_penalty_term{}(d, device_load{}, ttft) == 0.0);
  CHECK(slo_penalty_term{}(far, device_load{}, ttft) == doctest::Approx(0.03));
}

TEST_CASE("predict_behind.defaults_give_the_fluid_estimate_and_no_work_waits_for_the_backlog") {
  // {rate, eps} only (batch 1, step_s 0, no capacity limit, no prefill): latency = backlog + t / rate, the ETA the
  // cost had before it knew the batch.
  const device_params legacy{200.0, 0.15};
  const request_view v{101, 0, 10.0};
  for (const double backlog : {0.0, 0.25, 3.0, 1e4}) {
    CAPTURE(backlog);
    const service_estimate e = predict_behind(legacy, v, backlog);
    CHECK(e.latency_s == doctest::Approx(backlog + 0.5));
    CHECK(e.first_token_s == 0.0);
    CHECK(e.latency_s == doctest::Approx(eta_term{}(legacy, device_load{to_work_ns(backlog), 1}, v)).epsilon(1e-9));
  }
  // A request of no work (one token on a device that prices decode alone) implies no batch: it waits for all.
  const service_estimate none = predict_behind(legacy, request_view{1, 50, 1.0}, 2.0);
  CHECK(none.first_token_s == 2.0);
  CHECK(none.latency_s == 2.0);
}

TEST_CASE("predict_behind.times_never_fall_as_the_backlog_grows") {
  // What keeps the class-indexed argmin exact: for fixed parameters and request, every predicted time is
  // nondecreasing in the backlog (random parameters, capacities, fixed step parts and requests).
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    device_params d{50.0 + 5000.0 * u(rng), u(rng)};
    d.batch = 1.0 + 255.0 * u(rng);
    d.step_s = u(rng) * d.batch / d.rate_tok_s;
    d.capacity = rng() % 3 == 0 ? inf_v : d.batch * (1.0 + 4.0 * u(rng));
    d.request_s = 0.05 * u(rng);
    d.prefill_s_per_tok = 1e-4 * u(rng);
    d.ctx_s_per_tok = 1e-6 * u(rng);
    const request_view v{static_cast<std::uint32_t>(rng() % 2000), static_cast<std::uint32_t>(rng() % 8000), 1.0};
    service_estimate prev = predict_behind(d, v, 0.0);
    for (double b = 1e-3; b < 1e5; b *= 1.7) {
      const service_estimate e = predict_behind(d, v, b);
      REQUIRE(e.first_token_s >= prev.first_token_s);
      REQUIRE(e.tbt_s >= prev.tbt_s);
      REQUIRE(e.latency_s >= prev.latency_s);
      prev = e;
    }
  }
}

TEST_CASE("argmin_router.reserves_the_predicted_work_of_the_chosen_device") {
  // A fast prefill device and a fast decode device: a long prompt goes to the first, a long output to the
  // second (lambda 0: by energy), each reserving what it costs there.
  device_params prefill_fast{500.0, 0.1};
  prefill_fast.prefill_j_per_tok = 0.001;
  device_params decode_fast{2000.0, 0.05};
  decode_fast.prefill_j_per_tok = 0.01;
  fleet f(std::vector<device_params>{prefill_fast, decode_fast});
  argmin_router<joulesched_cost> r(f, joulesched_cost(0.0));
  // 20000-token prompt, 11 tokens: 20 + 1 = 21 J on device 0, 200 + 0.5 = 200.5 J on device 1.
  const request_view rag{11, 20000, 60.0};
  const auto a = r.route(rag);
  REQUIRE(a);
  CHECK(a->device == 0);
  CHECK(a->work_ns == 20'000'000);  // 10 decode tokens at 500 tok/s; its prefill costs joules, not time
  // 100-token prompt, 1001 tokens: 0.1 + 100 = 100.1 J on device 0, 1 + 50 = 51 J on device 1.
  const request_view chat{1001, 100, 60.0};
  const auto b = r.route(chat);
  REQUIRE(b);
  CHECK(b->device == 1);
  CHECK(b->work_ns == 500'000'000);  // 1000 / 2000 s
  CHECK(f.load(0).reserved_ns == 20'000'000);
  CHECK(f.load(1).reserved_ns == 500'000'000);
  // The prompt is done: the engine corrects the reservation to the decode left, then releases.
  assignment placed = *b;
  CHECK(r.correct(placed, 250'000'000));
  CHECK(f.load(1).reserved_ns == 250'000'000);
  CHECK(r.release(placed));
  CHECK(r.release(*a));
  CHECK(f.load(0).reserved_ns == 0);
  CHECK(f.load(1).reserved_ns == 0);
}

namespace {
struct slo_request {
  double input_tok;
  double deadline_s;
  double ttft_deadline_s;
  double tbt_s;
  int slo_class;
};
struct plain_request {
  double input_tok;
  double deadline_s;
};
bool same(const request_view& a, const request_view& b) {
  return a.work_tok == b.work_tok && a.input_tok == b.input_tok && a.budget_s == b.budget_s && a.tier == b.tier &&
         a.ttft_budget_s == b.ttft_budget_s && a.tbt_s == b.tbt_s && a.slo_class == b.slo_class;
}
}  // namespace

TEST_CASE("request_view.fills_ttft_budget_pacing_and_slo_class") {
  const slo_request r{300, 110.0, 100.5, 0.05, 7};
  const request_view v = make_request_view(r, 100.0, 64.0);
  CHECK(v.work_tok == 64);
  CHECK(v.input_tok == 300);
  CHECK(v.budget_s == doctest::Approx(10.0));
  CHECK(v.ttft_budget_s == doctest::Approx(0.5));
  CHECK(v.tbt_s == 0.05);
  CHECK(v.slo_class == 7);
  CHECK(same(checked_request_view(r, 100.0, 64.0, "x"), v));
  // A TTFT deadline already past is legal: a negative budget.
  const request_view late = checked_request_view(slo_request{1, 110.0, 90.0, 0.0, 0}, 100.0, 1.0, "x");
  CHECK(late.ttft_budget_s == doctest::Approx(-10.0));
  CHECK(late.tbt_s == 0.0);
  // Without those members: no TTFT SLO (max_budget_s), no pacing target, the default class.
  const request_view plain = checked_request_view(plain_request{1, 110.0}, 100.0, 1.0, "x");
  CHECK(plain.ttft_budget_s == max_budget_s);
  CHECK(plain.tbt_s == 0.0);
  CHECK(plain.slo_class == default_slo_class);
  CHECK(same(make_request_view(plain_request{1, 110.0}, 100.0, 1.0), plain));
}

TEST_CASE("request_view.checked_rejects_bad_ttft_and_tbt_naming_the_field") {
  const auto msg = [](const slo_request& r, double now = 0.0) {
    return test::error_of([&] { (void)checked_request_view(r, now, 1.0, "trace.csv:9"); });
  };
  test::check_mentions(msg({1, 10.0, 1.0, nan_v, 0}), {"trace.csv:9", "tbt_s = nan"});
  test::check_mentions(msg({1, 10.0, 1.0, inf_v, 0}), {"trace.csv:9", "tbt_s = inf"});
  test::check_mentions(msg({1, 10.0, 1.0, -0.5, 0}), {"trace.csv:9", "tbt_s = -0.5"});
  test::check_mentions(msg({1, 10.0, 1.0, 2e12, 0}), {"trace.csv:9", "tbt_s = "});
  test::check_mentions(msg({1, 10.0, nan_v, 0.0, 0}), {"trace.csv:9", "ttft_deadline_s = nan"});
  test::check_mentions(msg({1, 10.0, inf_v, 0.0, 0}), {"trace.csv:9", "ttft_deadline_s = inf"});
  test::check_mentions(msg({1, 10.0, 2e12, 0.0, 0}), {"trace.csv:9", "ttft_budget_s (ttft_deadline_s - now_s) = "});
  test::check_mentions(msg({1, 10.0, -2e12, 0.0, 0}), {"ttft_budget_s"});
  // Within range both ways, and the bounds: legal.
  CHECK(checked_request_view(slo_request{1, 10.0, -1e12, 1e12, 0}, 0.0, 1.0, "x").ttft_budget_s == -1e12);
  CHECK(checked_request_view(slo_request{1, 10.0, 5.0, 0.0, 0}, 0.0, 1.0, "x").ttft_budget_s == 5.0);
}
