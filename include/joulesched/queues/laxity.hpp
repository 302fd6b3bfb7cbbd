/// @file laxity.hpp
/// @brief FREESH's least-laxity rule for a preemptive scheduler: a request's ranking deadline, its laxity, and
/// when a waiting request should take a running one's slot.
///
/// When to use: an engine (or the simulator, queue_discipline::preemptive_llf) that runs a fixed number of
/// requests at once and re-ranks them periodically, preempting the running request of most laxity for a waiting
/// one of less. For non-preemptive admission in laxity order use llf_key (deadline_queue.hpp).
///
/// The rule (FREESH's request level: He et al., arXiv 2511.00807, as the project's design notes restate it from
/// the authors' code):
/// - a request's ranking deadline is d = arrival + slack x (TTFT + tokens x s_per_tok), with TTFT and the time
///   per token s_per_tok (1 / the request's token rate) predicted on the device that serves it and `tokens` its
///   predicted output; slack = 1.4 in FREESH;
/// - its laxity at `now` is d - now - remaining x s_per_tok, remaining being its predicted tokens yet to come;
/// - at each re-rank (FREESH: every 0.1 s, over 20 running slots) the waiting request of least laxity takes the
///   slot of the running request of most laxity when its laxity is smaller by more than `margin_s`
///   (FREESH: 0, pure LLF; a margin damps thrashing when laxities tie, at the price of exactness).
///
/// A running request that progresses at its predicted rate keeps its laxity; a waiting one loses one second of
/// laxity per second. Since `now` is common to every request compared at once, the order by key() (= laxity +
/// now) is the order by laxity, and a waiting request's key does not change: queues can cache it at push.
/// Cost: a few multiply-adds, noexcept.
#pragma once

namespace joulesched {

/// @brief FREESH's laxity rule (see the file note). Every constant is a parameter.
struct laxity_rule {
  double slack = 1.4;     ///< FREESH: the ranking deadline's factor over the predicted latency
  double margin_s = 0.0;  ///< FREESH: 0 (pure LLF); preempt only when laxities differ by more than this

  /// The ranking deadline of a request that arrived at `arrival_s`, predicted to take `ttft_s` to its first token
  /// and `s_per_tok` per token for `tokens` tokens.
  [[nodiscard]] constexpr double deadline_s(double arrival_s, double ttft_s, double tokens,
                                            double s_per_tok) const noexcept {
    return arrival_s + slack * (ttft_s + tokens * s_per_tok);
  }

  /// Laxity + now: the request's order among requests compared at one time (smallest first).
  [[nodiscard]] static constexpr double key(double deadline_s, double remaining_tok, double s_per_tok) noexcept {
    return deadline_s - remaining_tok * s_per_tok;
  }

  /// Its laxity at `now_s`: deadline - now - remaining x s_per_tok (negative: it will be late at its rate).
  [[nodiscard]] static constexpr double laxity_s(double deadline_s, double now_s, double remaining_tok,
                                                 double s_per_tok) noexcept {
    return key(deadline_s, remaining_tok, s_per_tok) - now_s;
  }

  /// Whether a waiting request of key `waiting` should take the slot of a running one of key `running`.
  [[nodiscard]] constexpr bool preempts(double waiting, double running) const noexcept {
    return waiting + margin_s < running;
  }
};

}  // namespace joulesched
