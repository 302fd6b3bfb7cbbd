// sim/quantile_sketch.hpp: every quantile within the stated relative error of the exact nearest-rank quantile, on
// light- and heavy-tailed samples with zeros; memory set by the values' range, not their number; merging two
// sketches is adding both samples to one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "joulesched/sim/quantile_sketch.hpp"

using joulesched::sim::quantile_sketch;

namespace {
// The value of rank ceil(p * n) of v (sorted here).
double nearest_rank(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))), 1, v.size());
  return v[rank - 1];
}
}  // namespace

TEST_CASE("quantile_sketch.quantiles_within_alpha_of_the_nearest_rank") {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency(0.0, 2.0);  // seconds, spanning ms to minutes
  std::exponential_distribution<double> light(10.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const double alpha : {quantile_sketch::default_alpha, 0.01}) {
    CAPTURE(alpha);
    for (int sample = 0; sample < 3; ++sample) {
      quantile_sketch q(alpha);
      std::vector<double> v;
      const std::size_t n = 1 + rng() % 20000;
      for (std::size_t i = 0; i < n; ++i) {
        const double x = sample == 0 ? latency(rng) : sample == 1 ? light(rng) : (u(rng) < 0.2 ? 0.0 : latency(rng));
        v.push_back(x);
        q.add(x);
      }
      REQUIRE(q.count() == n);
      for (const double p : {0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
        CAPTURE(p);
        const double exact = nearest_rank(v, p);
        const double got = q.quantile(p);
        if (exact == 0.0) CHECK(got == 0.0);
        else CHECK(std::fabs(got - exact) <= alpha * exact * (1.0 + 1e-9));
      }
      double sum = 0;
      for (const double x : v) sum += x;
      CHECK(q.mean() == doctest::Approx(sum / static_cast<double>(n)).epsilon(1e-12));
      CHECK(q.max() == *std::max_element(v.begin(), v.end()));
      CHECK(q.quantile(1.0) == q.max());  // the maximum is exact
    }
  }
}

TEST_CASE("quantile_sketch.memory_follows_the_range_not_the_count") {
  // Values between 1 ms and 1e5 s: at most log(1e8) / log(gamma) + 1 buckets, whether 1,000 or 1,000,000 values.
  quantile_sketch q;
  const double gamma = (1.0 + q.alpha()) / (1.0 - q.alpha());
  const auto bound = static_cast<std::size_t>(std::log(1e8) / std::log(gamma)) + 2;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> exponent(-3.0, 5.0);
  q.add(1e-3);
  q.add(1e5);
  for (int i = 0; i < 1000; ++i) q.add(std::pow(10.0, exponent(rng)));
  const std::size_t after_thousand = q.bucket_count();
  for (int i = 0; i < 1'000'000; ++i) q.add(std::pow(10.0, exponent(rng)));
  CHECK(q.bucket_count() == after_thousand);
  CHECK(q.bucket_count() <= bound);
  CHECK(bound < 10'000);  // 80 KB at most: the 0.1% default over eight decades
}

TEST_CASE("quantile_sketch.merge_is_adding_both_samples_and_empty_answers_zero") {
  quantile_sketch empty;
  CHECK(empty.count() == 0);
  CHECK(empty.quantile(0.5) == 0.0);
  CHECK(empty.mean() == 0.0);
  CHECK(empty.max() == 0.0);
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> d(0.0, 1.5);
  quantile_sketch a, b, both;
  for (int i = 0; i < 5000; ++i) {
    const double x = d(rng) * (i % 2 ? 100.0 : 0.01);  // two ranges far apart
    (i % 3 ? a : b).add(x);
    both.add(x);
  }
  a.merge(b);
  a.merge(empty);
  CHECK(a.count() == both.count());
  CHECK(a.max() == both.max());
  CHECK(a.mean() == doctest::Approx(both.mean()));
  for (const double p : {0.01, 0.5, 0.9, 0.99}) CHECK(a.quantile(p) == both.quantile(p));
  // Zeros and negative or NaN values count as zero.
  quantile_sketch z;
  z.add(0.0);
  z.add(-1.0);
  z.add(2.0);
  CHECK(z.quantile(0.5) == 0.0);
  CHECK(z.quantile(1.0) == 2.0);
  // An absurd value costs no more buckets than max_value does.
  quantile_sketch big;
  big.add(1.0);
  big.add(1e300);
  quantile_sketch bound;
  bound.add(1.0);
  bound.add(quantile_sketch::max_value);
  CHECK(big.bucket_count() == bound.bucket_count());
  CHECK(big.max() == 1e300);
}
