/// @file fairness.hpp
/// @brief Fairness between clients over a run, as FREESH reports it (the service gap) and as Jain's index.
///
/// Definitions (FREESH, DESIGN-NOTES): a client is backlogged while at least one of its requests is unfinished
/// (read and neither completed nor rejected: waiting, held by temporal shifting, or running). (Counting only
/// requests waiting in a queue, VTC's notion, was tried: at moderate load queues are short, the backlogged set
/// then changes a hundred times a second, and with service counted at the end of a prefill and of a request,
/// each short epoch holds one or two lumps of service: the measure was noise, Jain 0.74 for equal clients.) An *epoch*
/// is a stretch of time over which the set of backlogged clients does not change. A client's service in an epoch is the
/// tokens it was served then, output tokens weighted 2 and prompt tokens 1 (a prompt is counted when its prefill ends,
/// the output when the request completes: the simulator does not follow single tokens). Service a client gets while it
/// is not backlogged is not compared. For each epoch with at least two backlogged clients and some service:
/// - service gap = (largest - smallest service among the backlogged clients) / their mean service (0: equal);
/// - Jain's index = (sum of service)^2 / (n x sum of service^2) over the n backlogged clients (1: equal, 1/n: one
///   client got everything).
/// The run's figures are the means over such epochs, each weighted by its length in seconds (so that the many
/// short epochs of a lightly loaded run, each holding a token or two, do not outweigh the long ones).
/// Design: per client its unfinished requests and its service in the current epoch, and the list of backlogged
/// clients; an epoch closes in O(backlogged clients). Clients are numbered densely from 0 (request::client);
/// memory is O(largest client id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace joulesched::sim {

/// @brief The fairness figures of a run (see the file note).
struct fairness_metrics {
  std::uint32_t clients = 0;  ///< distinct clients that sent a request
  std::uint64_t epochs = 0;   ///< epochs with >= 2 backlogged clients and some service
  double epoch_s = 0.0;       ///< their total length, seconds
  double service_gap = 0.0;   ///< length-weighted mean of (max - min) / mean service; 0 without such epochs
  double jain = 1.0;          ///< length-weighted mean of Jain's index; 1 without such epochs
};

/// @brief Follows backlog and service per client through a run (see the file note).
class fairness_meter {
 public:
  /// Output tokens count this many times a prompt token. SOURCE: FREESH weights output tokens 2 (DESIGN-NOTES).
  static constexpr double output_weight = 2.0;

  /// A request of `client` arrived (its client is now backlogged).
  void arrive(std::uint32_t client, double now_s) {
    if (client >= outstanding_.size()) {
      outstanding_.resize(std::size_t{client} + 1, 0);
      service_.resize(std::size_t{client} + 1, 0.0);
      position_.resize(std::size_t{client} + 1, 0);
      seen_.resize(std::size_t{client} + 1, false);
    }
    if (!seen_[client]) {
      seen_[client] = true;
      ++clients_;
    }
    if (outstanding_[client]++ == 0) {
      close_epoch(now_s);
      service_[client] = 0.0;
      position_[client] = static_cast<std::uint32_t>(backlogged_.size());
      backlogged_.push_back(client);
    }
  }

  /// `client` was served `weighted_tok` tokens (prompt tokens x 1, output tokens x output_weight); counted while
  /// it is backlogged.
  void serve(std::uint32_t client, double weighted_tok) noexcept {
    if (client < outstanding_.size() && outstanding_[client] > 0) service_[client] += weighted_tok;
  }

  /// A request of `client` completed or was rejected.
  void leave(std::uint32_t client, double now_s) {
    if (--outstanding_[client] != 0) return;
    close_epoch(now_s);
    const std::uint32_t at = position_[client];
    const std::uint32_t last = backlogged_.back();
    backlogged_[at] = last;
    position_[last] = at;
    backlogged_.pop_back();
  }

  /// The figures, closing the epoch in progress at `now_s`.
  [[nodiscard]] fairness_metrics finish(double now_s) {
    close_epoch(now_s);
    fairness_metrics m;
    m.clients = clients_;
    m.epochs = epochs_;
    m.epoch_s = weight_s_;
    if (weight_s_ > 0.0) {
      m.service_gap = gap_s_ / weight_s_;
      m.jain = jain_s_ / weight_s_;
    }
    return m;
  }

 private:
  void close_epoch(double now_s) noexcept {
    const double length = now_s - epoch_start_s_;
    epoch_start_s_ = now_s;
    if (backlogged_.size() >= 2 && length > 0.0) {
      double sum = 0.0, sum_sq = 0.0, lo = service_[backlogged_[0]], hi = lo;
      for (const std::uint32_t c : backlogged_) {
        const double s = service_[c];
        sum += s;
        sum_sq += s * s;
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
      }
      if (sum > 0.0) {
        const double n = static_cast<double>(backlogged_.size());
        gap_s_ += length * (hi - lo) / (sum / n);
        jain_s_ += length * sum * sum / (n * sum_sq);
        weight_s_ += length;
        ++epochs_;
      }
    }
    for (const std::uint32_t c : backlogged_) service_[c] = 0.0;
  }

  std::vector<std::uint32_t> outstanding_;  // per client: its unfinished requests
  std::vector<double> service_;             // per client: weighted tokens served in the current epoch
  std::vector<std::uint32_t> position_;     // per backlogged client: its index in backlogged_
  std::vector<bool> seen_;
  std::vector<std::uint32_t> backlogged_;
  std::uint32_t clients_ = 0;
  double epoch_start_s_ = 0.0;
  double gap_s_ = 0.0, jain_s_ = 0.0, weight_s_ = 0.0;
  std::uint64_t epochs_ = 0;
};

}  // namespace joulesched::sim
