// cost/service.hpp by hand: what a request costs on a device that prices every part of it (prefill, request,
// context, operating batch), for prefill-heavy and decode-heavy views and for 0 and 1 output tokens; the
// nanoseconds a router reserves; the cost terms read from it; and the request_view fields it reads (TTFT
// budget, pacing target, SLO class) as make_request_view and checked_request_view fill and check them.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
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
  // first token at 0.5 + 1.01 = 1.51 s: 0.51 s late; last at 0.5 + 1.25022 = 1.75022 s: 0.55022 s late; pacing:
  // the 0.5 s backlog holds 0.5 / 1.070055 = 0.467266 requests like this one, whose prefills (1.01 s each) stall
  // its 10 decode tokens by 0.0471938 s each, so (0.024022 + 0.0471938 - 0.02) x 10 = 0.512158 s. Sum 1.572378 s.
  CHECK(slo_penalty_term{}(p, l, v) == doctest::Approx(1.572378));
  CHECK(eta_term{}(p, l, v) == doctest::Approx(1.75022));
  CHECK(energy_term{}(p, l, v) == doctest::Approx(258.0055));
  CHECK(energy_term{}.floor(p, v) == doctest::Approx(1.0));  // 0.1 J x 10 decode tokens: below 258 J
  CHECK(reserved_work_term{}(p, l, v) == doctest::Approx(0.5));
  CHECK(joulesched_cost(2.0)(p, l, v) == doctest::Approx(258.0055 + 2.0 * 1.572378));
  // Each SLO kind alone. Already past the TTFT budget (negative, legal): the whole wait counts, 1.51 + 2.
  request_view ttft_only{11, 5000, 100.0};
  ttft_only.ttft_budget_s = -2.0;
  CHECK(slo_penalty_term{}(p, l, ttft_only) == doctest::Approx(3.51));
  // No TTFT budget (max_budget_s), no pacing target: only the end-to-end deadline.
  const request_view e2e_only{11, 5000, 1.2};
  CHECK(slo_penalty_term{}(p, l, e2e_only) == doctest::Approx(0.55022));
  // On an idle device a pacing target met (tbt 0.024022 <= 0.03) costs nothing; the end-to-end deadline far.
  request_view paced{11, 5000, 100.0};
  paced.tbt_s = 0.03;
  CHECK(slo_penalty_term{}(p, device_load{}, paced) == 0.0);
  // Behind the 0.5 s backlog the batch-mates' prefills stall it: (0.024022 + 0.0471938 - 0.03) x 10.
  CHECK(slo_penalty_term{}(p, l, paced) == doctest::Approx(0.412158));
  paced.tbt_s = 0.004022;  // missed by 0.02 s a token on the idle device, for 10 tokens
  CHECK(slo_penalty_term{}(p, device_load{}, paced) == doctest::Approx(0.2));
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
