/// @file metrics.hpp
/// @brief What a simulation run reports (`sim_result`), and the recorder that collects it during the run.
///
/// When to use: read a `sim_result` after `simulator::run`; the recorder is the engine's. Definitions, used
/// everywhere (program output, tests, plots):
/// - A request is *read* when the simulator takes it from its source; it then ends *completed* or *rejected*,
///   and read == completed + rejected always (the engine asserts it; tests check it).
/// - *Rejected*: `no_fit` (input + output tokens exceed the KV capacity of every device), `no_device` (the
///   router returned no device), `device_too_small` (the router chose a device whose KV capacity is below the
///   request's input + output tokens; its reservation is given back).
/// - *SLO misses by kind* (slo.hpp): *ttft*, the first token came after `ttft_deadline_s`; *tbt*, the
///   request's mean time between tokens, TBT = (done - first token) / (output tokens - 1), exceeded its
///   pacing target `tbt_s` (a request with one output token, or with tbt_s = 0, cannot miss TBT); *e2e*, it
///   completed after `deadline_s`. A rejected request misses every kind. Each kind is counted and its rate,
///   misses / read, reported overall, per tier and per SLO class (`request::cls`).
/// - *SLO violation*: a request that misses at least one kind (the kind `any`): it is rejected, or completes
///   after its `deadline_s`, or produces its first token after its `ttft_deadline_s`, or misses its TBT target.
///   The violation rate is violations / read, overall and per tier. `late` and `late_ttft` count completed
///   requests only (the e2e and ttft misses less the rejected).
/// - *Latency*: end to end = completion - arrival; TTFT = first token - arrival (first token: the end of the
///   prefill iteration that admitted the request); TBT as above, over completed requests with >= 2 output
///   tokens. Completed requests only. Percentiles are exact over every
///   stored latency, nearest-rank: the value of rank ceil(p * n) in ascending order. Latencies are stored as
///   float seconds (relative error below 1e-7).
/// - *Energy*: the integral of every device's power over time (power is piecewise constant between events, so
///   the integral is an exact sum). Two windows: the *measurement window* [0, window_s] (the arrival window of
///   the run; `energy_j`, `avg_power_w` = energy_j / window_s, `energy_mj_per_h`, utilisation), and the *whole
///   run* [0, sim_time_s] until the last completion (`energy_total_j`, which includes the drain after the last
///   arrival; `energy_j_per_output_tok` = energy_total_j / output tokens served, 0 when none was). A policy
///   that builds a queue it cannot serve shows a long drain (sim_time_s - window_s) and a high total energy.
/// - *Utilisation* of a device type: busy seconds in the window (a request prefilling or decoding) /
///   (devices x window_s).
/// - *Bulk share* of a device type: bulk output tokens it served / all bulk output tokens served.
/// - *Latency percentiles* are streamed (quantile_sketch): within 0.1% of the nearest-rank percentile, in memory
///   that does not grow with the number of requests (a simulated week fits as an hour does).
/// Cost: recording a completion is O(1) (three sketch updates; a class's counters are allocated at its first
/// request, at most 256 of them); summarising is O(sketch buckets).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "joulesched/sim/fairness.hpp"
#include "joulesched/sim/quantile_sketch.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief Latency percentiles of one population, seconds (0 when the population is empty).
struct latency_summary {
  std::uint64_t count = 0;
  double mean_s = 0, p50_s = 0, p90_s = 0, p99_s = 0, max_s = 0;
};

/// @brief The summary of a population of latencies: count, mean and maximum exact, percentiles within the
/// sketch's relative error (quantile_sketch::default_alpha, 0.1%).
[[nodiscard]] inline latency_summary summarize(const quantile_sketch& q) {
  latency_summary s;
  s.count = q.count();
  s.mean_s = q.mean();
  s.max_s = q.max();
  s.p50_s = q.quantile(0.50);
  s.p90_s = q.quantile(0.90);
  s.p99_s = q.quantile(0.99);
  return s;
}

/// @brief Misses by SLO kind of one population, indexed by slo_kind (any, ttft, tbt, e2e). Rejected requests
/// count in every kind.
struct slo_misses {
  std::array<std::uint64_t, slo_kind_count> count{};  ///< requests that missed the kind
  std::array<double, slo_kind_count> rate{};          ///< count / read (0 when nothing was read)

  [[nodiscard]] std::uint64_t count_of(slo_kind k) const noexcept { return count[static_cast<std::size_t>(k)]; }
  [[nodiscard]] double rate_of(slo_kind k) const noexcept { return rate[static_cast<std::size_t>(k)]; }
  void add(const slo_outcome& o) noexcept {
    for (std::size_t k = 0; k < slo_kind_count; ++k) count[k] += o.missed(static_cast<slo_kind>(k)) ? 1u : 0u;
  }
  void add(const slo_misses& m) noexcept {
    for (std::size_t k = 0; k < slo_kind_count; ++k) count[k] += m.count[k];
  }
  void set_rates(std::uint64_t read) noexcept {
    for (std::size_t k = 0; k < slo_kind_count; ++k)
      rate[k] = read ? static_cast<double>(count[k]) / static_cast<double>(read) : 0.0;
  }
};

/// @brief Counts and latencies of one tier (or of all requests).
struct tier_metrics {
  std::uint64_t read = 0, completed = 0, rejected = 0;
  std::uint64_t late = 0;        ///< completed after deadline_s
  std::uint64_t late_ttft = 0;   ///< first token after ttft_deadline_s
  std::uint64_t violations = 0;  ///< missed any kind (rejected, late, late_ttft or TBT; a request counts once)
  double violation_rate = 0;     ///< violations / read (0 when nothing was read)
  slo_misses misses;             ///< by kind; misses.count_of(slo_kind::any) == violations
  latency_summary e2e, ttft;
  latency_summary tbt;  ///< each request's mean TBT, completed requests with >= 2 output tokens
};

/// @brief Counts of one SLO class (`request::cls`, the workload class). read = completed + rejected.
struct class_metrics {
  std::uint64_t read = 0, completed = 0, rejected = 0;
  slo_misses misses;
};

/// @brief Per device type (device_model::gpu): how much of it was used and what it served.
struct type_metrics {
  std::string gpu;
  std::uint32_t devices = 0;
  double busy_s = 0;                  ///< summed over the type's devices, in the window
  double energy_j = 0;                ///< summed over the type's devices, in the window
  std::uint64_t output_tok = 0;       ///< output tokens of requests it completed
  std::uint64_t bulk_output_tok = 0;  ///< of which bulk-tier
  std::uint64_t completed = 0;
  double utilisation = 0;  ///< busy_s / (devices * window_s)
  double bulk_share = 0;   ///< bulk_output_tok / all bulk output tokens (0 when there were none)
};

/// @brief One update of a tuned price: time, the new lambda, and the miss rate it reacted to.
struct lambda_sample {
  double t_s = 0, lambda_j_per_s = 0, miss_rate = 0;
};

/// @brief Everything a run reports. See the file note for definitions.
struct sim_result {
  std::string policy;
  std::uint64_t read = 0, completed = 0, rejected = 0;
  std::uint64_t rejected_no_fit = 0, rejected_no_device = 0, rejected_device_too_small = 0;
  std::uint64_t deferred = 0;             ///< requests held by engine_options::release_at (temporal shifting)
  double deferred_mean_s = 0;             ///< their mean wait before routing, s
  std::uint64_t preemptions = 0;          ///< running requests preempted (queue_discipline::preemptive_llf)
  std::uint64_t recomputed_tok = 0;       ///< tokens their later prefills recompute (prompt + tokens made)
  std::uint64_t plan_fallbacks = 0;       ///< freesh_plan: requests routed outside the plan (plan_router::fallbacks)
  fairness_metrics fairness;              ///< between clients (request::client; sim/fairness.hpp)
  std::uint64_t clock_changes = 0;        ///< operating-point changes a clock governor made (policies.hpp)
  std::uint64_t skipped_input_lines = 0;  ///< malformed trace lines skipped before the run (lenient mode): never read
  double window_s = 0;                    ///< the measurement window [0, window_s]
  double sim_time_s = 0;                  ///< the whole run: until the last completion (>= window_s)
  double energy_j = 0;                    ///< over the window
  double avg_power_w = 0;                 ///< over the window
  double energy_mj_per_h = 0;             ///< over the window
  double energy_total_j = 0;              ///< over the whole run
  std::uint64_t output_tok = 0;
  double energy_j_per_output_tok = 0;
  tier_metrics all;                              ///< over every request
  std::array<tier_metrics, tier_count> tiers{};  ///< indexed by tier
  std::vector<type_metrics> types;
  std::vector<double> device_energy_j;  ///< per device id, whole run
  /// Operational carbon (energy x PUE x grid intensity), grams of CO2, when the run accounts it
  /// (engine_options::carbon; else 0 and empty): over the window, over the whole run, and per site over the window.
  double carbon_g = 0, carbon_total_g = 0;
  std::vector<double> carbon_g_by_site;
  /// Per SLO class, indexed by request::cls, up to the largest class id read (classes never seen are zero).
  /// Names are the workload mix's (`workload_mix::classes[cls].name`): the run does not know them.
  std::vector<class_metrics> classes;
  std::vector<lambda_sample> lambda_trace;  ///< empty unless the policy tunes lambda
  double wall_s = 0;                        ///< the run's own wall-clock time (summary included)
  double cpu_s = 0;                         ///< the process's CPU time during the run (std::clock)
  std::uint64_t events = 0;                 ///< arrivals + device events + control ticks
  double events_per_wall_s = 0;
  double requests_per_wall_s = 0;  ///< read / wall_s
};

/// @brief Collects per-request outcomes during a run (the engine's; O(1) per call).
class metrics_recorder {
 public:
  metrics_recorder() = default;

  void on_read(tier t) noexcept { ++tiers_[index(t)].read; }

  /// A rejected request of tier t and SLO class cls: it misses every kind.
  void on_reject(tier t, std::uint8_t cls) {
    auto& m = tiers_[index(t)];
    ++m.rejected;
    ++m.violations;
    m.misses.add(slo_outcome::rejected());
    class_metrics& c = class_of(cls);
    ++c.rejected;
    c.misses.add(slo_outcome::rejected());
  }

  /// A completed request and what it missed (`o`). `tbt_s_mean` is its mean time between tokens, recorded when
  /// it is >= 0; pass a negative value for a request with fewer than 2 output tokens (it has no TBT).
  /// Returns `o`.
  slo_outcome on_complete(tier t, std::uint8_t cls, double e2e_s, double ttft_s, double tbt_s_mean,
                          const slo_outcome& o) {
    auto& m = tiers_[index(t)];
    ++m.completed;
    m.late += o.e2e ? 1 : 0;
    m.late_ttft += o.ttft ? 1 : 0;
    m.violations += o.any() ? 1u : 0u;
    m.misses.add(o);
    class_metrics& c = class_of(cls);
    ++c.completed;
    c.misses.add(o);
    e2e_[index(t)].add(e2e_s);
    ttft_[index(t)].add(ttft_s);
    if (tbt_s_mean >= 0.0) tbt_[index(t)].add(tbt_s_mean);
    return o;
  }

  /// Fills the counts and latency summaries of `r`.
  void summarize_into(sim_result& r) {
    tier_metrics all;
    quantile_sketch all_e2e, all_ttft, all_tbt;
    for (std::size_t i = 0; i < tier_count; ++i) {
      tier_metrics& m = tiers_[i];
      all.read += m.read;
      all.completed += m.completed;
      all.rejected += m.rejected;
      all.late += m.late;
      all.late_ttft += m.late_ttft;
      all.violations += m.violations;
      all.misses.add(m.misses);
      all_e2e.merge(e2e_[i]);
      all_ttft.merge(ttft_[i]);
      all_tbt.merge(tbt_[i]);
      m.e2e = summarize(e2e_[i]);
      m.ttft = summarize(ttft_[i]);
      m.tbt = summarize(tbt_[i]);
      m.violation_rate = m.read ? static_cast<double>(m.violations) / static_cast<double>(m.read) : 0.0;
      m.misses.set_rates(m.read);
      r.tiers[i] = m;
    }
    all.e2e = summarize(all_e2e);
    all.ttft = summarize(all_ttft);
    all.tbt = summarize(all_tbt);
    all.violation_rate = all.read ? static_cast<double>(all.violations) / static_cast<double>(all.read) : 0.0;
    all.misses.set_rates(all.read);
    r.all = all;
    r.read = all.read;
    r.completed = all.completed;
    r.rejected = all.rejected;
    r.classes = classes_;
    for (class_metrics& c : r.classes) {
      c.read = c.completed + c.rejected;
      c.misses.set_rates(c.read);
    }
  }

 private:
  static std::size_t index(tier t) noexcept { return static_cast<std::size_t>(t); }
  // Grown at the first sight of a class id (at most 256 entries): no allocation per request after that.
  class_metrics& class_of(std::uint8_t cls) {
    if (cls >= classes_.size()) classes_.resize(std::size_t{cls} + 1);
    return classes_[cls];
  }
  std::array<tier_metrics, tier_count> tiers_{};
  std::array<quantile_sketch, tier_count> e2e_, ttft_, tbt_;
  std::vector<class_metrics> classes_;
};

}  // namespace joulesched::sim
