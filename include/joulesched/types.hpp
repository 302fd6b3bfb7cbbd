/// @file types.hpp
/// @brief The small value types every policy speaks: device parameters and load, the request as a router
/// sees it, and the assignment a router returns.
///
/// Units are in the names: `_tok` tokens, `_s` seconds, `_j` joules, `_w` watts, `_tok_s` tokens per second.
#pragma once

#include <cstdint>
#include <limits>

namespace joulesched {

/// Index of a device in a fleet, 0..size()-1. Ties between equal costs break towards the lower id.
using device_id = std::uint32_t;

/// Joules per kilowatt-hour, for grid intensities given per kWh.
inline constexpr double j_per_kwh = 3.6e6;

/// Index of a site (data centre / grid zone). Devices of different sites never share a class.
using site_id = std::uint32_t;

class energy_profile;  // profiles/energy_profile.hpp

/// @brief Service tier. Interactive requests (chat, RAG) carry tight deadlines; bulk requests (batch jobs,
/// embeddings) tolerate latency and should go to the most energy-efficient devices.
enum class tier : std::uint8_t { interactive = 0, bulk = 1 };

inline constexpr std::size_t tier_count = 2;

[[nodiscard]] constexpr const char* to_string(tier t) noexcept {
  return t == tier::interactive ? "interactive" : "bulk";
}

/// @brief What a router knows of a device that does not change per decision: the time and energy a request costs
/// on it at its operating point (a batch size and a clock).
///
/// The model of one request of `in` prompt tokens and `t` output tokens (cost/service.hpp computes it): the
/// prefill pass takes request_s + prefill_s_per_tok * in device-seconds and yields the first token; each of the
/// other t - 1 tokens takes 1 / rate_tok_s + ctx_s_per_tok * ctx device-seconds, where ctx = in + t / 2 is its
/// mean context. Energies are alike (request_j, prefill_j_per_tok, energy_j_per_tok, ctx_j_per_tok). A request's
/// own decode runs `batch` times slower than its share of the device (the batch shares each step), so its
/// latency is prefill + batch * decode device-seconds. The prefill and context fields default to 0 (not
/// modelled): a device given only rate_tok_s and energy_j_per_tok prices decode alone.
/// Behind a backlog (predict_behind) the request joins the batch the backlog implies rather than the operating one:
/// step_s, the part of a decode step that does not grow with the batch, makes the step linear in the batch
/// (step_s + j x (decode device-seconds per token - step_s / batch)), and beyond `capacity` requests wait; that
/// step is priced against the stricter of the request's pacing target and the device's `pacing_s`.
///
/// Two devices with equal parameters form a class: the class-indexed router keeps one heap per class.
/// @brief A served model's id: the index of the model in an engine's or fleet's list, 0 .. max_models - 1.
using model_id = std::uint8_t;
inline constexpr std::size_t max_models = 64;
/// @brief The models a device serves, one bit per model_id (bit m: model m).
using model_set = std::uint64_t;
/// Every model: what a device serves when it says nothing (a fleet of one model needs no ids).
inline constexpr model_set all_models = ~model_set{0};
/// The set of one model. Precondition: m < max_models.
[[nodiscard]] constexpr model_set only_model(model_id m) noexcept { return model_set{1} << m; }

struct device_params {
  double rate_tok_s = 0.0;                  ///< mu_n: output tokens/s the device serves, its whole batch (> 0)
  double energy_j_per_tok = 0.0;            ///< eps_n: joules per output token at the operating point (>= 0)
  site_id site = 0;                         ///< where the device is (for carbon-aware cost terms)
  const energy_profile* profile = nullptr;  ///< optional batch- and length-dependent profile; not owned
  double prefill_s_per_tok = 0.0;           ///< device-seconds per prompt token of prefill (>= 0)
  double prefill_j_per_tok = 0.0;           ///< joules per prompt token of prefill (>= 0)
  double request_s = 0.0;                   ///< device-seconds per request: the prefill pass's fixed part (>= 0)
  double request_j = 0.0;                   ///< joules per request: the same pass's energy (>= 0)
  double ctx_s_per_tok = 0.0;  ///< decode device-seconds added per output token per token of context (>= 0)
  double ctx_j_per_tok = 0.0;  ///< joules of the same (>= 0)
  double batch = 1.0;          ///< the operating batch (>= 1): a request's decode latency / its device time
  double step_s = 0.0;         ///< the fixed part of a decode step (the weights' read), seconds (>= 0)
  double capacity = std::numeric_limits<double>::infinity();  ///< requests it holds at once (>= batch; inf: none)
  /// The device's pacing guard, seconds between tokens (>= 0; 0: none): the strictest pacing target of the traffic
  /// it serves. Every request in a batch decodes at the batch's step, so a request that joins lengthens its
  /// batch-mates' steps as much as its own: one without a target of its own, or with a looser one, is priced
  /// against the guard (detail::slo_lateness), lest it push an interactive batch past its target.
  double pacing_s = 0.0;
  /// Seconds of network round trip between the device's site and its users (>= 0): added to the times of a
  /// request's first and last token as its users see them, not to the device's work. FREESH's sites.
  double network_s = 0.0;
  model_set models = all_models;  ///< the models it serves (not empty); routers send it only their requests

  friend bool operator==(const device_params&, const device_params&) = default;
};

/// @brief The work a router has reserved on a device and not yet released: its backlog.
///
/// Work is kept in whole nanoseconds of device time, so that reserving and releasing add and subtract exactly
/// and a drained device returns to zero (doubles would drift, and a release could then look like a second one).
struct device_load {
  std::uint64_t reserved_ns = 0;  ///< B_n: device-nanoseconds of work reserved (queued and running requests)
  std::uint32_t requests = 0;     ///< requests reserved on the device (its batch, as far as the router knows)

  /// The backlog in seconds.
  [[nodiscard]] constexpr double reserved_s() const noexcept { return static_cast<double>(reserved_ns) * 1e-9; }
};

/// @brief The largest budget (deadline - now) a request_view may carry, in either direction, seconds: 10^12 s,
/// about 31,700 years. Wide enough for any real deadline and clock origin (Unix time is 1.8e9 s in 2026); a
/// larger one is a corrupt or sentinel value. Within it, the lateness ETA - budget that cost models price stays
/// some 290 orders of magnitude below overflow.
inline constexpr double max_budget_s = 1e12;

/// @brief An SLO class: the id of a set of SLOs (TTFT, TBT, end to end) that requests share, an index into the
/// deployment's named classes (slo_class_set, slo_class.hpp). The set is open: a workload or an engine names as
/// many classes as it needs, and the estimators keep their state per class.
using slo_class_id = std::uint16_t;
/// The two default classes, one per tier, in a default slo_class_set: "interactive" (0) and "bulk" (1).
inline constexpr slo_class_id interactive_slo_class = 0;
inline constexpr slo_class_id bulk_slo_class = 1;
/// The default class of a tier: the class of a request that names none but declares its tier.
[[nodiscard]] constexpr slo_class_id default_slo_class_of(tier t) noexcept {
  return t == tier::bulk ? bulk_slo_class : interactive_slo_class;
}
/// The slo_class of a request that names neither a class nor a tier.
inline constexpr slo_class_id default_slo_class = interactive_slo_class;

/// @brief A request as a router sees it at decision time: estimates, not truth.
///
/// Budgets are relative to now: negative when already missed (legal: the request is late). A TTFT budget of
/// max_budget_s (the default) and a tbt_s of 0 mean "no such SLO".
struct request_view {
  std::uint32_t work_tok = 0;   ///< t_r: estimated output tokens
  std::uint32_t input_tok = 0;  ///< prompt tokens
  double budget_s = 0.0;        ///< D_r: end-to-end deadline minus now, seconds
  joulesched::tier tier = tier::interactive;
  double ttft_budget_s = max_budget_s;  ///< time-to-first-token deadline minus now, seconds (max_budget_s: none)
  double tbt_s = 0.0;                   ///< pacing target: most seconds between output tokens after the first (0: none)
  slo_class_id slo_class = default_slo_class;  ///< the SLO class (an engine's or workload's id)
  model_id model = 0;  ///< the model it asks for (< max_models): only devices that serve it are candidates
};

/// Whether a device with parameters `p` serves the model a request asks for.
[[nodiscard]] constexpr bool serves(const device_params& p, const request_view& v) noexcept {
  return ((p.models >> v.model) & 1u) != 0;
}

/// @brief A router's decision: the device, and the work reserved on it. Pass it back to release().
struct assignment {
  device_id device = std::numeric_limits<device_id>::max();
  std::uint64_t work_ns = 0;  ///< device-nanoseconds reserved (fleet::correct may change it)

  friend bool operator==(const assignment&, const assignment&) = default;
};

}  // namespace joulesched
