// Cost models and tier classifiers: values a user can compute by hand, and the errors of bad parameters.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/tiers/classifiers.hpp"

using namespace joulesched;

namespace {
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

struct req {
  double input_tok;
  double deadline_s;
  std::optional<tier> declared_tier;
};
}  // namespace

TEST_CASE("joulesched_cost.value_by_hand") {
  const device_params d{200.0, 0.15};
  const device_load l{1'505'000'000, 2};  // 1.505 s of reserved work
  const request_view r{100, 50, 1.5};
  // The prefill yields the first token, so 99 decode tokens: energy 0.15 * 99 = 14.85 J, latency 99 / 200 =
  // 0.495 s (no prefill coefficients: the prefill is free); ETA = 1.505 + 0.495 = 2 s, late by 0.5 s.
  CHECK(predict_service(d, r).energy_j == doctest::Approx(14.85));
  CHECK(predict_service(d, r).latency_s == doctest::Approx(0.495));
  CHECK(joulesched_cost(0.0)(d, l, r) == doctest::Approx(14.85));
  CHECK(joulesched_cost(8.0)(d, l, r) == doctest::Approx(14.85 + 8.0 * 0.5));
  // Not late: the penalty vanishes whatever lambda is (ETA 0.495 s on an idle device).
  CHECK(joulesched_cost(1e6)(d, device_load{0, 0}, r) == doctest::Approx(14.85));
  // Already past its deadline: the whole ETA and the overdue time are late: 2 - (-1) = 3 s.
  const request_view late{100, 50, -1.0};
  CHECK(joulesched_cost(2.0)(d, l, late) == doctest::Approx(14.85 + 2.0 * 3.0));
  // A TTFT budget prices the first token too. With no capacity limit the request joins the running batch at once
  // (a free prefill: first token at 0 s), so a budget of 1 s is met, and so is the end-to-end deadline (10 s).
  request_view ttft{100, 50, 10.0};
  ttft.ttft_budget_s = 1.0;
  CHECK(joulesched_cost(8.0)(d, l, ttft) == doctest::Approx(14.85));
  // On a device that holds one request at a time it waits for the backlog: first token at B = 1.505 s, 0.505 s
  // after the budget: 14.85 + 8 * 0.505.
  device_params one_at_a_time = d;
  one_at_a_time.capacity = 1.0;
  CHECK(joulesched_cost(8.0)(one_at_a_time, l, ttft) == doctest::Approx(14.85 + 8.0 * 0.505));
}

TEST_CASE("joulesched_cost.prices_the_batch_step_against_the_devices_pacing_guard") {
  // A batch of 8 at 200 tokens/s with a fixed step part of 0.01 s: a request's share of a step is 1 / 200 = 0.005 s,
  // so a batch of j steps 0.01 + j x (0.005 - 0.01 / 8) = 0.01 + 0.00375 j seconds (no prefill: no stall).
  device_params d{200.0, 0.15};
  d.batch = 8.0;
  d.step_s = 0.01;
  const request_view bulk{100, 50, 1e6};  // 100 output tokens, no pacing target of its own, a far deadline
  // 99 decode tokens: 0.495 device-seconds, 14.85 J. Behind 19 of them (9.405 s) it joins a batch of 20: 0.085 s.
  const device_load l{9'405'000'000, 19};
  const double step_s = 0.01 + 0.00375 * 20.0;
  REQUIRE(predict_behind(d, bulk, l.reserved_s()).tbt_s == doctest::Approx(step_s));
  CHECK(joulesched_cost(1.0)(d, l, bulk) == doctest::Approx(14.85));  // no target, no guard: never late
  // A guard of 0.05 s: the step it stretches is its batch-mates' too, so it is late by the excess per token.
  d.pacing_s = 0.05;
  CHECK(slo_penalty_term{}(d, l, bulk) == doctest::Approx((step_s - 0.05) * 99.0));
  CHECK(joulesched_cost(2.0)(d, l, bulk) == doctest::Approx(14.85 + 2.0 * (step_s - 0.05) * 99.0));
  // The stricter of the two targets holds: a looser own target is priced at the guard, a stricter one at its own.
  request_view loose = bulk;
  loose.tbt_s = 0.2;
  CHECK(slo_penalty_term{}(d, l, loose) == doctest::Approx((step_s - 0.05) * 99.0));
  request_view strict = bulk;
  strict.tbt_s = 0.02;
  CHECK(slo_penalty_term{}(d, l, strict) == doctest::Approx((step_s - 0.02) * 99.0));
  // On an idle device it decodes alone: 0.01 + 0.00375 < 0.05, not late.
  CHECK(slo_penalty_term{}(d, device_load{}, bulk) == 0.0);
}

TEST_CASE("weighted_cost.sums_weighted_terms") {
  const device_params d{100.0, 0.2};
  const device_load l{1'000'000'000, 1};  // 1 s of reserved work
  const request_view r{50, 0, 10.0};
  // 49 decode tokens: energy 0.2 * 49 = 9.8 J; ETA = 1 + 49 / 100 = 1.49 s; reserved work 1 s.
  const weighted_cost<energy_term, eta_term, reserved_work_term> c({2.0, 3.0, 0.5});
  CHECK(c(d, l, r) == doctest::Approx(2.0 * 9.8 + 3.0 * 1.49 + 0.5 * 1.0));
  CHECK(eta_cost{}(d, l, r) == doctest::Approx(1.49));
  CHECK(reserved_work_cost{}(d, l, r) == doctest::Approx(1.0));
  // Whole nanoseconds: 1 ns of backlog is 1e-9 s.
  CHECK(reserved_work_cost{}(d, device_load{1, 1}, r) == doctest::Approx(1e-9));
}

TEST_CASE("weighted_cost.floor_bounds_every_load_and_its_key_orders_floors") {
  // The two promises of FlooredCostModel, as computed in floating point, over random devices, loads and
  // requests (zero work, already late, huge queues), for the floored costs the library ships.
  std::mt19937_64 rng(11);
  // Half the devices price the prefill, the request and the context too, at a random batch; half the requests
  // carry a TTFT budget and a pacing target.
  std::uniform_real_distribution<double> rate(50.0, 5000.0), energy(0.0, 1.0), budget(-5.0, 60.0),
      coefficient(0.0, 1e-3), batch(1.0, 64.0);
  const auto device = [&] {
    device_params p{rate(rng), energy(rng)};
    if (rng() % 2 == 0) {
      p.prefill_s_per_tok = coefficient(rng);
      p.prefill_j_per_tok = coefficient(rng);
      p.request_s = coefficient(rng);
      p.request_j = coefficient(rng);
      p.ctx_s_per_tok = coefficient(rng) * 1e-3;
      p.ctx_j_per_tok = coefficient(rng) * 1e-3;
      p.batch = batch(rng);
      p.step_s = energy(rng) * p.batch / p.rate_tok_s;
      p.capacity = p.batch * (1.0 + 4.0 * energy(rng));
    }
    return p;
  };
  const auto check = [&](const auto& cost) {
    for (int i = 0; i < 20000; ++i) {
      const device_params a = device(), b = device();
      request_view v{rng() % 4 == 0 ? 0u : static_cast<std::uint32_t>(rng() % 9000),
                     static_cast<std::uint32_t>(rng() % 20000), budget(rng)};
      if (rng() % 2 == 0) {
        v.ttft_budget_s = budget(rng);
        v.tbt_s = energy(rng) * 0.1;
      }
      const device_load l{rng() % 3 == 0 ? 0u : rng() % (std::uint64_t{1} << (rng() % 50)), 1};
      REQUIRE(cost.floor(a, v) <= cost(a, l, v));
      if (cost.floor_key(a) <= cost.floor_key(b)) REQUIRE(cost.floor(a, v) <= cost.floor(b, v));
      if (cost.floor_key(b) <= cost.floor_key(a)) REQUIRE(cost.floor(b, v) <= cost.floor(a, v));
    }
  };
  for (const double lambda : {0.0, 0.3, 20.0, 1e6}) check(joulesched_cost(lambda));
  check(weighted_cost<energy_term, eta_term, reserved_work_term>({2.0, 3.0, 0.5}));
  check(weighted_cost<slo_penalty_term, energy_term>({4.0, 0.25}));
  // Energy ignores the load; on a device that prices neither prefill nor context its floor is the energy itself
  // (0.2 J x 49 decode tokens), and a prefill makes the floor loose, never wrong.
  const device_params d{100.0, 0.2};
  const request_view r{50, 0, 10.0};
  CHECK(joulesched_cost(5.0).floor(d, r) == energy_term{}(d, device_load{}, r));
  device_params prefilled = d;
  prefilled.request_j = 3.0;
  CHECK(joulesched_cost(5.0).floor(prefilled, r) == doctest::Approx(9.8));
  CHECK(energy_term{}(prefilled, device_load{}, r) == doctest::Approx(12.8));
}

TEST_CASE("weighted_cost.bad_weights_throw_naming_the_weight") {
  CHECK_THROWS_WITH_AS((weighted_cost<energy_term, eta_term>({1.0, -1.0})), doctest::Contains("weight[1] = -1"),
                       config_error);
  CHECK_THROWS_AS((weighted_cost<energy_term, eta_term>({nan_v, 1.0})), config_error);
  CHECK_THROWS_WITH_AS(joulesched_cost{inf_v}, doctest::Contains("weight[1]"), config_error);
  joulesched_cost c(1.0);
  CHECK_THROWS_AS(c.set_lambda(nan_v), config_error);
  CHECK(c.lambda() == 1.0);  // a refused value leaves lambda as it was
  c.set_lambda(4.0);
  CHECK(c.lambda() == 4.0);
}

TEST_CASE("fleet.bad_device_parameters_throw_naming_device_and_field") {
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{{100, 0.1}, {0, 0.1}}),
                       doctest::Contains("device 1: rate_tok_s = 0"), config_error);
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{{-5, 0.1}}), doctest::Contains("rate_tok_s = -5"),
                       config_error);
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{{100, nan_v}}), doctest::Contains("energy_j_per_tok = nan"),
                       config_error);
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{{100, -0.1}}), doctest::Contains("energy_j_per_tok = -0.1"),
                       config_error);
  CHECK_THROWS_AS(fleet(std::vector<device_params>{{inf_v, 0.1}}), config_error);
  device_params bad_guard{100, 0.1};
  bad_guard.pacing_s = -0.1;
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{bad_guard}), doctest::Contains("device 0: pacing_s = -0.1"),
                       config_error);
  bad_guard.pacing_s = nan_v;
  CHECK_THROWS_WITH_AS(fleet(std::vector<device_params>{bad_guard}), doctest::Contains("pacing_s = nan"), config_error);

  struct gpu {
    double rate_tok_s, energy_j_per_tok;
  };
  CHECK_THROWS_WITH_AS(fleet(std::vector<gpu>{{1, 1}, {1, 1}, {nan_v, 1}}, "my-fleet.yaml"),
                       doctest::Contains("my-fleet.yaml: device 2: rate_tok_s"), config_error);
}

TEST_CASE("fleet.adapts_engine_devices_through_members") {
  struct gpu {
    double rate_tok_s, energy_j_per_tok;
    site_id site;
  };
  const fleet f(std::vector<gpu>{{100, 0.2, 0}, {100, 0.2, 1}, {100, 0.2, 0}});
  CHECK(f.size() == 3);
  CHECK(f.params(1).site == 1);
  CHECK(f.params(1).pacing_s == 0.0);  // no member: no guard
  CHECK(f.class_count() == 2);         // a different site is a different class

  struct paced_gpu {
    double rate_tok_s, energy_j_per_tok, pacing_s, network_s;
  };
  const fleet g(std::vector<paced_gpu>{{100, 0.2, 0.1, 0.03}, {100, 0.2, 0.05, 0.03}});
  CHECK(g.params(0).pacing_s == 0.1);
  CHECK(g.params(1).network_s == 0.03);
  CHECK(g.class_count() == 2);  // a different guard prices differently: a class of its own
}

TEST_CASE("request_view.from_engine_request") {
  const req r{120.4, 10.0, tier::bulk};
  const request_view v = make_request_view(r, 4.0, 99.2);
  CHECK(v.input_tok == 121);  // rounded up: a part token is still work
  CHECK(v.work_tok == 100);
  CHECK(v.budget_s == doctest::Approx(6.0));
  CHECK(v.tier == tier::bulk);
  // A deadline already past is legal: negative budget.
  CHECK(make_request_view(req{1, 1.0, {}}, 3.0, 1).budget_s == doctest::Approx(-2.0));
  CHECK(make_request_view(req{1, 1.0, {}}, 3.0, 1).tier == tier::interactive);
}

TEST_CASE("request_view.checked_rejects_nan_and_infinite_values") {
  CHECK_THROWS_WITH_AS((void)checked_request_view(req{nan_v, 1.0, {}}, 0.0, 1.0, "trace.csv:3"),
                       doctest::Contains("trace.csv:3: input_tok = nan"), config_error);
  CHECK_THROWS_WITH_AS((void)checked_request_view(req{1, inf_v, {}}, 0.0, 1.0, "client 7"),
                       doctest::Contains("client 7: deadline_s = inf"), config_error);
  CHECK_THROWS_WITH_AS((void)checked_request_view(req{1, 1.0, {}}, 0.0, -4.0, "x"),
                       doctest::Contains("output_estimate_tok = -4"), config_error);
  CHECK(checked_request_view(req{1, -5.0, {}}, 0.0, 1.0, "x").budget_s == doctest::Approx(-5.0));
}

TEST_CASE("classifiers.declared_slack_size") {
  request_view v{100, 900, 30.0, tier::bulk};
  CHECK(declared_tier_classifier{}(v) == tier::bulk);
  CHECK(slack_classifier(60.0)(v) == tier::interactive);
  CHECK(slack_classifier(30.0)(v) == tier::bulk);
  CHECK(size_classifier(1000)(v) == tier::bulk);
  CHECK(size_classifier(1001)(v) == tier::interactive);
  CHECK_THROWS_WITH_AS(slack_classifier{nan_v}, doctest::Contains("bulk_slack_s"), config_error);
}

TEST_CASE("tiered_router.bulk_to_most_efficient_interactive_to_fastest") {
  // Devices 0-1: fast and costly; device 2-3: slow and efficient.
  fleet f(std::vector<device_params>{{4000, 0.3}, {4000, 0.3}, {500, 0.1}, {500, 0.1}});
  using energy_router = argmin_router<joulesched_cost>;
  tiered_router r(slack_classifier(600.0), least_eta_router(f), energy_router(f, joulesched_cost(0.01)));
  const request_view chat{200, 100, 2.0};
  const request_view batch{2000, 3000, 3600.0};
  for (int i = 0; i < 4; ++i) CHECK(r.route(batch)->device >= 2);  // bulk: energy first
  const auto a = r.route(chat);
  CHECK(a->device <= 1);  // interactive: least ETA
  // Both tiers reserved load in one shared fleet, and either releases it. Each bulk request reserves its
  // 1999 decode tokens at 500 tok/s: 3.998 s = 3'998'000'000 ns.
  CHECK(reserved_work_ns(f.params(2), batch) == 3'998'000'000u);
  CHECK(f.load(2).reserved_ns + f.load(3).reserved_ns == 4 * std::uint64_t{3'998'000'000});
  r.release(*a);
  CHECK(f.load(a->device).reserved_ns == 0);
  // A const caller can ask each tier's router what it would pick, without reserving anything.
  const auto& cr = r;
  CHECK(*cr.bulk().pick(batch) >= 2);
  CHECK(*cr.interactive().pick(chat) <= 1);
  CHECK(f.load(0).reserved_ns + f.load(1).reserved_ns == 0);
}

TEST_CASE("tiered_router.routers_over_different_fleets_throw") {
  fleet f1(std::vector<device_params>{{100, 0.1}}), f2(std::vector<device_params>{{100, 0.1}});
  CHECK_THROWS_AS(tiered_router(declared_tier_classifier{}, least_loaded_router(f1), least_loaded_router(f2)),
                  config_error);
}

TEST_CASE("profile_cost.uses_batch_dependent_energy_and_takes_the_scan") {
  // Energy per token halves from batch 1 to batch 3; rate doubles.
  // Grid batch-major: (1, 0), (1, 1000), (3, 0), (3, 1000).
  const energy_profile prof("test-gpu", {1.0, 3.0}, {0.0, 1000.0}, {2.0, 2.0, 1.0, 1.0}, {100.0, 100.0, 200.0, 200.0});
  static_assert(!argmin_router<profile_cost>::class_indexed);
  device_params p{100.0, 2.0};
  p.profile = &prof;
  const request_view r{10, 0, 100.0};
  // 10 output tokens, the first from the (free) prefill: 9 decode tokens at the profile's energy.
  CHECK(profile_cost(0.0)(p, device_load{0, 0}, r) == doctest::Approx(18.0));  // batch 1: 2 J/token x 9
  CHECK(profile_cost(0.0)(p, device_load{0, 1}, r) == doctest::Approx(13.5));  // batch 2: 1.5 J/token x 9
  CHECK(profile_cost(0.0)(p, device_load{0, 2}, r) == doctest::Approx(9.0));   // batch 3: 1 J/token x 9
  // Two identical devices: the one already running a batch is cheaper, although it holds more load.
  device_params q = p;
  fleet f(std::vector<device_params>{p, q});
  argmin_router<profile_cost> router(f, profile_cost(0.0));
  CHECK(router.route(r)->device == 0);
  CHECK(router.route(r)->device == 0);  // joins the batch rather than starting one on device 1
  // Without a profile, the nominal parameters apply: 0.5 J/token x 9 decode tokens.
  CHECK(profile_cost(0.0)(device_params{100.0, 0.5}, device_load{0, 7}, r) == doctest::Approx(4.5));
}
