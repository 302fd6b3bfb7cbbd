/// @file trace_source.hpp
/// @brief Replays a request trace as the simulator's workload: every row once per copy, in order, each request
/// labelled with a class of the mix for its deadlines.
///
/// When to use: to replay a production arrival process (read it with trace.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/sim/request.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload_mix.hpp"

namespace joulesched::sim {

/// @brief Options of `trace_source`.
struct trace_source_options {
  double load_scale = 1.0;  ///< time compression: arrival_s = row.arrival_s / load_scale (> 0; 2 = twice the load)
  /// The trace is replayed this many times in order (>= 1), copy k shifted by k x the trace's span (its last
  /// arrival), so that bursts and lulls keep their shape while the replay fills a longer window. Request ids
  /// run on across copies (copy k's row i is id k x rows + i).
  std::size_t copies = 1;
  std::uint64_t seed = 1;                  ///< seed of the class labels
  std::optional<std::size_t> fixed_class;  ///< label every request with this class instead of by shares
};

/// @brief Replays a trace: every row exactly once, in order, ids 0.., arrival compressed by load_scale,
/// tokens as in the trace (the class's length model is not used), each request labelled with a class
/// (drawn by the mix's shares from the seed, the same draw as mix_source makes, or `fixed_class`), and
/// deadlines, pacing target (tbt_s) and tier from that class.
class trace_source final : public request_source {
 public:
  /// @throws config_error if the trace is null, the mix or an option is invalid.
  trace_source(std::shared_ptr<const trace> tr, workload_mix mix, trace_source_options opts = {});
  trace_source(trace tr, workload_mix mix, trace_source_options opts = {})
      : trace_source(std::make_shared<const trace>(std::move(tr)), std::move(mix), opts) {}

  bool next(request& out) override;

  [[nodiscard]] const workload_mix& mix() const noexcept { return mix_; }
  /// The number of requests the source yields: rows x copies.
  [[nodiscard]] std::size_t size() const noexcept { return trace_->rows.size() * opts_.copies; }

 private:
  std::shared_ptr<const trace> trace_;
  workload_mix mix_;
  trace_source_options opts_;
  std::vector<double> cum_share_;
  std::mt19937_64 labels_rng_;
  std::size_t pos_ = 0;
  double last_arrival_s_ = 0.0;
};

// Implementation
inline trace_source::trace_source(std::shared_ptr<const trace> tr, workload_mix mix, trace_source_options opts)
    : trace_(std::move(tr)), mix_(std::move(mix)), opts_(opts) {
  if (!trace_) joulesched::detail::fail("trace_source", "trace", "null", "must point to a trace");
  validate(mix_);
  joulesched::detail::require_positive(opts_.load_scale, "trace_source_options", "load_scale");
  if (opts_.copies == 0) joulesched::detail::fail("trace_source_options", "copies", 0, "must be >= 1");
  if (opts_.fixed_class && *opts_.fixed_class >= mix_.classes.size()) {
    joulesched::detail::fail("trace_source_options", "fixed_class", *opts_.fixed_class,
                             "must be < the number of classes (" + std::to_string(mix_.classes.size()) + ")");
  }
  cum_share_ = workload_detail::cumulative_shares(mix_);
  labels_rng_.seed(workload_detail::splitmix64(opts_.seed ^ workload_detail::labels_stream));
}

inline bool trace_source::next(request& out) {
  const std::size_t n = trace_->rows.size();
  if (n == 0 || pos_ >= n * opts_.copies) return false;
  const trace_row& row = trace_->rows[pos_ % n];
  const std::size_t copy = pos_ / n;  // which replay of the trace this row belongs to
  const double shift_s = static_cast<double>(copy) * trace_->rows.back().arrival_s;
  const std::uint8_t k = opts_.fixed_class ? static_cast<std::uint8_t>(*opts_.fixed_class)
                                           : workload_detail::pick_class(cum_share_, labels_rng_);
  const class_spec& c = mix_.classes[k];
  out.id = pos_++;
  // A copy's first row and the previous copy's last row are at the same instant; rounding of the shifted sum
  // may put the first an ulp earlier, which would break the order the source promises.
  out.arrival_s = std::max(last_arrival_s_, (row.arrival_s + shift_s) / opts_.load_scale);
  last_arrival_s_ = out.arrival_s;
  out.input_tok = row.input_tok;
  out.output_tok = row.output_tok;
  out.tier = c.tier;
  out.cls = k;
  apply_deadlines(c, out);
  return true;
}

}  // namespace joulesched::sim
