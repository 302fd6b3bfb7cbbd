/// @file request.hpp
/// @brief The request as the simulator knows it (truth plus deadlines), and the stream interface that
/// workload generators and trace replayers implement.
///
/// When to use: anything that feeds requests to the simulator engine. Routers never see a `request`; the
/// engine turns it into a `joulesched::request_view` (estimates, budget) at decision time.
///
/// Design: a plain aggregate, 64 bytes, no allocation; `request_source` is one virtual call per request.
/// Cost: one indirect call per request, negligible next to an event-loop step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "joulesched/traits.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief One inference request, as generated or replayed.
///
/// Invariants kept by every source in this library: ids are 0, 1, 2, ... in arrival order;
/// `arrival_s` is non-decreasing along a stream; `ttft_deadline_s >= arrival_s`,
/// `deadline_s >= arrival_s` and `tbt_s` finite and >= 0.
///
/// SLO class: a request's SLO class is its workload class, `cls` (the index into the mix that made or labelled
/// it, whose name the mix holds); metrics count misses per `cls`.
struct request {
  std::uint64_t id = 0;          ///< 0.. in arrival order
  double arrival_s = 0;          ///< simulated seconds from the start
  std::uint32_t input_tok = 0;   ///< prompt tokens
  std::uint32_t output_tok = 0;  ///< the truth; routers only see estimates
  double deadline_s = 0;         ///< absolute end-to-end deadline (arrival + the class's SLO)
  double ttft_deadline_s = 0;    ///< absolute time-to-first-token deadline
  double tbt_s = 0;              ///< pacing target: mean seconds between tokens after the first (0 = none)
  joulesched::tier tier = joulesched::tier::interactive;
  std::uint8_t cls = 0;  ///< workload class index into the mix (chat, rag, batch, ...): the SLO class
  /// Who sent it, for fairness (sim/fairness.hpp) and the fair queue (queue_discipline::vtc): 0.. below
  /// bounds::max_clients. Sources leave it 0 (one client); client_source labels a stream with several.
  std::uint32_t client = 0;
};

}  // namespace joulesched::sim

/// How the library reads a simulated request, as it reads an engine's: make_request_view builds the router's view
/// from it (the request's own `tier` is its declared tier, its `cls` its SLO class).
template <>
struct joulesched::request_traits<joulesched::sim::request> {
  static double input_tok(const sim::request& r) { return r.input_tok; }
  static double deadline_s(const sim::request& r) { return r.deadline_s; }
  static std::optional<double> ttft_deadline_s(const sim::request& r) { return r.ttft_deadline_s; }
  static double tbt_s(const sim::request& r) { return r.tbt_s; }
  static std::uint16_t slo_class(const sim::request& r) { return r.cls; }
  static std::optional<tier> declared_tier(const sim::request& r) { return r.tier; }
  static double output_tok(const sim::request& r) { return r.output_tok; }
};

namespace joulesched::sim {

/// @brief A stream of requests in arrival order.
///
/// `next(out)` writes the next request into `out` and returns true, or returns false (leaving `out`
/// unspecified) once the stream is exhausted; every later call also returns false.
class request_source {
 public:
  virtual ~request_source() = default;
  virtual bool next(request& out) = 0;
};

/// @brief Hands out the requests of a vector in order: for tests, fuzzing, and an engine that replays
/// requests it already holds. Fill `requests` before the run; `read` counts those handed out so far.
/// The simulator checks the source's promises (arrival order, deadlines) as it reads.
struct vector_source final : request_source {
  std::vector<request> requests;
  std::size_t read = 0;
  bool next(request& out) override {
    if (read == requests.size()) return false;
    out = requests[read++];
    return true;
  }
};

/// @brief Stops a source at a time horizon: requests arriving at or after `end_s` are not handed on (and so
/// never read by the simulator); the inner source is not read past the first of them.
class horizon_source final : public request_source {
 public:
  horizon_source(request_source& inner, double end_s) noexcept : inner_(&inner), end_s_(end_s) {}
  bool next(request& r) override {
    if (done_) return false;
    if (!inner_->next(r) || !(r.arrival_s < end_s_)) {
      done_ = true;
      return false;
    }
    return true;
  }

 private:
  request_source* inner_;
  double end_s_;
  bool done_ = false;
};

}  // namespace joulesched::sim
