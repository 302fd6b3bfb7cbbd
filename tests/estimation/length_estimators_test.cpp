#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::test;

namespace {

struct req {
  double input_tok = 0.0;
  double deadline_s = 0.0;
  double output_tok = 0.0;
};

struct req_without_truth {
  double input_tok = 0.0;
  double deadline_s = 0.0;
};

// Deterministic samplers on the engine's raw bits (std distributions differ between standard libraries).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }
double exponential(std::mt19937_64& rng, double mean) { return -mean * std::log1p(-uniform01(rng)); }
double lognormal(std::mt19937_64& rng, double mu, double sigma) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]
  const double u2 = uniform01(rng);
  return std::exp(mu + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

// The p-quantile of a sample (nearest rank).
double sample_quantile(std::vector<double> xs, double p) {
  const auto k = static_cast<std::size_t>(p * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k), xs.end());
  return xs[k];
}

}  // namespace

static_assert(LengthEstimator<oracle_estimator, req>);
static_assert(!LengthEstimator<oracle_estimator, req_without_truth>);  // the oracle needs the truth
static_assert(LengthEstimator<fixed_estimator, req_without_truth>);
static_assert(LengthEstimator<percentile_estimator, req_without_truth>);
static_assert(LengthEstimator<noisy_estimator<oracle_estimator>, req>);
static_assert(!LengthEstimator<noisy_estimator<oracle_estimator>, req_without_truth>);
static_assert(LengthEstimator<noisy_estimator<percentile_estimator>, req_without_truth>);

// ---------------------------------------------------------------- oracle, fixed

TEST_CASE("oracle_estimator.returns_the_truth") {
  oracle_estimator est;
  CHECK(est.estimate(req{12, 3.5, 321}, interactive_slo_class) == 321.0);
  CHECK(est.estimate(req{12, 3.5, 0}, bulk_slo_class) == 0.0);
  est.observe(interactive_slo_class, 99999.0);  // learns nothing
  CHECK(est.estimate(req{12, 3.5, 321}, interactive_slo_class) == 321.0);
}

TEST_CASE("fixed_estimator.one_constant_per_slo_class") {
  fixed_estimator est(150.0, 900.0);
  CHECK(est.estimate(req_without_truth{10, 1}, interactive_slo_class) == 150.0);
  CHECK(est.estimate(req_without_truth{5000, 99}, interactive_slo_class) == 150.0);
  CHECK(est.estimate(req_without_truth{10, 1}, bulk_slo_class) == 900.0);
  est.observe(bulk_slo_class, 1.0);
  CHECK(est.estimate(req_without_truth{10, 1}, bulk_slo_class) == 900.0);
}

TEST_CASE("fixed_estimator.bad_config") {
  CHECK(throws_naming([] { fixed_estimator e(-1.0, 10.0); }, "interactive_tok"));
  CHECK(throws_naming([] { fixed_estimator e(10.0, std::numeric_limits<double>::quiet_NaN()); }, "bulk_tok"));
  CHECK(throws_naming([] { fixed_estimator e(10.0, std::numeric_limits<double>::infinity()); }, "bulk_tok"));
  CHECK_NOTHROW(fixed_estimator(0.0, 0.0));
}

// ---------------------------------------------------------------- percentile (P²)

TEST_CASE("percentile_estimator.prior_until_five_observations") {
  percentile_estimator est({.quantile = 0.5, .prior_tok = {333.0, 777.0}});
  const req_without_truth r{};
  for (double x : {5.0, 1.0, 4.0, 2.0}) {
    est.observe(interactive_slo_class, x);
    CHECK(est.estimate(r, interactive_slo_class) == 333.0);
  }
  est.observe(interactive_slo_class, 3.0);
  CHECK(est.observations(interactive_slo_class) == 5);
  CHECK(est.estimate(r, interactive_slo_class) == 3.0);  // the median of 1..5
  CHECK(est.estimate(r, bulk_slo_class) == 777.0);       // the other class is untouched
}

TEST_CASE("percentile_estimator.p2_tracks_the_true_quantile") {
  struct dist {
    const char* name;
    std::function<double(std::mt19937_64&)> draw;
    std::function<double(double)> true_quantile;
  };
  const std::vector<dist> dists{
      {"exponential(mean 200)", [](std::mt19937_64& g) { return exponential(g, 200.0); },
       [](double p) { return -200.0 * std::log1p(-p); }},
      {"lognormal(5, 0.8)", [](std::mt19937_64& g) { return lognormal(g, 5.0, 0.8); },
       [](double p) {
         // Quantiles of the standard normal at the p tested below.
         const double z = p == 0.5 ? 0.0 : p == 0.9 ? 1.2815515655446004 : 2.3263478740408408;
         return std::exp(5.0 + 0.8 * z);
       }},
  };
  for (const dist& d : dists) {
    for (double p : {0.5, 0.9, 0.99}) {
      INFO(d.name, " p = ", p);
      std::mt19937_64 rng(12345);
      percentile_estimator est({.quantile = p});
      std::vector<double> xs;
      for (int i = 0; i < 100'000; ++i) {
        const double x = d.draw(rng);
        xs.push_back(x);
        est.observe(bulk_slo_class, x);
      }
      const double got = est.estimate(req_without_truth{}, bulk_slo_class);
      CHECK(got == doctest::Approx(sample_quantile(xs, p)).epsilon(0.02));
      CHECK(got == doctest::Approx(d.true_quantile(p)).epsilon(0.03));
    }
  }
}

TEST_CASE("percentile_estimator.slo_classes_are_independent") {
  std::mt19937_64 rng(99);
  percentile_estimator est({.quantile = 0.9, .prior_tok = {1.0, 1.0}});
  const req_without_truth r{};
  for (int i = 0; i < 20'000; ++i) est.observe(interactive_slo_class, exponential(rng, 100.0));
  const double interactive = est.estimate(r, interactive_slo_class);
  CHECK(est.estimate(r, bulk_slo_class) == 1.0);  // still the prior
  for (int i = 0; i < 20'000; ++i) est.observe(bulk_slo_class, exponential(rng, 2000.0));
  CHECK(est.estimate(r, interactive_slo_class) == interactive);  // bulk observations change nothing here
  const double p90 = -std::log(0.1);
  CHECK(interactive == doctest::Approx(100.0 * p90).epsilon(0.03));
  CHECK(est.estimate(r, bulk_slo_class) == doctest::Approx(2000.0 * p90).epsilon(0.03));
  CHECK(est.observations(interactive_slo_class) == 20'000);
  CHECK(est.observations(bulk_slo_class) == 20'000);
}

TEST_CASE("percentile_estimator.constant_and_sorted_streams") {
  percentile_estimator est({.quantile = 0.5});
  const req_without_truth r{};
  for (int i = 0; i < 1000; ++i) est.observe(interactive_slo_class, 42.0);
  CHECK(est.estimate(r, interactive_slo_class) == 42.0);
  for (int i = 0; i < 10'001; ++i) est.observe(bulk_slo_class, static_cast<double>(i));  // ascending
  CHECK(est.estimate(r, bulk_slo_class) == doctest::Approx(5000.0).epsilon(0.02));
}

TEST_CASE("percentile_estimator.bad_config") {
  CHECK(throws_naming([] { percentile_estimator e({.quantile = 0.0}); }, "quantile"));
  CHECK(throws_naming([] { percentile_estimator e({.quantile = 1.0}); }, "quantile"));
  CHECK(throws_naming([] { percentile_estimator e({.quantile = std::numeric_limits<double>::quiet_NaN()}); },
                      "quantile"));
  CHECK(throws_naming([] { percentile_estimator e({.prior_tok = {-1.0, 1.0}}); }, "prior_tok[0]"));
  CHECK(throws_naming(
      [] {
        percentile_estimator e({.prior_tok = {1.0, 2.0, std::numeric_limits<double>::infinity()}});
      },
      "prior_tok[2]"));
  CHECK(throws_naming([] { percentile_estimator e({.prior_tok = {}}); }, "prior_tok.size()"));
}

TEST_CASE("percentile_estimator.learns_for_as_many_slo_classes_as_it_is_given") {
  // Three classes, as the simulator's default mix names them (chat, rag, batch): each learns on its own.
  percentile_estimator est({.quantile = 0.5, .prior_tok = {10.0, 20.0, 30.0}});
  CHECK(est.class_count() == 3);
  const req_without_truth r{};
  for (int i = 1; i <= 9; ++i) est.observe(slo_class_id{2}, static_cast<double>(100 * i));
  CHECK(est.estimate(r, slo_class_id{2}) == 500.0);  // the median of 100..900
  CHECK(est.estimate(r, slo_class_id{0}) == 10.0);
  CHECK(est.estimate(r, slo_class_id{1}) == 20.0);
  CHECK(est.observations(slo_class_id{2}) == 9);
  CHECK(est.observations(slo_class_id{1}) == 0);
}

TEST_CASE("fixed_estimator.any_number_of_slo_classes") {
  const fixed_estimator est(std::vector<double>{5.0, 6.0, 7.0, 8.0});
  CHECK(est.class_count() == 4);
  CHECK(est.estimate(req_without_truth{}, slo_class_id{3}) == 8.0);
  CHECK(est.estimate(req_without_truth{}, slo_class_id{0}) == 5.0);
  CHECK(throws_naming([] { fixed_estimator e(std::vector<double>{1.0, -2.0}); }, "tok_per_class[1]"));
  CHECK(throws_naming([] { fixed_estimator e(std::vector<double>{}); }, "tok_per_class.size()"));
}

// ---------------------------------------------------------------- noisy

namespace {
std::vector<req> workload(int n) {
  std::vector<req> rs;
  for (int i = 0; i < n; ++i)
    rs.push_back(req{100.0 + i % 50, 0.37 * i, 50.0 + static_cast<double>((i * 7919) % 2000)});
  return rs;
}
}  // namespace

TEST_CASE("noisy_estimator.mean_relative_error_matches_config") {
  const std::vector<req> rs = workload(20'000);
  for (double mare : {0.05, 0.12, 0.25}) {
    INFO("mean_abs_rel_error = ", mare);
    noisy_estimator est(oracle_estimator{}, mare, 2024);
    double abs_err = 0.0, factor = 0.0;
    for (const req& r : rs) {
      const double rel = est.estimate(r, interactive_slo_class) / r.output_tok;
      abs_err += std::abs(rel - 1.0);
      factor += rel;
    }
    const double n = static_cast<double>(rs.size());
    CHECK(abs_err / n == doctest::Approx(mare).epsilon(0.05));
    CHECK(factor / n == doctest::Approx(1.0).epsilon(0.005));  // unbiased
  }
}

TEST_CASE("noisy_estimator.deterministic_per_seed_and_request") {
  const std::vector<req> rs = workload(1000);
  noisy_estimator a(oracle_estimator{}, 0.12, 7);
  noisy_estimator b(oracle_estimator{}, 0.12, 7);
  noisy_estimator c(oracle_estimator{}, 0.12, 8);
  std::vector<double> forward;
  int differ = 0;
  for (const req& r : rs) {
    forward.push_back(a.estimate(r, bulk_slo_class));
    CHECK(b.estimate(r, bulk_slo_class) == forward.back());  // same seed: same answer
    CHECK(a.estimate(r, bulk_slo_class) == forward.back());  // asked again: same answer
    differ += c.estimate(r, bulk_slo_class) != forward.back() ? 1 : 0;
  }
  for (std::size_t i = rs.size(); i-- > 0;) CHECK(b.estimate(rs[i], bulk_slo_class) == forward[i]);  // any order
  CHECK(differ > 990);  // another seed: other factors
}

TEST_CASE("noisy_estimator.zero_error_is_the_inner_answer") {
  noisy_estimator est(oracle_estimator{}, 0.0, 1);
  for (const req& r : workload(100)) CHECK(est.estimate(r, interactive_slo_class) == r.output_tok);
}

TEST_CASE("noisy_estimator.never_negative") {
  noisy_estimator est(oracle_estimator{}, 2.0, 3);  // huge error: the clamp at 0 is hit often
  int zeros = 0;
  for (const req& r : workload(5000)) {
    const double e = est.estimate(r, interactive_slo_class);
    REQUIRE(std::isfinite(e));
    REQUIRE(e >= 0.0);
    zeros += e == 0.0 ? 1 : 0;
  }
  CHECK(zeros > 0);
}

TEST_CASE("noisy_estimator.forwards_observe") {
  noisy_estimator est(percentile_estimator({.quantile = 0.5}), 0.1, 5);
  for (int i = 0; i < 10; ++i) est.observe(bulk_slo_class, 100.0);
  CHECK(est.inner().observations(bulk_slo_class) == 10);
  const double e = est.estimate(req_without_truth{1, 2}, bulk_slo_class);
  CHECK(e == doctest::Approx(100.0 * est.factor(req_without_truth{1, 2})));
}

TEST_CASE("noisy_estimator.bad_config") {
  CHECK(throws_naming([] { noisy_estimator e(oracle_estimator{}, -0.1, 1); }, "mean_abs_rel_error"));
  CHECK(throws_naming([] { noisy_estimator e(oracle_estimator{}, std::numeric_limits<double>::quiet_NaN(), 1); },
                      "mean_abs_rel_error"));
  CHECK(throws_naming([] { noisy_estimator e(oracle_estimator{}, std::numeric_limits<double>::infinity(), 1); },
                      "mean_abs_rel_error"));
}
