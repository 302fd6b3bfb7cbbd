/// @file quantile_sketch.hpp
/// @brief Streaming quantiles of non-negative values with a stated relative error, in memory that does not grow
/// with the number of values: the simulator's latency percentiles over runs of any length.
///
/// A logarithmic histogram, as DDSketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile
/// sketch with relative-error guarantees", VLDB 2019): a value x > 0 falls in bucket i = ceil(log_gamma(x)),
/// gamma = (1 + alpha) / (1 - alpha), i.e. gamma^(i-1) < x <= gamma^i, and a bucket answers with
/// 2 gamma^i / (gamma + 1), within a relative `alpha` of every value in it. So quantile(p) is within a relative
/// alpha of the nearest-rank p-quantile of the values added (the value of rank ceil(p * n)). Values at or below
/// `min_positive` (including 0) are counted apart and answered as 0; count, sum (so the mean), minimum and maximum
/// are exact.
/// Memory: one 64-bit counter per bucket between the smallest and the largest bucket seen: for alpha = 1e-3 and
/// values from 1 ms to 1e5 s, about 9,200 buckets (74 KB), whatever the number of values. Cost: add is one log
/// and, while the range is still growing, a resize; merge and quantile are O(buckets).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace joulesched::sim {

class quantile_sketch {
 public:
  /// The relative error of every quantile: 0.1%. ASSUMPTION: far below what a percentile printed in whole
  /// milliseconds shows for latencies above one second, and still small in memory (see the file note).
  static constexpr double default_alpha = 1e-3;
  /// Values at or below this (seconds) count as zero: 1 ns. ASSUMPTION: no latency the simulator measures is
  /// that short except an exact zero.
  static constexpr double min_positive = 1e-9;
  /// Values above this (seconds) are kept in its bucket: 1e15 s. ASSUMPTION: no latency is longer (the
  /// simulator's budgets stop at 1e12 s); it bounds the buckets an absurd value could add.
  static constexpr double max_value = 1e15;

  explicit quantile_sketch(double alpha = default_alpha)
      : alpha_(alpha), log_gamma_(std::log((1.0 + alpha) / (1.0 - alpha))) {}

  /// Adds one value (>= 0; a NaN or negative value is counted as zero, one above max_value in max_value's bucket).
  void add(double x) {
    ++count_;
    sum_ += x > 0.0 ? x : 0.0;
    min_ = std::min(min_, x > 0.0 ? x : 0.0);
    max_ = std::max(max_, x > 0.0 ? x : 0.0);
    if (!(x > min_positive)) {
      ++zeros_;
      return;
    }
    const auto i = static_cast<std::int64_t>(std::ceil(std::log(std::min(x, max_value)) / log_gamma_));
    grow_to(i);
    ++buckets_[static_cast<std::size_t>(i - offset_)];
  }

  /// Adds every value another sketch of the same alpha holds.
  void merge(const quantile_sketch& o) {
    if (o.count_ == 0) return;
    count_ += o.count_;
    sum_ += o.sum_;
    zeros_ += o.zeros_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    if (o.buckets_.empty()) return;
    grow_to(o.offset_);
    grow_to(o.offset_ + static_cast<std::int64_t>(o.buckets_.size()) - 1);
    for (std::size_t k = 0; k < o.buckets_.size(); ++k)
      buckets_[static_cast<std::size_t>(o.offset_ - offset_) + k] += o.buckets_[k];
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  [[nodiscard]] double max() const noexcept { return count_ ? max_ : 0.0; }
  [[nodiscard]] double min() const noexcept { return count_ ? min_ : 0.0; }
  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  /// Buckets held: what the sketch's memory is made of (8 bytes each).
  [[nodiscard]] std::size_t bucket_count() const noexcept { return buckets_.size(); }

  /// @brief The nearest-rank p-quantile (p in (0, 1]) within a relative alpha; 0 when empty. The maximum's
  /// rank (p = 1) answers the exact maximum.
  [[nodiscard]] double quantile(double p) const noexcept {
    if (count_ == 0) return 0.0;
    auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    if (rank == count_) return max_;
    if (rank <= zeros_) return 0.0;
    std::uint64_t seen = zeros_;
    for (std::size_t k = 0; k < buckets_.size(); ++k) {
      seen += buckets_[k];
      if (seen >= rank) {
        const double upper = std::exp(static_cast<double>(offset_ + static_cast<std::int64_t>(k)) * log_gamma_);
        // The bucket's representative, clamped to what was seen (exact at the ends).
        return std::clamp(2.0 * upper / (1.0 + std::exp(log_gamma_)), min_, max_);
      }
    }
    return max_;
  }

 private:
  // Extends buckets_ so that it covers bucket i.
  void grow_to(std::int64_t i) {
    if (buckets_.empty()) {
      offset_ = i;
      buckets_.assign(1, 0);
      return;
    }
    if (i < offset_) {
      buckets_.insert(buckets_.begin(), static_cast<std::size_t>(offset_ - i), 0);
      offset_ = i;
    } else if (i >= offset_ + static_cast<std::int64_t>(buckets_.size())) {
      buckets_.resize(static_cast<std::size_t>(i - offset_ + 1), 0);
    }
  }

  double alpha_;
  double log_gamma_;
  std::vector<std::uint64_t> buckets_;  // buckets_[k] counts bucket offset_ + k
  std::int64_t offset_ = 0;
  std::uint64_t count_ = 0, zeros_ = 0;
  double sum_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = 0.0;
};

}  // namespace joulesched::sim
