/// @file miss_window.hpp
/// @brief The measured deadline-miss rate over a sliding window: the last N outcomes (`count_window`) or the
/// outcomes of the last W seconds (`time_window`).
///
/// Use one to feed a controller (control/lambda_controller.hpp) the miss rate it regulates. Use
/// `count_window` when traffic is steady enough that "the last N requests" is a meaningful horizon; use
/// `time_window` when traffic varies and the horizon should be wall time. Do not use either for latency
/// percentiles: they keep only one bit per outcome.
///
/// Design: `count_window` is a ring of N bytes plus a running miss count; `time_window` is B buckets of
/// width W/B seconds, each tagged with the bucket number it holds, so stale buckets are recognised without
/// a sweep. Cost: storage is allocated once, at construction; record() is O(1) and never allocates or
/// throws; count_window's queries are O(1), time_window's are O(B).
#pragma once

#include <cassert>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief A sliding window of deadline outcomes that reports the fraction missed.
///
/// Expressions: `w.record(now_s, missed)` is noexcept (in checked mode it may throw usage_error for a broken
/// precondition, e.g. a NaN time); `cw.miss_rate(now_s)` converts to double;
/// `cw.samples(now_s)` converts to std::size_t. Promises: miss_rate is in [0, 1] and is 0 when the window is
/// empty; samples is the number of outcomes the rate is computed from; record neither allocates nor throws.
template <class W>
concept MissWindow = requires(W& w, const W& cw, double now_s, bool missed) {
  w.record(now_s, missed);
  requires checked_mode || noexcept(w.record(now_s, missed));
  { cw.miss_rate(now_s) } -> std::convertible_to<double>;
  { cw.samples(now_s) } -> std::convertible_to<std::size_t>;
};

/// @brief The miss rate of the last N outcomes.
///
/// Time plays no part: `now_s` is accepted (and ignored) so that both windows share one interface.
/// @code
/// count_window w(1000);      // the last 1000 requests
/// w.record(now_s, missed);   // once per completed request
/// double rho = w.miss_rate(now_s);
/// @endcode
class count_window {
 public:
  /// The largest capacity accepted. ASSUMPTION: a miss rate over more than 2^24 (16.7 million) outcomes is
  /// never needed; the bound keeps an absurd capacity (SIZE_MAX) a config_error instead of a std::length_error
  /// or an out-of-memory abort.
  static constexpr std::size_t max_capacity = std::size_t{1} << 24;

  /// @brief A window of the last `capacity` outcomes.
  /// Effects: allocates `capacity` bytes. Complexity: O(capacity).
  /// @throws config_error naming `capacity` when it is 0 or more than max_capacity (2^24); std::bad_alloc if
  /// the ring cannot be allocated.
  explicit count_window(std::size_t capacity) {
    if (capacity < 1) detail::fail("count_window", "capacity", capacity, "must be >= 1");
    if (capacity > max_capacity)
      detail::fail("count_window", "capacity", capacity, "must be <= 2^24 = 16777216 (max_capacity)");
    ring_.assign(capacity, std::uint8_t{0});
  }

  /// @brief Adds one outcome; once the window is full, the oldest outcome is forgotten.
  /// Complexity: O(1). Throws: nothing. No allocation.
  void record(double /*now_s*/, bool missed) noexcept {
    if (size_ == ring_.size()) misses_ -= ring_[head_];
    else ++size_;
    ring_[head_] = missed ? 1 : 0;
    misses_ += ring_[head_];
    head_ = (head_ + 1 == ring_.size()) ? 0 : head_ + 1;
  }

  /// @brief Fraction of the outcomes in the window that missed; 0 when the window is empty.
  /// Complexity: O(1). Throws: nothing.
  [[nodiscard]] double miss_rate(double /*now_s*/ = 0.0) const noexcept {
    return size_ == 0 ? 0.0 : static_cast<double>(misses_) / static_cast<double>(size_);
  }

  /// @brief Number of outcomes in the window: min(outcomes recorded, capacity). Complexity: O(1).
  [[nodiscard]] std::size_t samples(double /*now_s*/ = 0.0) const noexcept { return size_; }

  /// @brief The N given at construction.
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }

  /// @brief Forgets every outcome. Complexity: O(1) (the ring's stale bytes are overwritten as it refills).
  void clear() noexcept { head_ = size_ = misses_ = 0; }

 private:
  std::vector<std::uint8_t> ring_;  // 1 = missed; slots [head_ - size_, head_) modulo capacity are live
  std::size_t head_ = 0;            // where the next outcome goes
  std::size_t size_ = 0;
  std::size_t misses_ = 0;
};
static_assert(MissWindow<count_window>);

/// @brief The miss rate of the outcomes recorded in the last W seconds, at a resolution of W/B seconds.
///
/// Time is cut into buckets of width W/B: bucket k holds the outcomes with k <= now_s / (W/B) < k + 1. A
/// query at `now_s` counts the B buckets up to and including the one `now_s` falls in, so an outcome counts
/// for at least W - W/B and less than W seconds after its own time. Larger B means a sharper edge and
/// slower queries (O(B)).
///
/// Time order: `now_s` need not increase from call to call. An outcome is filed under its own time; one
/// that lies before the window of the latest time seen so far is dropped, since it could never be counted
/// again. A query at an earlier time counts the buckets of that earlier window that are still held.
/// `now_s` must be finite (asserted in debug builds; checked mode: record(), miss_rate() and samples() throw
/// usage_error).
/// @code
/// time_window w(60.0, 60);   // the last minute, in 1 s buckets
/// @endcode
class time_window {
 public:
  /// The most buckets accepted. ASSUMPTION: 2^24 buckets (24 bytes each, 384 MiB) is beyond any useful
  /// resolution; the bound keeps an absurd count (2^40) a config_error instead of a std::length_error or an
  /// out-of-memory abort.
  static constexpr std::size_t max_buckets = std::size_t{1} << 24;

  /// @brief A window of `window_s` seconds kept in `buckets` buckets of `window_s / buckets` seconds.
  /// Effects: allocates `buckets` buckets. Complexity: O(buckets).
  /// @throws config_error naming `window_s` unless it is finite and > 0, or `buckets` when it is 0, more than
  /// max_buckets (2^24) or makes the bucket width underflow to 0; std::bad_alloc if the buckets cannot be allocated.
  time_window(double window_s, std::size_t buckets) : window_s_(window_s) {
    detail::require_positive(window_s, "time_window", "window_s");
    if (buckets < 1) detail::fail("time_window", "buckets", buckets, "must be >= 1");
    if (buckets > max_buckets)
      detail::fail("time_window", "buckets", buckets, "must be <= 2^24 = 16777216 (max_buckets)");
    bucket_s_ = window_s / static_cast<double>(buckets);
    if (!(bucket_s_ > 0.0)) detail::fail("time_window", "buckets", buckets, "makes window_s / buckets underflow to 0");
    buckets_.assign(buckets, bucket{});
  }

  /// @brief Adds one outcome at time `now_s`.
  /// Effects: files it in the bucket of `now_s`, first emptying that bucket if it holds an older period;
  /// drops it if it lies before the window of the latest time recorded. Precondition: now_s is finite.
  /// Complexity: O(1). Throws: nothing (checked mode: usage_error when now_s is not finite).
  void record(double now_s, bool missed) JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(std::isfinite(now_s), "time_window::record", "now_s", now_s, "must be finite");
    const std::int64_t k = bucket_of(now_s);
    if (k < latest_ && latest_ - k >= bucket_count()) return;  // already outside every future window
    if (k > latest_) latest_ = k;
    bucket& b = buckets_[slot_of(k)];
    if (b.index != k) b = bucket{k, 0, 0};  // holds an older period (or nothing): start afresh
    ++b.outcomes;
    b.misses += missed ? 1 : 0;
  }

  /// @brief Fraction of the outcomes in the window ending at `now_s` that missed; 0 when it holds none.
  /// Complexity: O(B). Throws: nothing.
  [[nodiscard]] double miss_rate(double now_s) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(std::isfinite(now_s), "time_window::miss_rate", "now_s", now_s, "must be finite");
    const totals t = totals_at(now_s);
    return t.outcomes == 0 ? 0.0 : static_cast<double>(t.misses) / static_cast<double>(t.outcomes);
  }

  /// @brief Number of outcomes in the window ending at `now_s`. Complexity: O(B). Throws: nothing.
  [[nodiscard]] std::size_t samples(double now_s) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(std::isfinite(now_s), "time_window::samples", "now_s", now_s, "must be finite");
    return static_cast<std::size_t>(totals_at(now_s).outcomes);
  }

  [[nodiscard]] double window_s() const noexcept { return window_s_; }
  /// @brief The resolution: W/B seconds.
  [[nodiscard]] double bucket_s() const noexcept { return bucket_s_; }
  [[nodiscard]] std::size_t buckets() const noexcept { return buckets_.size(); }

  /// @brief Forgets every outcome. Complexity: O(B).
  void clear() noexcept {
    for (bucket& b : buckets_) b = bucket{};
    latest_ = no_bucket;
  }

 private:
  static constexpr std::int64_t no_bucket = std::numeric_limits<std::int64_t>::min();
  // Bucket numbers are clamped to +-2^52 (beyond it a double no longer separates buckets), which keeps the
  // differences below from overflowing and the conversion below defined even for absurd times.
  static constexpr double max_bucket = 4503599627370496.0;  // 2^52

  struct bucket {
    std::int64_t index = no_bucket;  // which period of W/B seconds the counts belong to
    std::uint64_t outcomes = 0;
    std::uint64_t misses = 0;
  };
  struct totals {
    std::uint64_t outcomes = 0;
    std::uint64_t misses = 0;
  };

  [[nodiscard]] std::int64_t bucket_count() const noexcept { return static_cast<std::int64_t>(buckets_.size()); }

  [[nodiscard]] std::int64_t bucket_of(double now_s) const noexcept {
    const double q = std::floor(now_s / bucket_s_);
    if (!(q > -max_bucket)) return -static_cast<std::int64_t>(max_bucket);  // also NaN: treated as very old
    if (!(q < max_bucket)) return static_cast<std::int64_t>(max_bucket);
    return static_cast<std::int64_t>(q);
  }

  [[nodiscard]] std::size_t slot_of(std::int64_t k) const noexcept {
    const std::int64_t n = bucket_count();
    return static_cast<std::size_t>(((k % n) + n) % n);
  }

  [[nodiscard]] totals totals_at(double now_s) const noexcept {
    assert(std::isfinite(now_s));
    const std::int64_t k = bucket_of(now_s);
    totals t;
    for (const bucket& b : buckets_) {
      if (b.index != no_bucket && b.index <= k && k - b.index < bucket_count()) {
        t.outcomes += b.outcomes;
        t.misses += b.misses;
      }
    }
    return t;
  }

  std::vector<bucket> buckets_;
  double window_s_;
  double bucket_s_ = 0.0;
  std::int64_t latest_ = no_bucket;  // the newest bucket recorded into
};
static_assert(MissWindow<time_window>);

}  // namespace joulesched
