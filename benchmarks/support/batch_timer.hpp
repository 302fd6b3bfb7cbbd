/// @file batch_timer.hpp
/// @brief Latency distributions for operations too short to time one by one: the clock is read once per
/// batch of `batch` operations, and each sample is that batch's mean time per operation.
///
/// A steady_clock read costs tens of ns (about 20-40 on a TSC clocksource through the vDSO), as much as the
/// operations being timed, so timing each one alone would measure the clock. Timing batches divides the
/// clock's cost by the batch size, at a price: a sample is a mean over the batch, so one slow operation in a
/// batch of 32 shows as 1/32 of its excess. Percentiles of batch means are therefore narrower than the
/// percentiles of single operations, and hide outliers shorter than a batch; they do show slow batches
/// (preemption, cache or TLB misses that persist, page faults). Samples are wall-clock time, so time the
/// thread spent descheduled counts.
///
/// The sample buffer is allocated (and its pages touched) at construction, outside the timed region; lap()
/// never allocates. When the buffer is full, further laps are counted but not stored.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace joulesched::bench {

class batch_timer {
 public:
  using clock = std::chrono::steady_clock;

  /// @param batch operations per clock read (>= 1); @param capacity samples kept.
  batch_timer(std::uint32_t batch, std::size_t capacity) : batch_(batch < 1 ? 1 : batch), ns_(capacity, 0.0f) {}

  [[nodiscard]] std::uint32_t batch() const noexcept { return batch_; }

  /// Starts the first batch. Call right before the timed loop.
  void start() noexcept { last_ = clock::now(); }

  /// Call after each operation: reads the clock at the end of every batch and stores the batch's mean.
  void tick() noexcept {
    if (++in_batch_ < batch_) return;
    in_batch_ = 0;
    const auto now = clock::now();
    const double ns = std::chrono::duration<double, std::nano>(now - last_).count();
    last_ = now;
    if (n_ < ns_.size()) ns_[n_] = static_cast<float>(ns / batch_);
    ++n_;
  }

  /// Samples stored.
  [[nodiscard]] std::size_t samples() const noexcept { return std::min(n_, ns_.size()); }

  /// The q-quantile (0 <= q <= 1) of the stored samples, nearest rank; 0 when there are none. Reorders them.
  [[nodiscard]] double quantile(double q) {
    const std::size_t n = samples();
    if (n == 0) return 0.0;
    auto k = static_cast<std::size_t>(q * static_cast<double>(n));
    if (k >= n) k = n - 1;
    std::nth_element(ns_.begin(), ns_.begin() + static_cast<std::ptrdiff_t>(k),
                     ns_.begin() + static_cast<std::ptrdiff_t>(n));
    return static_cast<double>(ns_[k]);
  }

  /// Share of the stored samples above `ns`. On a shared host, batches far above the median (say 20x) are
  /// almost always batches during which the thread was descheduled or interrupted; this says how many there were.
  [[nodiscard]] double share_above(double ns) const noexcept {
    const std::size_t n = samples();
    if (n == 0) return 0.0;
    const auto k = std::count_if(ns_.begin(), ns_.begin() + static_cast<std::ptrdiff_t>(n),
                                 [ns](float x) { return static_cast<double>(x) > ns; });
    return static_cast<double>(k) / static_cast<double>(n);
  }

 private:
  std::uint32_t batch_;
  std::uint32_t in_batch_ = 0;
  std::size_t n_ = 0;
  clock::time_point last_{};
  std::vector<float> ns_;
};

/// Involuntary context switches of the calling thread so far (Linux; 0 elsewhere). Read it before and after a
/// timed loop (it is a system call, so never inside one): a difference close to the number of outlier batches
/// says the outliers are the scheduler's, not the code's.
[[nodiscard]] inline std::uint64_t involuntary_switches() noexcept {
#if defined(__linux__) && defined(RUSAGE_THREAD)
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) == 0) return static_cast<std::uint64_t>(ru.ru_nivcsw);
#endif
  return 0;
}

/// Sets the counters every timed benchmark reports from its timer: p50_ns, p99_ns and p999_ns of the batch
/// means, outlier_share (batches above 20x the median) and preempted_share (`switches`: involuntary context
/// switches during the timed loop, from involuntary_switches()).
inline void report_distribution(benchmark::State& st, batch_timer& timer, std::uint64_t switches) {
  const double p50 = timer.quantile(0.50);
  st.counters["p50_ns"] = p50;
  st.counters["p99_ns"] = timer.quantile(0.99);
  st.counters["p999_ns"] = timer.quantile(0.999);
  st.counters["outlier_share"] = timer.share_above(20.0 * p50);  // mostly descheduling on a shared host
  // Involuntary context switches per stored sample: an upper bound on the share of samples a preemption hit.
  st.counters["preempted_share"] =
      timer.samples() > 0 ? static_cast<double>(switches) / static_cast<double>(timer.samples()) : 0.0;
}

}  // namespace joulesched::bench
