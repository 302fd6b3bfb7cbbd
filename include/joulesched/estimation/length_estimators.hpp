/// @file length_estimators.hpp
/// @brief Estimates of a request's output tokens, which is all a router sees of the truth: the oracle (the
/// truth, for simulators), a constant per SLO class, a running quantile per SLO class (P²), and a wrapper that adds
/// a deterministic multiplicative error to any of them.
///
/// Use `percentile_estimator` when nothing is known of a request but its SLO class: it learns the length
/// distribution of each class from completed requests. Use `fixed_estimator` for a baseline or a cold start,
/// `oracle_estimator` to measure what perfect knowledge would buy, and `noisy_estimator<oracle_estimator>` to
/// model a length predictor with a given error (JouleSched's has about 12% MAE). Do not use
/// `percentile_estimator` for a per-request prediction: it knows nothing of the prompt.
///
/// Design: every estimator keeps its state per SLO class (slo_class_id, types.hpp), sized when it is built (at most
/// a few doubles per class; the default two classes, interactive and bulk, unless told more), and satisfies
/// `LengthEstimator<E, R>` (concepts.hpp). A class id at or above the estimator's class_count() breaks a
/// precondition: checked with usage_error when JOULESCHED_CHECKED=1, asserted in debug builds, and read as the
/// last class in release builds rather than out of bounds. Cost: estimate() is O(1), const, never allocates or throws;
/// observe() is O(1) and never allocates or throws; only constructors validate and throw.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/detail/random.hpp"
#include "joulesched/detail/splitmix64.hpp"
#include "joulesched/error.hpp"
#include "joulesched/slo_class.hpp"
#include "joulesched/traits.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

namespace detail {
/// The index of class `c` in per-class state of `count` entries (see the file note for the precondition).
[[nodiscard]] inline std::size_t class_index(slo_class_id c, std::size_t count,
                                             [[maybe_unused]] const char* call) JOULESCHED_HOT_NOEXCEPT {
  JOULESCHED_EXPECTS(c < count, call, "slo_class", c, "must be < class_count()");
  return std::min<std::size_t>(c, count - 1);
}

// Minimal request types, only to check the estimators against LengthEstimator right after each class.
struct length_check_request {
  double input_tok = 0.0;
  double deadline_s = 0.0;
};
struct length_check_request_with_truth {
  double input_tok = 0.0;
  double deadline_s = 0.0;
  double output_tok = 0.0;
};
}  // namespace detail

/// @brief The true output length, read through request_traits<R>::output_tok. For simulators and for
/// measuring what perfect knowledge is worth. observe() does nothing.
class oracle_estimator {
 public:
  /// @brief The request's true output tokens. Complexity: O(1). Throws: nothing.
  template <RequestWithTruth R>
  [[nodiscard]] double estimate(const R& r, slo_class_id /*c*/) const noexcept {
    return request_traits<R>::output_tok(r);
  }
  /// @brief Does nothing: the oracle has nothing to learn.
  void observe(slo_class_id /*c*/, double /*actual_tok*/) noexcept {}
};
static_assert(LengthEstimator<oracle_estimator, detail::length_check_request_with_truth>);
static_assert(!LengthEstimator<oracle_estimator, detail::length_check_request>);

/// @brief One constant per SLO class, whatever the request. observe() does nothing.
class fixed_estimator {
 public:
  /// @brief Answers `tok_per_class[c]` for a request of SLO class c.
  /// @throws config_error naming the entry unless every one is finite and >= 0, or when there is none or more
  ///         than slo_class_set::max_classes.
  explicit fixed_estimator(std::vector<double> tok_per_class) : tok_(std::move(tok_per_class)) {
    if (tok_.empty() || tok_.size() > slo_class_set::max_classes)
      detail::fail("fixed_estimator", "tok_per_class.size()", tok_.size(), "must be 1..65536, one per SLO class");
    for (std::size_t c = 0; c < tok_.size(); ++c)
      detail::require_non_negative(tok_[c], "fixed_estimator", "tok_per_class[" + std::to_string(c) + "]");
  }
  /// @brief The two default classes: `interactive_tok` for interactive_slo_class, `bulk_tok` for bulk_slo_class.
  /// @throws config_error naming `interactive_tok` or `bulk_tok` unless it is finite and >= 0.
  fixed_estimator(double interactive_tok, double bulk_tok)
      : tok_{detail::require_non_negative(interactive_tok, "fixed_estimator", "interactive_tok"),
             detail::require_non_negative(bulk_tok, "fixed_estimator", "bulk_tok")} {}

  /// @brief The constant of class `c`. Complexity: O(1). Throws: nothing (usage_error in checked builds).
  template <Request R>
  [[nodiscard]] double estimate(const R& /*r*/, slo_class_id c) const JOULESCHED_HOT_NOEXCEPT {
    return tok_[detail::class_index(c, tok_.size(), "fixed_estimator::estimate")];
  }
  /// @brief Does nothing: the constants do not learn.
  void observe(slo_class_id /*c*/, double /*actual_tok*/) noexcept {}

  /// @brief The number of classes it answers for.
  [[nodiscard]] std::size_t class_count() const noexcept { return tok_.size(); }

 private:
  std::vector<double> tok_;
};
static_assert(LengthEstimator<fixed_estimator, detail::length_check_request>);

namespace detail {

/// @brief A running estimate of the p-quantile of a stream in O(1) time and five markers of state: the P²
/// algorithm (R. Jain and I. Chlamtac, "The P² algorithm for dynamic calculation of quantiles and histograms
/// without storing observations", CACM 28(10), 1985).
///
/// The five markers track the minimum, the p/2-, p- and (1+p)/2-quantiles and the maximum; after each
/// observation the middle three move by one position towards where they should be, their heights adjusted
/// by a piecewise-parabolic (P²) formula, or linearly when the parabola would break their order.
class p2_quantile {
 public:
  explicit p2_quantile(double p) noexcept : p_(p), dn_{0.0, p / 2.0, p, (1.0 + p) / 2.0, 1.0} {
    assert(p > 0.0 && p < 1.0);
  }

  /// @brief Observations so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

  /// @brief The estimate of the p-quantile; requires count() >= 5.
  [[nodiscard]] double value() const noexcept {
    assert(count_ >= 5);
    return q_[2];
  }

  /// @brief Adds one observation. Complexity: O(1). Throws: nothing. No allocation.
  void add(double x) noexcept {
    if (count_ < 5) {
      q_[count_++] = x;
      if (count_ == 5) {
        std::sort(q_.begin(), q_.end());
        n_ = {0.0, 1.0, 2.0, 3.0, 4.0};
        np_ = {0.0, 2.0 * p_, 4.0 * p_, 2.0 + 2.0 * p_, 4.0};
      }
      return;
    }
    ++count_;

    // The cell k with q_[k] <= x < q_[k+1]; the extremes move to take in a new minimum or maximum.
    std::size_t k = 0;
    if (x < q_[0]) {
      q_[0] = x;
    } else if (x >= q_[4]) {
      q_[4] = x;
      k = 3;
    } else {
      while (x >= q_[k + 1]) ++k;
    }
    for (std::size_t i = k + 1; i < 5; ++i) n_[i] += 1.0;
    for (std::size_t i = 0; i < 5; ++i) np_[i] += dn_[i];

    for (std::size_t i = 1; i <= 3; ++i) {
      const double d = np_[i] - n_[i];
      if ((d >= 1.0 && n_[i + 1] - n_[i] > 1.0) || (d <= -1.0 && n_[i - 1] - n_[i] < -1.0)) {
        const double s = d >= 0.0 ? 1.0 : -1.0;
        const double qp = parabolic(i, s);
        q_[i] = (q_[i - 1] < qp && qp < q_[i + 1]) ? qp : linear(i, s);
        n_[i] += s;
      }
    }
  }

 private:
  [[nodiscard]] double parabolic(std::size_t i, double s) const noexcept {
    return q_[i] + s / (n_[i + 1] - n_[i - 1]) *
                       ((n_[i] - n_[i - 1] + s) * (q_[i + 1] - q_[i]) / (n_[i + 1] - n_[i]) +
                        (n_[i + 1] - n_[i] - s) * (q_[i] - q_[i - 1]) / (n_[i] - n_[i - 1]));
  }
  [[nodiscard]] double linear(std::size_t i, double s) const noexcept {
    const std::size_t j = s > 0.0 ? i + 1 : i - 1;
    return q_[i] + s * (q_[j] - q_[i]) / (n_[j] - n_[i]);
  }

  double p_;
  std::array<double, 5> dn_;    // how far each desired position moves per observation
  std::array<double, 5> q_{};   // marker heights (the first five observations until count 5)
  std::array<double, 5> n_{};   // marker positions, 0-based
  std::array<double, 5> np_{};  // desired marker positions
  std::uint64_t count_ = 0;
};

}  // namespace detail

/// @brief The settings of a percentile_estimator.
struct percentile_estimator_config {
  double quantile = 0.5;  ///< p: which quantile of each class's output lengths to answer, in (0, 1)
  /// One per SLO class, the class's answer until 5 of its requests have been observed; its size is the number
  /// of classes. ASSUMPTION: 256 tokens for the default interactive class, 1,024 for bulk (a chat answer and a
  /// batch job's, round figures, not measured).
  std::vector<double> prior_tok = {256.0, 1024.0};
};

/// @brief Per SLO class, a running p-quantile of the output lengths observed so far (P², see
/// detail::p2_quantile).
///
/// Until a class has 5 observations it answers that class's prior; from then on the P² estimate, which for a
/// stationary stream converges to the true quantile (within a few percent after some thousands of
/// observations on smooth distributions). Classes learn independently. A high p (say 0.9) makes the router
/// plan for long answers, trading energy for fewer misses. Old observations weigh as much as new ones: the
/// estimate follows a drifting distribution slowly.
/// @code
/// percentile_estimator est({.quantile = 0.9, .prior_tok = {300, 800}});  // the default classes
/// double t_tok = est.estimate(req, interactive_slo_class);
/// est.observe(interactive_slo_class, actual_output_tok);  // when the request completes
/// @endcode
class percentile_estimator {
 public:
  /// @throws config_error naming `quantile` unless it is in (0, 1), or the entry of `prior_tok` unless it is
  /// finite and >= 0, or `prior_tok.size()` unless it is 1..slo_class_set::max_classes.
  explicit percentile_estimator(const percentile_estimator_config& config)
      : prior_tok_(config.prior_tok), quantile_(checked_quantile(config.quantile)) {
    if (prior_tok_.empty() || prior_tok_.size() > slo_class_set::max_classes)
      detail::fail("percentile_estimator", "prior_tok.size()", prior_tok_.size(),
                   "must be 1..65536, one per SLO class");
    for (std::size_t c = 0; c < prior_tok_.size(); ++c)
      detail::require_non_negative(prior_tok_[c], "percentile_estimator", "prior_tok[" + std::to_string(c) + "]");
    quantiles_.assign(prior_tok_.size(), detail::p2_quantile(quantile_));
  }

  /// @brief The current estimate for class `c` (the request itself is not read). Complexity: O(1). Throws:
  /// nothing (usage_error in checked builds).
  template <Request R>
  [[nodiscard]] double estimate(const R& /*r*/, slo_class_id c) const JOULESCHED_HOT_NOEXCEPT {
    return value(c);
  }

  /// @brief The current estimate for class `c`: its prior until 5 observations, then the P² estimate.
  [[nodiscard]] double value(slo_class_id c) const JOULESCHED_HOT_NOEXCEPT {
    const std::size_t i = detail::class_index(c, prior_tok_.size(), "percentile_estimator::value");
    return quantiles_[i].count() < 5 ? prior_tok_[i] : quantiles_[i].value();
  }

  /// @brief Learns one completed request's output length.
  /// Precondition: `actual_tok` is finite and >= 0 (asserted in debug builds; in release builds a value that
  /// breaks it is ignored, so it cannot poison the estimate). Complexity: O(1). Throws: nothing (usage_error
  /// in checked builds for a class out of range).
  void observe(slo_class_id c, double actual_tok) JOULESCHED_HOT_NOEXCEPT {
    assert(std::isfinite(actual_tok) && actual_tok >= 0.0);
    if (!(std::isfinite(actual_tok) && actual_tok >= 0.0)) return;
    quantiles_[detail::class_index(c, prior_tok_.size(), "percentile_estimator::observe")].add(actual_tok);
  }

  /// @brief Observations learnt for class `c`.
  [[nodiscard]] std::uint64_t observations(slo_class_id c) const JOULESCHED_HOT_NOEXCEPT {
    return quantiles_[detail::class_index(c, prior_tok_.size(), "percentile_estimator::observations")].count();
  }

  /// @brief The number of classes it learns for.
  [[nodiscard]] std::size_t class_count() const noexcept { return prior_tok_.size(); }
  [[nodiscard]] double quantile() const noexcept { return quantile_; }

 private:
  static double checked_quantile(double p) {
    if (!(p > 0.0 && p < 1.0)) detail::fail("percentile_estimator", "quantile", p, "must be in (0, 1)");
    return p;
  }

  std::vector<double> prior_tok_;
  std::vector<detail::p2_quantile> quantiles_;
  double quantile_;
};
static_assert(LengthEstimator<percentile_estimator, detail::length_check_request>);

/// @brief Another estimator's answer times a random factor, to model a predictor with a known error.
/// @tparam E the estimator whose answer is scaled (typically oracle_estimator: the truth plus noise).
///
/// factor = max(0, 1 + sigma Z), Z standard normal and sigma = mean_abs_rel_error * sqrt(pi/2), so that the
/// mean of |estimate / inner - 1| is `mean_abs_rel_error` (exactly, up to the clamp at 0, which matters only
/// above about 0.3, where it makes the realised error slightly smaller). The error is unbiased in mean.
///
/// The factor is not drawn from a generator that advances with each call; it is a hash of the seed and the
/// request's own fields (input_tok, deadline_s, output_tok when the request has it, and its declared tier,
/// interactive when it declares none) turned into a normal deviate (SplitMix64, then Box-Muller). So estimate() stays
/// const, a request gets the same factor however many times and in whatever order it is estimated (two routing policies
/// compared on one workload see the same errors), and the same seed gives the same factors on every run (across
/// platforms, up to the last bits of std::log and std::cos). The price: two requests with all those fields equal get
/// the same factor. observe() is forwarded to the inner estimator.
template <class E>
class noisy_estimator {
 public:
  /// @throws config_error naming `mean_abs_rel_error` unless it is finite and >= 0.
  noisy_estimator(E inner, double mean_abs_rel_error, std::uint64_t seed)
      : inner_(std::move(inner)),
        mean_abs_rel_error_(detail::require_non_negative(mean_abs_rel_error, "noisy_estimator", "mean_abs_rel_error")),
        sigma_(mean_abs_rel_error * std::sqrt(std::numbers::pi / 2.0)),
        seed_(seed) {}

  /// @brief The inner estimate times this request's factor (finite, >= 0). Complexity: O(1): one hash, a
  /// log, a sqrt and a cos. Throws: nothing.
  template <Request R>
    requires LengthEstimator<E, R>
  [[nodiscard]] double estimate(const R& r, slo_class_id c) const noexcept(noexcept(inner_.estimate(r, c))) {
    return static_cast<double>(inner_.estimate(r, c)) * factor(r);
  }

  /// @brief The multiplicative factor this estimator applies to request `r`, whatever its class.
  template <Request R>
  [[nodiscard]] double factor(const R& r) const noexcept {
    using tr = request_traits<R>;
    std::uint64_t h = detail::splitmix64(seed_);
    h = detail::splitmix64(h ^ std::bit_cast<std::uint64_t>(tr::input_tok(r)));
    h = detail::splitmix64(h ^ std::bit_cast<std::uint64_t>(tr::deadline_s(r)));
    if constexpr (RequestWithTruth<R>) h = detail::splitmix64(h ^ std::bit_cast<std::uint64_t>(tr::output_tok(r)));
    const tier t = tr::declared_tier(r).value_or(tier::interactive);
    h = detail::splitmix64(h ^ static_cast<std::uint64_t>(t));
    // Two uniforms from the hash: u1 in (0, 1], u2 in [0, 1); then Box-Muller.
    const double u1 = detail::uniform01_open0_from_bits(detail::splitmix64(h));
    const double u2 = detail::uniform01_from_bits(detail::splitmix64(~h));
    const double z = detail::box_muller(u1, u2);
    return std::max(0.0, 1.0 + sigma_ * z);
  }

  /// @brief Forwards to the inner estimator.
  void observe(slo_class_id c, double actual_tok) noexcept(noexcept(std::declval<E&>().observe(c, actual_tok))) {
    inner_.observe(c, actual_tok);
  }

  [[nodiscard]] const E& inner() const noexcept { return inner_; }
  [[nodiscard]] double mean_abs_rel_error() const noexcept { return mean_abs_rel_error_; }
  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

 private:
  E inner_;
  double mean_abs_rel_error_;
  double sigma_;  // standard deviation of the factor before the clamp
  std::uint64_t seed_;
};
static_assert(LengthEstimator<noisy_estimator<oracle_estimator>, detail::length_check_request_with_truth>);
static_assert(LengthEstimator<noisy_estimator<fixed_estimator>, detail::length_check_request>);

}  // namespace joulesched
