/// @file batching_device.hpp
/// @brief One simulated GPU serving one model with continuous batching: its waiting queue, its running batch,
/// the plan of its decode steps and its energy meter. The simulator (engine.hpp) drives a fleet of them; the
/// physics of a device (what a step costs, how many steps fit in a time, whether the head of the queue fits)
/// lives here.
///
/// When to use: through the simulator. The type is public so that controllers, tests and later device kinds
/// (several resident models per GPU: one serving slot per model, Festina) build on the same physics. Today a
/// device holds one serving slot: one model, one batch.
///
/// Design: a plain struct of the device's state with the formulas as members; the engine owns the request slab
/// and the event heap and moves requests between the queue, the prefill and the batch. The decode plan covers
/// k steps from plan_t0_s, the batch fixed: the total context grows by `batch` per step, so k steps take
/// T(k) = k a + per_ctx b k (k - 1) / 2 with a the first step's time (plan_time), and the steps done by a time
/// are the root of that quadratic (steps_done).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "joulesched/carbon/carbon_meter.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/queues/deadline_queue.hpp"
#include "joulesched/queues/intrusive_queue.hpp"
#include "joulesched/sim/device_model.hpp"
#include "joulesched/sim/energy_meter.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief The order of a device's waiting queue.
enum class queue_discipline : std::uint8_t {
  fcfs,  ///< arrival order
  edf,   ///< earliest deadline first (edf_key)
  llf,   ///< least laxity first: deadline - estimated output tokens / device's nominal rate (llf_key)
  vtc,   ///< fair between clients: the least virtual token counter first (live_request::tag; engine.hpp)
  /// FREESH's preemptive least laxity first (laxity_rule): admission by laxity, and every
  /// engine_options::preemption::period_s a waiting request of less laxity takes the slot of the running one of
  /// most (engine.hpp)
  preemptive_llf
};

[[nodiscard]] constexpr const char* to_string(queue_discipline q) noexcept {
  return q == queue_discipline::fcfs  ? "fcfs"
         : q == queue_discipline::edf ? "edf"
         : q == queue_discipline::llf ? "llf"
         : q == queue_discipline::vtc ? "vtc"
                                      : "preemptive_llf";
}

/// @brief A request inside the simulator: the truth, what the router was told, and the queue hook.
/// Read by the waiting queue through request_traits (input_tok, deadline_s, work_tok).
struct live_request {
  double deadline_s = 0;       ///< absolute end-to-end deadline
  double ttft_deadline_s = 0;  ///< absolute time-to-first-token deadline
  double arrival_s = 0;
  double first_token_s = 0;  ///< set at the end of its prefill
  double tbt_s = 0;          ///< pacing target (request::tbt_s; 0 = none)
  double work_tok = 0;       ///< the estimate of output tokens the router saw
  std::uint64_t id = 0;      ///< request::id
  std::uint32_t input_tok = 0;
  std::uint32_t output_tok = 0;  ///< the truth
  assignment placed{};           ///< what the router reserved; released at completion
  std::uint32_t slot = 0;        ///< its index in the engine's slab (the queue hands back references)
  joulesched::tier tier = joulesched::tier::interactive;
  std::uint8_t cls = 0;        ///< SLO class (request::cls)
  std::uint32_t client = 0;    ///< request::client
  std::uint32_t left_tok = 0;  ///< output tokens yet to come (output_tok until its first prefill)
  /// Its key in a queue whose key the engine sets: the virtual start on the device's token counter
  /// (queue_discipline::vtc), or laxity_rule::key (queue_discipline::preemptive_llf).
  double tag = 0;
  // preemptive_llf: its ranking deadline (laxity_rule::deadline_s) less its arrival, and its predicted time per
  // token on its device. Single precision keeps the slab's entries as small as without preemption (the ranking
  // needs ~1e-7 relative, a millisecond in hours).
  float rank_after_arrival_s = 0;
  float s_per_tok = 0;
  queue_hook hook;

  /// Whether it has had its first prefill: a started request in a waiting queue was preempted.
  [[nodiscard]] bool started() const noexcept { return left_tok != output_tok; }
};

/// @brief The simulator's clock, as the waiting queues read it (a view of the engine's `now`).
struct sim_clock {
  const double* now = nullptr;
  [[nodiscard]] double now_s() const noexcept { return now ? *now : 0.0; }
};
static_assert(Clock<sim_clock>);

/// @brief The key policy of the waiting queue: FCFS (arrival time), or the library's edf_key / llf_key.
/// The choice is made per run; the key is computed once at push, so the switch costs nothing measurable.
class discipline_key {
 public:
  discipline_key(queue_discipline q, double rate_tok_s) : q_(q), llf_(rate_tok_s) {}
  [[nodiscard]] double operator()(const live_request& r) const noexcept {
    switch (q_) {
      case queue_discipline::fcfs:
        return r.arrival_s;
      case queue_discipline::edf:
        return edf_key{}(r);
      case queue_discipline::vtc:
      case queue_discipline::preemptive_llf:
        return r.tag;
      case queue_discipline::llf:
        break;
    }
    return llf_(r);
  }

 private:
  queue_discipline q_;
  llf_key llf_;
};
static_assert(QueueKey<discipline_key, live_request>);

using waiting_queue = intrusive_deadline_queue<live_request, &live_request::hook, discipline_key, sim_clock>;
static_assert(RequestQueue<waiting_queue>);

/// @brief A simulated device (see the file note). Fields are the engine's to change; the members compute.
struct batching_device {
  /// What the device is doing.
  enum class phase : std::uint8_t { idle, prefill, decode, off, waking };

  struct finish_entry {
    std::uint64_t step;  ///< the decode step after which the request has its last token
    std::uint32_t slot;  ///< the request's slot in the engine's slab
  };
  /// Min-heap order for std::push_heap: smallest step on top, then lowest slot.
  struct finish_after {
    bool operator()(const finish_entry& a, const finish_entry& b) const noexcept {
      return a.step > b.step || (a.step == b.step && a.slot > b.slot);
    }
  };

  batching_device(const device_model& m, std::uint32_t type_, site_id site_, discipline_key key, sim_clock clock)
      : max_batch(m.max_batch), kv_cap_tok(m.kv_capacity_tok), type(type_), site(site_), waiting(key, clock) {
    load(m);
    set_power(m.idle_power_w);
    finish.reserve(std::min<std::uint32_t>(m.max_batch, 4096));
    prefilling.reserve(std::min<std::uint32_t>(m.max_batch, 4096));
  }

  /// Takes the speed and power of an operating point (memory is the same at every point).
  void load(const device_model& m) noexcept {
    step_base_s = m.decode_step_base_s;
    step_per_seq_s = m.decode_step_per_seq_s;
    step_per_ctx_s = m.decode_step_per_ctx_tok_s;
    prefill_base_s = m.prefill_base_s;
    prefill_per_tok_s = m.prefill_per_tok_s;
    idle_w = m.idle_power_w;
    model = &m;
  }

  /// Whether it is prefilling or decoding (busy time counts then).
  [[nodiscard]] bool serving() const noexcept { return ph == phase::prefill || ph == phase::decode; }

  /// Energy, carbon (when accounted) and busy time up to now_s, at the power that held since the last change.
  void account(double now_s) noexcept {
    if (serving()) busy_s += now_s - meter.since_s;
    meter.advance(now_s);
    if (carbon.series) carbon.advance(now_s);
  }
  /// The power from now on (account up to now first).
  void set_power(double w) noexcept {
    meter.set_power(w);
    carbon.set_power(w);
  }

  /// The time of k decode steps from the plan's start.
  [[nodiscard]] double plan_time(std::uint64_t k) const noexcept {
    const double kd = static_cast<double>(k);
    return kd * plan_a_s + step_per_ctx_s * static_cast<double>(batch) * kd * (kd - 1.0) * 0.5;
  }

  /// The number of whole steps of the current plan done by `elapsed_s` (< plan_k).
  [[nodiscard]] std::uint64_t steps_done(double elapsed_s) const noexcept {
    const double h = step_per_ctx_s * static_cast<double>(batch) * 0.5;
    double j = 0;
    if (h > 0) {
      const double b = plan_a_s - h;
      j = std::floor((-b + std::sqrt(b * b + 4.0 * h * elapsed_s)) / (2.0 * h));
    } else {
      j = std::floor(elapsed_s / plan_a_s);
    }
    std::uint64_t k = j > 0 ? static_cast<std::uint64_t>(std::min(j, static_cast<double>(plan_k))) : 0;
    while (k > 0 && plan_time(k) > elapsed_s) --k;
    while (k + 1 < plan_k && plan_time(k + 1) <= elapsed_s) ++k;
    return std::min<std::uint64_t>(k, plan_k - 1);
  }

  /// Whether the head of the waiting queue can be admitted now: the batch has room and the KV cache holds its
  /// input and output (or holds them already: a preempted request that kept its KV).
  [[nodiscard]] bool head_fits() const noexcept {
    if (waiting.empty()) return false;
    const std::uint32_t n = batch + static_cast<std::uint32_t>(prefilling.size());
    return n < max_batch && head_kv_fits();
  }
  /// Whether the KV cache can hold the head of the waiting queue (precondition: a head).
  [[nodiscard]] bool head_kv_fits() const noexcept {
    const live_request& h = waiting.top();
    return resident(h) || kv_tok + h.input_tok + h.output_tok <= kv_cap_tok;
  }
  /// Whether `r` was preempted here and kept its KV.
  [[nodiscard]] bool resident(const live_request& r) const noexcept { return keeps_kv && r.started(); }

  // coefficients, copied from the model for locality
  double step_base_s = 0, step_per_seq_s = 0, step_per_ctx_s = 0, prefill_base_s = 0, prefill_per_tok_s = 0;
  double idle_w = 0;
  std::uint32_t max_batch;
  std::uint64_t kv_cap_tok;
  const device_model* model = nullptr;
  std::uint32_t type;
  site_id site;
  device_point at{};                      ///< its table and point (with operating points)
  const device_model* pending = nullptr;  ///< a point to take at the next step boundary
  bool off_pending = false;               ///< powered off while serving: off once empty
  bool rerank = false;                    ///< preemptive_llf: re-rank at the next step boundary
  bool keeps_kv = false;                  ///< preemptive_llf: a preempted request keeps its KV (resume::resident)
  // serving state
  phase ph = phase::idle;
  std::uint32_t batch = 0;        ///< requests decoding
  std::uint64_t step = 0;         ///< decode steps completed (as of the plan's start while decoding)
  std::uint64_t ctx_tok = 0;      ///< total context of the decoding requests (as of the plan's start)
  std::uint64_t kv_tok = 0;       ///< KV reserved by decoding and prefilling requests (input + output each)
  std::uint64_t prefill_tok = 0;  ///< tokens of the requests taken for the next prefill, not yet started
  // decode plan: from t0 (at step, ctx_tok) for k steps; per-step time at the start = a
  double plan_t0_s = 0, plan_a_s = 0;
  std::uint64_t plan_k = 0;
  // power and energy
  energy_meter meter;
  carbon_meter carbon;  ///< accounts nothing unless its series is set (engine_options::carbon)
  double busy_s = 0;
  double window_energy_j = 0, window_busy_s = 0;  ///< over the measurement window
  double window_carbon_g = 0;                     ///< over the measurement window
  std::vector<finish_entry> finish;               ///< min-heap (finish_after)
  std::vector<std::uint32_t> prefilling;          ///< slots of the requests in the running prefill
  /// queue_discipline::vtc: per client, the virtual finish of its last request queued here; and the virtual time
  /// (the tag of the last request admitted).
  std::vector<double> vtc_finish;
  double vtc_now = 0;
  waiting_queue waiting;
};

}  // namespace joulesched::sim
