/// @file engine.hpp
/// @brief The trace-driven discrete-event simulator: a fleet of GPUs serving requests with continuous batching,
/// routed by the library's own routers, queued in the library's own EDF / LLF queues, with power integrated
/// exactly over time.
///
/// When to use: to compare routing, queueing and control policies on a fleet and a workload before deploying
/// them. It runs the very code an engine includes: any type that satisfies `joulesched::Router` routes, the
/// per-device waiting queue is `joulesched::intrusive_deadline_queue` with the library's `edf_key` / `llf_key`,
/// and estimates come from the library's length estimators. Not a cycle-accurate GPU model: step times and power
/// come from the linear `device_model`.
///
/// The model of a device (one per GPU, one served model):
/// - Waiting queue: FCFS, EDF, LLF or VTC (`queue_discipline`; VTC: the request whose client's virtual token
///   counter on this device is lowest, tags set at enqueue, see enqueue()). Admission takes requests from the head
///   while the batch holds fewer than `max_batch` requests and the KV cache can reserve the head's input + output
///   tokens (its true length: the engine never has to preempt, an optimistic model of paged attention). Admission stops
///   at the first head that does not fit (no skipping ahead).
/// - Preemptive least laxity first (queue_discipline::preemptive_llf, FREESH's request level; engine_options::
///   preemption): the queue is ordered by laxity_rule::key, the ranking deadline and time per token predicted on
///   the device at enqueue (predict_service). Every period_s (0.1 s) each decoding device whose head cannot be
///   admitted re-ranks at its next step boundary: the running request of most laxity (its predicted tokens yet to
///   come from its estimate) leaves the batch for the head while the rule prefers the head, and rejoins the queue
///   with its tokens made. preemption::mode says what it keeps: resident (default; FREESH's slot model, an
///   assumption) keeps its KV and rejoins the batch where it left at no cost; recompute (vLLM's default) frees
///   its KV, and its next prefill recomputes prompt + the tokens made. Its first token, TTFT and reservation stay
///   those of its first prefill; act_move_waiting leaves it where it is. preemption::slots caps the running
///   requests (the batch and the prefill together) below max_batch.
/// - Iterations: a *prefill* iteration runs every newly admitted prompt together and takes
///   prefill_base_s + prefill_per_tok_s * (their input tokens); running requests wait during it (as in vLLM
///   without chunked prefill). It yields each admitted request's first token. Then *decode* steps: each takes
///   decode_step_s(batch, total context) and gives one token to every running request. After a prefill, at
///   least one decode step runs before the next prefill when requests are decoding (so arrivals cannot starve
///   decode).
/// - Power: idle_power_w with nothing running; busy_power_w(b) while decoding b requests; prefill_power_w during
///   a prefill pass (ASSUMPTION: prefill draws prefill_power_w, fitted from Splitwise, whatever the batch and
///   prompt length). Energy is the exact integral of this piecewise-constant power.
/// - Routing: each arrival is routed once, on a request_view with its estimated output, its prompt, its end-to-end
///   and TTFT budgets, its pacing target and its SLO class (request::cls); the router reserves its predicted
///   device time. When its prompt is done the engine corrects the reservation (fleet::correct) by the predicted
///   prefill, and releases the rest at completion.
/// - Time and memory: a request's context is input + tokens generated so far; it leaves the batch after its
///   last token. A request that fits no device's KV cache, that the router places nowhere, or that the router
///   places on a device too small for it, is rejected and counted (metrics.hpp).
/// - Temporal shifting: with engine_options::release_at, an arrival may be held and routed later (a cleaner
///   hour, carbon/temporal_shift.hpp); it is read and counted at its arrival and never lost.
///
/// Design for speed (no O(batch) work per decode step, no allocation per event):
/// - per device a step counter; each running request's finishing step sits in a small min-heap, so the batch
///   advances by k steps in O(1) and completions pop in O(log batch);
/// - the total context grows by `batch` per step, so the time of k steps has a closed form
///   T(k) = k (base + per_seq b + per_ctx C0) + per_ctx b k (k - 1) / 2, and one event covers every step up to
///   the next completion; an arrival that could be admitted cuts the plan to the next step boundary (the number
///   of steps already done is the root of a quadratic);
/// - pending device events live in an indexed 4-ary heap (event_queue.hpp), one entry per device; arrivals are
///   pulled one at a time from the source; requests live in a slab of fixed chunks (stable addresses for the
///   intrusive queue hooks), recycled through a free list.
/// Cost: O(log devices + log batch + log queue + router) per event; in steady state nothing is allocated.
///
/// Actions during a run (actuator.hpp): a controller whose tick takes an `actuator&` may move a device to another
/// operating point of its table (sim_devices::point_tables; the new speed and power hold from the next step
/// boundary), power it off (it drains first, then draws power_states::off_w) and on (a wake-up delay at the wake
/// power), and route its waiting requests again. Wake-ups are timers (timer_queue.hpp) beside the device events;
/// energy is each device's energy_meter (energy_meter.hpp), advanced at each of its events.
///
/// Fairness (fairness.hpp): every request's client is followed from its arrival to its completion or rejection,
/// its prompt counted as served at the end of its prefill and its output at completion (sim_result::fairness).
///
/// Carbon (engine_options::carbon, carbon_accounting.hpp): each device's carbon_meter, of its site's grid zone and
/// PUE, advanced with its energy meter; the hourly intensity splits every power interval at the hour boundaries.
///
/// Extension point (a seam, not built): several models per GPU. Today a device serves one model; the
/// generalisation is one batch (finish heap, waiting queue, coefficients) per model on a device and one power
/// function of all of them.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <ctime>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/queues/laxity.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/sim/actuator.hpp"
#include "joulesched/sim/batching_device.hpp"
#include "joulesched/sim/carbon_accounting.hpp"
#include "joulesched/sim/device_model.hpp"
#include "joulesched/sim/energy_meter.hpp"
#include "joulesched/sim/event_queue.hpp"
#include "joulesched/sim/fairness.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/input_bounds.hpp"
#include "joulesched/sim/metrics.hpp"
#include "joulesched/sim/request.hpp"
#include "joulesched/sim/sim_control.hpp"
#include "joulesched/sim/sim_devices.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/sim/timer_queue.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief FREESH's request level (queue_discipline::preemptive_llf): what is re-ranked, how often, by what rule.
struct preemption_options {
  /// What a preempted request keeps.
  enum class resume : std::uint8_t {
    /// Its KV stays on the GPU: it frees its slot only and later rejoins the batch where it left, at no cost
    /// (ASSUMPTION: FREESH's slot model, which prices no preemption; the authors' engine is not described).
    resident,
    /// Its KV is freed with its slot, and its next prefill recomputes its prompt and the tokens it had made
    /// (vLLM's default preemption).
    recompute
  };
  resume mode = resume::resident;
  /// Seconds between re-ranks (FREESH: 0.1; >= bounds::min_control_period_s).
  double period_s = 0.1;
  /// Running slots per device: requests decoding or prefilling at once. 0: the device's max_batch (what its
  /// model holds; FREESH's instances hold 20, a figure of their engine, not of ours).
  std::uint32_t slots = 0;
  laxity_rule rule;  ///< FREESH's slack 1.4 and margin 0

  /// @throws config_error naming `where` and the field.
  void validate(const std::string& where) const {
    if (!(period_s >= bounds::min_control_period_s && period_s <= bounds::max_window_s))
      joulesched::detail::fail(where, "period_s", period_s,
                               "must be in [" + joulesched::detail::shortest(bounds::min_control_period_s) + ", " +
                                   std::to_string(bounds::max_window_s) + "] s");
    if (!(rule.slack >= 1.0 && rule.slack <= 1e6))
      joulesched::detail::fail(where, "rule.slack", rule.slack, "must be in [1, 1e6]");
    if (!(rule.margin_s >= 0.0 && rule.margin_s <= bounds::max_window_s))
      joulesched::detail::fail(where, "rule.margin_s", rule.margin_s, "must be finite and >= 0");
  }
};

/// @brief How a run is driven.
struct engine_options {
  queue_discipline discipline = queue_discipline::edf;
  /// Read only with queue_discipline::preemptive_llf.
  preemption_options preemption;
  /// The measurement window [0, window_s] of energy, power and utilisation (usually the arrival window, so
  /// that a policy's drain after the last arrival does not dilute its rates). The run lasts at least until
  /// window_s, even if every request finished earlier (idle devices keep drawing idle power); it never cuts
  /// requests short: they all finish, and the whole run's energy is reported too. 0: the window is the run.
  double window_s = 0.0;
  /// Called about every `progress_interval_wall_s` seconds of wall time with (simulated now, requests read).
  std::function<void(double, std::uint64_t)> progress;
  double progress_interval_wall_s = 2.0;
  /// What powering a device off and on costs (actuator::power_off, power_on).
  power_states power;
  /// When set, operational carbon is accounted beside energy: each device's carbon_meter, of its site's zone and
  /// PUE (sim_result::carbon_g and the rest). The series must cover the whole run, drain included.
  std::optional<carbon_accounting> carbon;
  /// Temporal shifting (carbon/temporal_shift.hpp): called at each arrival with (request, now); a time later
  /// than now holds the request until then, when it is routed as if it arrived then. Its latencies and
  /// deadlines still count from its true arrival, so waiting shows in its end-to-end time and its SLO. Unset,
  /// or a time <= now: routed at once. A time that is not finite or is past bounds::max_arrival_s is an error.
  std::function<double(const request&, double)> release_at;
};

/// @brief The simulator (see the file note).
/// @tparam R        the routing policy; it routes over `routing`, the fleet the engine releases into.
/// @tparam Estimator a LengthEstimator over sim::request (what the router is told of output lengths).
/// @tparam Control  the policy's controller (no_control, or e.g. a PI loop on lambda).
/// @tparam Observer sees every power change and completion.
/// One simulator runs once. Not thread-safe; several simulators on several threads are independent.
template <Router R, class Estimator, SimControl Control = no_control, SimObserver Observer = no_observer>
  requires LengthEstimator<Estimator, request>
class simulator {
 public:
  /// @brief A simulator of `devices` whose router `router` routes over `routing` (same size, same order).
  /// All references must outlive the simulator.
  /// @throws config_error when the sizes differ or the fleet is empty.
  simulator(const sim_devices& devices, fleet& routing, R& router, Estimator& estimator, Control& control,
            engine_options opts = {}, Observer observer = {})
      : devices_(devices),
        routing_(routing),
        router_(router),
        estimator_(estimator),
        control_(control),
        opts_(std::move(opts)),
        observer_(std::move(observer)),
        events_(devices.size()) {
    if (devices.size() == 0) throw config_error("simulator: the fleet has no devices");
    if (devices.size() != routing.size())
      joulesched::detail::fail("simulator", "routing fleet size", routing.size(),
                               "must equal the simulated fleet's " + std::to_string(devices.size()) + " devices");
    if (!(opts_.window_s == 0.0 || (opts_.window_s >= bounds::min_window_s && opts_.window_s <= bounds::max_window_s)))
      joulesched::detail::fail("engine_options", "window_s", opts_.window_s,
                               "must be 0 (the whole run) or in [" +
                                   joulesched::detail::shortest(bounds::min_window_s) + ", " +
                                   std::to_string(bounds::max_window_s) + "] s");
    opts_.power.validate("engine_options: power");
    if (preemptive()) opts_.preemption.validate("engine_options: preemption");
    if (opts_.carbon) check_carbon(devices);
    check_network(devices);
    check_point_tables();
    dev_.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const device_model& m = *devices.model[i];
      validate(m, "simulator: device " + std::to_string(i));
      const double rate = routing.params(static_cast<device_id>(i)).rate_tok_s;
      dev_.emplace_back(m, devices.type[i], devices.site[i], discipline_key(opts_.discipline, rate), sim_clock{&now_});
      if (preemptive() && opts_.preemption.slots > 0)
        dev_.back().max_batch = std::min(dev_.back().max_batch, opts_.preemption.slots);
      dev_.back().keeps_kv = preemptive() && opts_.preemption.mode == preemption_options::resume::resident;
      if (!devices.point_tables.empty()) dev_.back().at = routing.point_of(static_cast<device_id>(i));
      if (opts_.carbon) {
        carbon_meter& c = dev_.back().carbon;
        c.series = opts_.carbon->series;
        c.zone = opts_.carbon->zone_of_site[devices.site[i]];
        c.pue = opts_.carbon->pue_of_site[devices.site[i]];
        c.offset_s = opts_.carbon->offset_s;
      }
      max_kv_tok_ = std::max(max_kv_tok_, m.kv_capacity_tok);
    }
  }

  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  /// Unlinks every request still queued (a run that threw leaves some) before the slab that holds them goes.
  ~simulator() {
    for (device_state& d : dev_) d.waiting.clear();
  }

  /// @brief Runs every request of `src` to completion (or rejection) and returns the metrics.
  /// @throws config_error when the source breaks its promises (arrivals negative, decreasing or beyond
  /// bounds::max_arrival_s, non-finite times, deadlines before arrival), or the controller's period is below
  /// bounds::min_control_period_s; std::logic_error when called twice; std::bad_alloc.
  sim_result run(request_source& src) {
    if (ran_) throw std::logic_error("simulator::run: called twice (a simulator runs once)");
    ran_ = true;
    const auto wall0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    auto last_progress = wall0;
    for (device_id d = 0; d < dev_.size(); ++d) observer_.on_power(d, 0.0, dev_[d].meter.power_w);

    const double period = control_.period_s();
    const bool ticking = period > 0.0 && std::isfinite(period);
    if (ticking && period < bounds::min_control_period_s)
      joulesched::detail::fail("simulator: the controller", "period_s", period,
                               "must be 0, +inf or >= " + joulesched::detail::shortest(bounds::min_control_period_s) +
                                   " s (bounds::min_control_period_s)");
    period_ = period;
    constexpr timer tick{timer_kind::control_tick, 0};
    if (ticking) timers_.schedule(tick, period);  // tick k is at k * period exactly (no accumulated rounding)
    request next;
    bool have = pull(src, next);
    std::uint64_t events = 0;
    for (;;) {
      // The next request to route: the source's next, or a held one whose release time comes first.
      const double t_src = have ? next.arrival_s : std::numeric_limits<double>::infinity();
      const double t_held = held_.empty() ? std::numeric_limits<double>::infinity() : held_.front().release_s;
      const double t_arr = std::min(t_src, t_held);
      if (ticking && !(have || !held_.empty() || in_flight_ > 0)) {
        timers_.cancel(tick);  // nothing left to control; other timers (wake-ups) still fire
      } else if (ticking && in_flight_ == 0 && timers_.time_of(tick) < t_arr) {
        // Nothing in flight: sleep through the idle ticks to the first one at or after the next arrival.
        const double k = std::ceil(t_arr / period);
        if (k < 0x1p62) {
          ticks_ = static_cast<std::uint64_t>(k) - 1;
          timers_.schedule(tick, period * k);
        } else {
          timers_.cancel(tick);  // beyond any tick count: the controller sleeps
        }
      }
      const double t_dev = events_.top_time_s();
      const double t_tim = timers_.top_time_s();
      if (t_dev == std::numeric_limits<double>::infinity() && t_arr == t_dev && t_tim == t_dev) break;
      if (!window_taken_ && opts_.window_s > 0.0 && std::min({t_dev, t_arr, t_tim}) > opts_.window_s)
        take_window(opts_.window_s);
      ++events;
      if (t_dev <= t_arr && t_dev <= t_tim) {
        now_ = t_dev;
        on_device_event(events_.top());  // re-schedules or cancels the device's event
      } else if (t_tim <= t_arr) {
        now_ = t_tim;
        on_timer(timers_.pop());
      } else if (t_held < t_src) {
        now_ = t_held;
        std::pop_heap(held_.begin(), held_.end(), held_later);
        const request r = held_.back().r;
        held_.pop_back();
        route(r);
      } else {
        now_ = t_src;
        on_arrival(next);
        have = pull(src, next);
      }
      if (opts_.progress && (events & 0xFFFF) == 0) {
        const auto w = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(w - last_progress).count() >= opts_.progress_interval_wall_s) {
          last_progress = w;
          opts_.progress(now_, read_);
        }
      }
    }
    assert(in_flight_ == 0);
    if (!window_taken_) take_window(opts_.window_s > 0.0 ? opts_.window_s : now_);
    const double end_s = std::max(now_, window_end_s_);
    now_ = end_s;
    for (auto& d : dev_) d.account(now_);
    sim_result r = finish(end_s, events);
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    r.cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    r.events_per_wall_s = r.wall_s > 0 ? static_cast<double>(events) / r.wall_s : 0.0;
    r.requests_per_wall_s = r.wall_s > 0 ? static_cast<double>(read_) / r.wall_s : 0.0;
    return r;
  }

  /// The simulated time (seconds) the engine has reached.
  [[nodiscard]] double now_s() const noexcept { return now_; }

  /// The observer (e.g. to read what a recording observer saw after run()).
  [[nodiscard]] const Observer& observer() const noexcept { return observer_; }

 private:
  using device_state = batching_device;
  using phase = batching_device::phase;
  using finish_after = batching_device::finish_after;
  using finish_entry = batching_device::finish_entry;

  static constexpr std::uint32_t chunk_bits = 12;
  static constexpr std::uint32_t chunk_size = 1u << chunk_bits;

  // ---- request slab ----
  live_request& at(std::uint32_t slot) noexcept { return chunks_[slot >> chunk_bits][slot & (chunk_size - 1)]; }

  std::uint32_t alloc_slot() {
    if (!free_.empty()) {
      const std::uint32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    if (slots_ == chunks_.size() * chunk_size) {
      chunks_.push_back(std::make_unique<live_request[]>(chunk_size));
      free_.reserve(chunks_.size() * chunk_size);
    }
    return slots_++;
  }

  // ---- the source ----
  bool pull(request_source& src, request& r) {
    if (!src.next(r)) return false;
    const std::string where = "request source: request " + std::to_string(r.id);
    if (!(r.arrival_s >= last_arrival_s_ && r.arrival_s <= bounds::max_arrival_s))
      joulesched::detail::fail(where, "arrival_s", r.arrival_s,
                               "must be finite, >= 0 (simulated time starts at 0), >= the previous arrival (" +
                                   std::to_string(last_arrival_s_) + ") and <= " +
                                   joulesched::detail::shortest(bounds::max_arrival_s) + " (bounds::max_arrival_s)");
    if (!(std::isfinite(r.deadline_s) && r.deadline_s >= r.arrival_s))
      joulesched::detail::fail(where, "deadline_s", r.deadline_s, "must be finite and >= arrival_s");
    if (!(std::isfinite(r.ttft_deadline_s) && r.ttft_deadline_s >= r.arrival_s))
      joulesched::detail::fail(where, "ttft_deadline_s", r.ttft_deadline_s, "must be finite and >= arrival_s");
    joulesched::detail::require_non_negative(r.tbt_s, where, "tbt_s");
    if (static_cast<std::size_t>(r.tier) >= tier_count)
      joulesched::detail::fail(where, "tier", static_cast<int>(r.tier), "must be interactive (0) or bulk (1)");
    if (r.client >= bounds::max_clients)
      joulesched::detail::fail(where, "client", r.client,
                               "must be < " + std::to_string(bounds::max_clients) + " (bounds::max_clients)");
    last_arrival_s_ = r.arrival_s;
    return true;
  }

  // ---- arrivals ----
  void on_arrival(const request& r) {
    ++read_;
    metrics_.on_read(r.tier);
    fairness_.arrive(r.client, now_);
    if (opts_.release_at) {
      const double t = opts_.release_at(r, now_);
      if (!(t <= bounds::max_arrival_s))  // NaN included
        joulesched::detail::fail("simulator: release_at for request " + std::to_string(r.id), "release time", t,
                                 "must be finite and <= bounds::max_arrival_s");
      if (t > now_) {
        ++deferred_;
        deferred_s_ += t - now_;
        held_.push_back(held_request{t, r});
        std::push_heap(held_.begin(), held_.end(), held_later);
        return;
      }
    }
    route(r);
  }

  // Routes a request now (at its arrival, or at its release when it was held).
  void route(const request& r) {
    const std::uint64_t need = std::uint64_t{r.input_tok} + r.output_tok;
    if (need > max_kv_tok_) {
      reject(r.tier, r.cls, r.client, rejected_no_fit_, false);
      return;
    }
    const double estimate = estimator_.estimate(r, request_traits<request>::slo_class(r));
    // The view an engine would build (request_traits<sim::request>, request.hpp); the estimate saturates at
    // what a view holds.
    const request_view view = make_request_view(r, now_, std::min(std::max(0.0, estimate), max_view_tok));
    const std::optional<assignment> a = router_.route(view);
    if (!a) {
      reject(r.tier, r.cls, r.client, rejected_no_device_, true);
      return;
    }
    assert(a->device < dev_.size());
    device_state& d = dev_[a->device];
    if (need > d.kv_cap_tok) {
      router_.release(*a);
      reject(r.tier, r.cls, r.client, rejected_too_small_, true);
      return;
    }
    const std::uint32_t slot = alloc_slot();
    live_request& lr = at(slot);
    lr.deadline_s = r.deadline_s;
    lr.ttft_deadline_s = r.ttft_deadline_s;
    lr.arrival_s = r.arrival_s;
    lr.id = r.id;
    lr.first_token_s = 0;
    lr.work_tok = static_cast<double>(view.work_tok);
    lr.input_tok = r.input_tok;
    lr.output_tok = r.output_tok;
    lr.left_tok = r.output_tok;
    lr.placed = *a;
    lr.tier = r.tier;
    lr.tbt_s = r.tbt_s;
    lr.cls = r.cls;
    lr.client = r.client;
    lr.slot = slot;
    ++in_flight_;
    enqueue(a->device, lr);
    if (preemptive()) {
      constexpr timer rerank{timer_kind::rerank, 0};
      const double period = opts_.preemption.period_s;
      // Re-ranks run at multiples of the period while requests are in flight (on_timer stops them).
      if (timers_.time_of(rerank) == std::numeric_limits<double>::infinity())
        timers_.schedule(rerank, period * (std::floor(now_ / period) + 1.0));
    }
  }

  // Puts a request in a device's waiting queue and lets the device consider it.
  void enqueue(device_id id, live_request& lr) {
    device_state& d = dev_[id];
    if (opts_.discipline == queue_discipline::vtc) {
      // Its client's counter on this device: it starts at the later of the device's virtual time (a client back
      // from idle is lifted to it) and the end of its client's previous request here, and charges its prompt
      // and its estimated output (weighted as fairness_meter weighs service).
      if (lr.client >= d.vtc_finish.size()) d.vtc_finish.resize(std::size_t{lr.client} + 1, 0.0);
      double& finish = d.vtc_finish[lr.client];
      lr.tag = std::max(d.vtc_now, finish);
      finish = lr.tag + static_cast<double>(lr.input_tok) + fairness_meter::output_weight * lr.work_tok;
    } else if (preemptive()) {
      // Its ranking deadline and time per token as predicted on this device (FREESH's laxity_rule).
      const request_view v{static_cast<std::uint32_t>(lr.work_tok), lr.input_tok, 0.0, lr.tier};
      const service_estimate e = predict_service(routing_.params(id), v);
      lr.s_per_tok = static_cast<float>(e.tbt_s);
      lr.rank_after_arrival_s =
          static_cast<float>(opts_.preemption.rule.deadline_s(0.0, e.first_token_s, lr.work_tok, e.tbt_s));
      lr.tag = laxity_rule::key(rank_deadline_s(lr), lr.work_tok, lr.s_per_tok);
    }
    d.waiting.push(lr);
    switch (d.ph) {
      case phase::idle: {
        d.account(now_);
        next_phase(id, false);
        break;
      }
      case phase::decode:
        cut_plan(id, false);
        break;
      case phase::prefill:  // considered when the prefill ends
      case phase::off:      // considered when it wakes
      case phase::waking:
        break;
    }
  }

  void reject(tier t, std::uint8_t cls, std::uint32_t client, std::uint64_t& counter, bool policy) {
    fairness_.leave(client, now_);
    ++counter;
    ++rejected_;
    metrics_.on_reject(t, cls);
    if (policy) control_.on_outcome(now_, t, slo_outcome::rejected());
  }

  // Energy and busy time of every device over [0, t_s]; t_s >= every event processed so far.
  void take_window(double t_s) noexcept {
    assert(t_s >= now_);
    now_ = t_s;
    for (device_state& d : dev_) {
      d.account(now_);
      d.window_energy_j = d.meter.energy_j;
      d.window_carbon_g = d.carbon.carbon_g;
      d.window_busy_s = d.busy_s;
    }
    window_end_s_ = t_s;
    window_taken_ = true;
  }

  // ---- device events ----
  // An arrival that could be admitted, or (force) a change of operating point: end the decode plan at the next
  // step boundary.
  void cut_plan(device_id id, bool force) noexcept {
    device_state& d = dev_[id];
    if (d.plan_k <= 1 || !(force || d.head_fits())) return;
    const std::uint64_t done = d.steps_done(now_ - d.plan_t0_s);
    if (done + 1 >= d.plan_k) return;
    d.plan_k = done + 1;
    events_.schedule(id, d.plan_t0_s + d.plan_time(d.plan_k));
  }

  // Precondition: the device's meter is advanced to now_ (account).
  void set_power(device_id id, double w) noexcept {
    device_state& d = dev_[id];
    if (w != d.meter.power_w) {
      d.set_power(w);
      observer_.on_power(id, now_, w);
    }
  }

  void on_device_event(device_id id) {
    device_state& d = dev_[id];
    d.account(now_);
    bool after_prefill = false;
    if (d.ph == phase::decode) {
      d.step += d.plan_k;
      d.ctx_tok += std::uint64_t{d.batch} * d.plan_k;
      while (!d.finish.empty() && d.finish.front().step == d.step) {
        std::pop_heap(d.finish.begin(), d.finish.end(), finish_after{});
        const std::uint32_t slot = d.finish.back().slot;
        d.finish.pop_back();
        live_request& lr = at(slot);
        const std::uint64_t full = std::uint64_t{lr.input_tok} + lr.output_tok;
        assert(d.ctx_tok >= full && d.kv_tok >= full && d.batch > 0);
        d.ctx_tok -= full;
        d.kv_tok -= full;
        --d.batch;
        complete(id, slot);
      }
      if (d.rerank) preempt(id);
    } else if (d.ph == phase::prefill) {
      for (const std::uint32_t slot : d.prefilling) {
        live_request& lr = at(slot);
        if (!lr.started()) {  // its first prefill (not the recompute of a preempted request)
          lr.first_token_s = now_;
          prompt_done(lr);
          fairness_.serve(lr.client, static_cast<double>(lr.input_tok));
          if constexpr (requires(Control& c, double x) { c.on_first_token(now_, id, x, x); })
            control_.on_first_token(now_, id,
                                    now_ + (devices_.network_s.empty() ? 0.0 : devices_.network_s[id]) - lr.arrival_s,
                                    lr.ttft_deadline_s - lr.arrival_s);
        }
        if (lr.left_tok > 0) --lr.left_tok;  // the prefill yields a token
        if (lr.left_tok == 0) {
          d.kv_tok -= std::uint64_t{lr.input_tok} + lr.output_tok;
          complete(id, slot);
        } else {
          ++d.batch;
          d.ctx_tok += std::uint64_t{lr.input_tok} + (lr.output_tok - lr.left_tok);
          d.finish.push_back({d.step + lr.left_tok, slot});
          std::push_heap(d.finish.begin(), d.finish.end(), finish_after{});
        }
      }
      d.prefilling.clear();
      after_prefill = true;
    }
    if (d.pending) {  // a step boundary: take the new operating point
      d.load(*d.pending);
      d.pending = nullptr;
    }
    next_phase(id, after_prefill);
  }

  // Chooses what the device does from now_: prefill newly admitted requests, decode, or idle.
  void next_phase(device_id id, bool after_prefill) {
    device_state& d = dev_[id];
    if (!(after_prefill && d.batch > 0) && admit(id)) return;
    if (d.batch > 0) {
      assert(!d.finish.empty() && d.finish.front().step > d.step);
      d.ph = phase::decode;
      d.plan_t0_s = now_;
      d.plan_a_s = d.step_base_s + d.step_per_seq_s * static_cast<double>(d.batch) +
                   d.step_per_ctx_s * static_cast<double>(d.ctx_tok);
      d.plan_k = d.head_fits() ? 1 : d.finish.front().step - d.step;
      set_power(id, d.model->busy_power_w(d.batch));
      events_.schedule(id, now_ + d.plan_time(d.plan_k));
    } else {
      assert(d.waiting.empty() && d.kv_tok == 0);
      events_.cancel(id);
      if (d.off_pending) {  // drained: switch off
        d.off_pending = false;
        d.ph = phase::off;
        set_power(id, opts_.power.off_w);
      } else {
        d.ph = phase::idle;
        set_power(id, d.idle_w);
      }
    }
  }

  // Admits from the head of the waiting queue while it fits; starts a prefill if any was admitted.
  bool admit(device_id id) {
    device_state& d = dev_[id];
    while (d.head_fits()) take_head(d);
    if (d.prefilling.empty()) return false;
    d.ph = phase::prefill;
    set_power(id, d.model->prefill_power_w);
    events_.schedule(id, now_ + d.prefill_base_s + d.prefill_per_tok_s * static_cast<double>(d.prefill_tok));
    d.prefill_tok = 0;
    return true;
  }

  // Moves the head of the waiting queue into the next prefill, its KV reserved; or, preempted with its KV kept,
  // back into the batch where it left (at a step boundary).
  void take_head(device_state& d) {
    live_request& lr = d.waiting.pop();
    if (opts_.discipline == queue_discipline::vtc) d.vtc_now = std::max(d.vtc_now, lr.tag);
    if (d.resident(lr)) {
      ++d.batch;
      d.ctx_tok += std::uint64_t{lr.input_tok} + (lr.output_tok - lr.left_tok);
      d.finish.push_back({d.step + lr.left_tok, lr.slot});
      std::push_heap(d.finish.begin(), d.finish.end(), finish_after{});
      return;
    }
    d.kv_tok += std::uint64_t{lr.input_tok} + lr.output_tok;
    // A preempted request's prefill recomputes its prompt and the tokens it had made (vLLM's recompute mode).
    d.prefill_tok += std::uint64_t{lr.input_tok} + (lr.output_tok - lr.left_tok);
    d.prefilling.push_back(lr.slot);
  }

  [[nodiscard]] bool preemptive() const noexcept { return opts_.discipline == queue_discipline::preemptive_llf; }
  [[nodiscard]] static double rank_deadline_s(const live_request& r) noexcept {
    return r.arrival_s + static_cast<double>(r.rank_after_arrival_s);
  }

  // preemptive_llf at a step boundary: while the head of the waiting queue cannot be admitted, the running request
  // of most laxity gives it its slot (and, resume::recompute, its KV) when the rule says so
  // (laxity_rule::preempts), and goes back to the queue with the tokens it has made. Heads that fit are admitted.
  // O(batch) per preemption; runs only every preemption::period_s on devices whose head is blocked.
  void preempt(device_id id) {
    device_state& d = dev_[id];
    d.rerank = false;
    preempted_.clear();
    for (;;) {
      while (d.head_fits()) take_head(d);
      if (d.waiting.empty() || d.finish.empty()) break;
      if (d.keeps_kv && !d.head_kv_fits()) break;  // a preempted request keeps its KV: the head would not fit
      std::size_t victim = 0;
      double most = -std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < d.finish.size(); ++i) {
        const live_request& r = at(d.finish[i].slot);
        // Its tokens made so far (the truth), and the rest its estimate predicts (at least one).
        const double made = static_cast<double>(r.output_tok) - static_cast<double>(d.finish[i].step - d.step);
        const double k = laxity_rule::key(rank_deadline_s(r), std::max(1.0, r.work_tok - made), r.s_per_tok);
        if (k > most) {
          most = k;
          victim = i;
        }
      }
      if (!opts_.preemption.rule.preempts(d.waiting.top().tag, most)) break;
      const finish_entry e = d.finish[victim];
      d.finish[victim] = d.finish.back();
      d.finish.pop_back();
      std::make_heap(d.finish.begin(), d.finish.end(), finish_after{});
      live_request& lr = at(e.slot);
      lr.left_tok = static_cast<std::uint32_t>(e.step - d.step);
      lr.tag = most;
      const std::uint64_t full = std::uint64_t{lr.input_tok} + lr.output_tok;
      d.ctx_tok -= full - lr.left_tok;
      --d.batch;
      ++preemptions_;
      if (!d.keeps_kv) {
        d.kv_tok -= full;
        recomputed_tok_ += std::uint64_t{lr.input_tok} + (lr.output_tok - lr.left_tok);
      }
      preempted_.push_back(e.slot);
    }
    for (const std::uint32_t slot : preempted_) d.waiting.push(at(slot));
  }

  // The prompt is done: its predicted prefill leaves the reservation (fleet::correct, the API an engine that
  // learns more uses), whatever the router predicted for the decode.
  void prompt_done(live_request& lr) noexcept {
    const request_view v{0, lr.input_tok, 0.0, lr.tier};  // the prefill reads only the prompt
    const std::uint64_t prefill_ns = to_work_ns(prefill_time_s(routing_.params(lr.placed.device), v));
    routing_.correct(lr.placed, lr.placed.work_ns - std::min(lr.placed.work_ns, prefill_ns));
  }

  void complete(device_id id, std::uint32_t slot) {
    live_request& lr = at(slot);
    const device_state& d = dev_[id];
    router_.release(lr.placed);
    // TBT: the mean time between tokens after the first (metrics.hpp); none with fewer than 2 output tokens.
    const bool paced = lr.output_tok >= 2;
    const double tbt_mean = paced ? (now_ - lr.first_token_s) / static_cast<double>(lr.output_tok - 1) : -1.0;
    // Users see the first and the last token a network round trip after the device makes them.
    const double network_s = devices_.network_s.empty() ? 0.0 : devices_.network_s[id];
    const double seen_first_s = lr.first_token_s + network_s;
    const double seen_done_s = now_ + network_s;
    slo_outcome o;
    o.e2e = seen_done_s > lr.deadline_s;
    o.ttft = seen_first_s > lr.ttft_deadline_s;
    o.tbt = lr.tbt_s > 0 && paced && tbt_mean > lr.tbt_s;
    metrics_.on_complete(lr.tier, lr.cls, seen_done_s - lr.arrival_s, seen_first_s - lr.arrival_s, tbt_mean, o);
    control_.on_outcome(now_, lr.tier, o);
    if constexpr (requires(Control& c, served_times t) { c.on_served(now_, id, t); })
      control_.on_served(
          now_, id, served_times{seen_first_s - lr.arrival_s, lr.ttft_deadline_s - lr.arrival_s, tbt_mean, lr.tbt_s});
    observer_.on_complete(lr.id, id, lr.first_token_s, now_);
    estimator_.observe(lr.cls, static_cast<double>(lr.output_tok));
    fairness_.serve(lr.client, fairness_meter::output_weight * static_cast<double>(lr.output_tok));
    fairness_.leave(lr.client, now_);
    type_out_tok_[d.type] += lr.output_tok;
    if (lr.tier == tier::bulk) type_bulk_tok_[d.type] += lr.output_tok;
    ++type_completed_[d.type];
    ++completed_;
    --in_flight_;
    free_.push_back(slot);  // capacity reserved with each chunk: no allocation
  }

  // ---- timers ----
  void on_timer(timer t) {
    switch (t.kind) {
      case timer_kind::control_tick:
        if constexpr (requires(Control& c, double now, actuator& act) { c.tick(now, act); })
          control_.tick(now_, acting_);
        else control_.tick(now_);
        timers_.schedule({timer_kind::control_tick, 0}, period_ * static_cast<double>(++ticks_ + 1));
        break;
      case timer_kind::rerank: {
        // Devices whose head is blocked re-rank at their next step boundary (a prefill's end is not one: a
        // device in a prefill is seen at the next re-rank).
        for (device_id i = 0; i < dev_.size(); ++i) {
          device_state& d = dev_[i];
          if (d.ph != phase::decode || d.waiting.empty() || d.head_fits()) continue;
          d.rerank = true;
          cut_plan(i, true);
        }
        const double period = opts_.preemption.period_s;
        if (in_flight_ > 0) timers_.schedule(t, period * (std::floor(now_ / period + 0.5) + 1.0));
        break;
      }
      case timer_kind::wake: {
        device_state& d = dev_[t.device];
        assert(d.ph == phase::waking);
        d.account(now_);
        d.ph = phase::idle;
        routing_.set_available(t.device, true);
        next_phase(t.device, false);  // serves what was moved to it while it woke, or idles
        break;
      }
    }
  }

  // ---- the actuator (actuator.hpp) ----
  void check_point_tables() const {
    const auto& tables = devices_.point_tables;
    if (tables.empty()) return;
    const std::span<const operating_points> routed = routing_.tables();
    if (routed.size() != tables.size())
      joulesched::detail::fail("simulator: sim_devices", "point_tables", tables.size(),
                               "must have as many tables as the routing fleet (" + std::to_string(routed.size()) + ")");
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const std::string where = "simulator: point table " + std::to_string(t);
      if (tables[t].size() != routed[t].size())
        joulesched::detail::fail(where, "points", tables[t].size(),
                                 "must equal the routing fleet's table (" + std::to_string(routed[t].size()) + ")");
      for (std::size_t k = 0; k < tables[t].size(); ++k) {
        const device_model& m = tables[t][k];
        validate(m, where + " point " + std::to_string(k));
        if (m.max_batch != tables[t][0].max_batch || m.kv_capacity_tok != tables[t][0].kv_capacity_tok)
          joulesched::detail::fail(where + " point " + std::to_string(k), "kv_capacity_tok", m.kv_capacity_tok,
                                   "and max_batch must equal point 0's: points differ in speed and power, not memory");
      }
    }
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      const device_point at = routing_.point_of(static_cast<device_id>(i));
      if (devices_.model[i] != &tables[at.table][at.point])
        joulesched::detail::fail("simulator: device " + std::to_string(i), "model", i,
                                 "must be point_tables[" + std::to_string(at.table) + "][" + std::to_string(at.point) +
                                     "], where the routing fleet puts it");
    }
  }

  device_state& checked_device(device_id id, const char* call) {
    if (id >= dev_.size())
      joulesched::detail::fail(call, "device", id, "must be < the fleet's " + std::to_string(dev_.size()) + " devices");
    return dev_[id];
  }

  void act_set_point(device_id id, std::uint32_t point) {
    device_state& d = checked_device(id, "actuator::set_point");
    if (devices_.point_tables.empty())
      joulesched::detail::fail(
          "actuator::set_point", "point", point,
          "cannot be set: the simulated devices have no operating points (sim_devices::point_tables)");
    const auto& table = devices_.point_tables[d.at.table];
    if (point >= table.size())
      joulesched::detail::fail("actuator::set_point", "point", point,
                               "must be < the device's " + std::to_string(table.size()) + " points");
    if (point == d.at.point) return;
    routing_.set_point(id, point);
    d.at.point = point;
    const device_model& m = table[point];
    if (d.serving()) {
      d.pending = &m;  // taken at the next step boundary
      if (d.ph == phase::decode) cut_plan(id, true);
      return;
    }
    d.pending = nullptr;
    d.account(now_);
    d.load(m);
    if (d.ph == phase::idle) set_power(id, d.idle_w);
  }

  void act_power_off(device_id id) {
    device_state& d = checked_device(id, "actuator::power_off");
    if (d.ph == phase::off || d.off_pending) return;
    routing_.set_available(id, false);
    if (d.ph == phase::waking) timers_.cancel({timer_kind::wake, id});
    if (d.ph == phase::idle || d.ph == phase::waking) {
      d.account(now_);
      d.ph = phase::off;
      set_power(id, opts_.power.off_w);
    } else {
      d.off_pending = true;  // serves what it holds; next_phase switches it off
    }
  }

  void act_power_on(device_id id) {
    device_state& d = checked_device(id, "actuator::power_on");
    if (d.off_pending) {
      d.off_pending = false;
      routing_.set_available(id, true);
    } else if (d.ph == phase::off) {
      d.account(now_);
      d.ph = phase::waking;
      set_power(id, opts_.power.wake_w.value_or(d.idle_w));
      timers_.schedule({timer_kind::wake, id}, now_ + opts_.power.wake_s);
    }
  }

  std::size_t act_move_waiting(device_id id) {
    device_state& d = checked_device(id, "actuator::move_waiting");
    moving_.clear();
    while (!d.waiting.empty()) moving_.push_back(d.waiting.pop().slot);
    std::size_t moved = 0;
    for (const std::uint32_t slot : moving_) {
      live_request& lr = at(slot);
      if (lr.started()) {  // preempted: it stays where its reservation and its ranking are
        d.waiting.push(lr);
        continue;
      }
      request r;
      r.input_tok = lr.input_tok;
      r.deadline_s = lr.deadline_s;
      r.ttft_deadline_s = lr.ttft_deadline_s;
      r.tbt_s = lr.tbt_s;
      r.tier = lr.tier;
      r.cls = lr.cls;
      r.client = lr.client;
      const std::optional<assignment> a = router_.route(make_request_view(r, now_, lr.work_tok));
      const std::uint64_t need = std::uint64_t{lr.input_tok} + lr.output_tok;
      if (a && a->device != id && need <= dev_[a->device].kv_cap_tok) {
        router_.release(lr.placed);
        lr.placed = *a;
        enqueue(a->device, lr);
        ++moved;
      } else {
        if (a) router_.release(*a);
        d.waiting.push(lr);
      }
    }
    return moved;
  }

  [[nodiscard]] device_power power_of(const device_state& d) const noexcept {
    if (d.off_pending) return device_power::draining;
    if (d.ph == phase::off) return device_power::off;
    if (d.ph == phase::waking) return device_power::waking;
    return device_power::on;
  }

  // The actuator a controller's tick receives: forwards to the simulator.
  class acting final : public actuator {
   public:
    explicit acting(simulator& s) noexcept : s_(&s) {}
    [[nodiscard]] std::size_t size() const noexcept override { return s_->dev_.size(); }
    [[nodiscard]] device_power power(device_id d) const override {
      return s_->power_of(s_->checked_device(d, "actuator::power"));
    }
    [[nodiscard]] std::uint32_t point(device_id d) const override {
      return s_->checked_device(d, "actuator::point").at.point;
    }
    [[nodiscard]] std::uint32_t point_count(device_id d) const override {
      const device_state& ds = s_->checked_device(d, "actuator::point_count");
      return s_->devices_.point_tables.empty()
                 ? 1u
                 : static_cast<std::uint32_t>(s_->devices_.point_tables[ds.at.table].size());
    }
    [[nodiscard]] std::size_t waiting(device_id d) const override {
      return s_->checked_device(d, "actuator::waiting").waiting.size();
    }
    [[nodiscard]] std::size_t running(device_id d) const override {
      const device_state& ds = s_->checked_device(d, "actuator::running");
      return ds.batch + ds.prefilling.size();
    }
    void set_point(device_id d, std::uint32_t p) override { s_->act_set_point(d, p); }
    void power_off(device_id d) override { s_->act_power_off(d); }
    void power_on(device_id d) override { s_->act_power_on(d); }
    std::size_t move_waiting(device_id d) override { return s_->act_move_waiting(d); }

   private:
    simulator* s_;
  };

  sim_result finish(double end_s, std::uint64_t events) {
    sim_result r;
    metrics_.summarize_into(r);
    r.rejected_no_fit = rejected_no_fit_;
    r.rejected_no_device = rejected_no_device_;
    r.rejected_device_too_small = rejected_too_small_;
    r.deferred = deferred_;
    r.preemptions = preemptions_;
    r.recomputed_tok = recomputed_tok_;
    r.deferred_mean_s = deferred_ > 0 ? deferred_s_ / static_cast<double>(deferred_) : 0.0;
    r.fairness = fairness_.finish(end_s);
    if (r.read != read_ || r.completed != completed_ || r.rejected != rejected_ || read_ != completed_ + rejected_)
      throw std::logic_error("simulator: requests read != completed + rejected (a bug in the engine)");
    const double w = window_end_s_;
    r.window_s = w;
    r.sim_time_s = end_s;
    r.device_energy_j.resize(dev_.size());
    r.types.resize(devices_.type_names.size());
    for (std::size_t t = 0; t < r.types.size(); ++t) r.types[t].gpu = devices_.type_names[t];
    std::uint64_t bulk_total = 0;
    for (std::size_t t = 0; t < r.types.size(); ++t) bulk_total += type_bulk_tok_[t];
    if (opts_.carbon) r.carbon_g_by_site.assign(opts_.carbon->zone_of_site.size(), 0.0);
    double uncovered_s = 0.0;
    for (std::size_t i = 0; i < dev_.size(); ++i) {
      const device_state& d = dev_[i];
      if (d.batch != 0 || d.ctx_tok != 0 || d.kv_tok != 0 || !d.waiting.empty())
        throw std::logic_error("simulator: device " + std::to_string(i) +
                               " holds requests or memory after the run (a bug in the engine)");
      if (opts_.carbon) {
        r.carbon_g += d.window_carbon_g;
        r.carbon_total_g += d.carbon.carbon_g;
        r.carbon_g_by_site[d.site] += d.window_carbon_g;
        uncovered_s = std::max(uncovered_s, d.carbon.uncovered_s);
      }
      r.device_energy_j[i] = d.meter.energy_j;
      r.energy_total_j += d.meter.energy_j;
      r.energy_j += d.window_energy_j;
      type_metrics& tm = r.types[d.type];
      ++tm.devices;
      tm.busy_s += d.window_busy_s;
      tm.energy_j += d.window_energy_j;
    }
    for (std::size_t t = 0; t < r.types.size(); ++t) {
      type_metrics& tm = r.types[t];
      tm.output_tok = type_out_tok_[t];
      tm.bulk_output_tok = type_bulk_tok_[t];
      tm.completed = type_completed_[t];
      tm.utilisation = w > 0 ? tm.busy_s / (static_cast<double>(tm.devices) * w) : 0.0;
      tm.bulk_share = bulk_total ? static_cast<double>(tm.bulk_output_tok) / static_cast<double>(bulk_total) : 0.0;
      r.output_tok += tm.output_tok;
    }
    r.avg_power_w = w > 0 ? r.energy_j / w : 0.0;
    r.energy_mj_per_h = w > 0 ? (r.energy_j / 1e6) / (w / 3600.0) : 0.0;
    r.energy_j_per_output_tok = r.output_tok ? r.energy_total_j / static_cast<double>(r.output_tok) : 0.0;
    r.events = events;
    if (uncovered_s > 0.0)
      joulesched::detail::fail("carbon intensity series", "end",
                               opts_.carbon->series->span_s() - opts_.carbon->offset_s,
                               "is before the run's end at " + joulesched::detail::shortest(end_s) +
                                   " s: the series must cover the whole run, drain included (a longer series or an "
                                   "earlier --start)");
    return r;
  }

  static void check_network(const sim_devices& devices) {
    if (devices.network_s.empty()) return;
    if (devices.network_s.size() != devices.size())
      joulesched::detail::fail("sim_devices", "network_s.size()", devices.network_s.size(),
                               "must be 0 or the device count " + std::to_string(devices.size()));
    for (std::size_t i = 0; i < devices.size(); ++i)
      if (!(devices.network_s[i] >= 0.0 && devices.network_s[i] <= bounds::max_window_s))
        joulesched::detail::fail("sim_devices", "network_s[" + std::to_string(i) + "]", devices.network_s[i],
                                 "must be finite and in [0, max_window_s]");
  }

  void check_carbon(const sim_devices& devices) const {
    const carbon_accounting& c = *opts_.carbon;
    if (c.series == nullptr) joulesched::detail::fail("engine_options", "carbon.series", "null", "must be set");
    if (!(c.offset_s >= 0.0 && c.offset_s < c.series->span_s()))
      joulesched::detail::fail("engine_options", "carbon.offset_s", c.offset_s, "must be within the series");
    if (c.pue_of_site.size() != c.zone_of_site.size())
      joulesched::detail::fail("engine_options", "carbon.pue_of_site.size()", c.pue_of_site.size(),
                               "must equal carbon.zone_of_site.size()");
    for (std::size_t s = 0; s < c.zone_of_site.size(); ++s) {
      if (c.zone_of_site[s] >= c.series->zones().size())
        joulesched::detail::fail("engine_options", "carbon.zone_of_site[" + std::to_string(s) + "]", c.zone_of_site[s],
                                 "must be a zone of the series");
      if (!(std::isfinite(c.pue_of_site[s]) && c.pue_of_site[s] >= 1.0))
        joulesched::detail::fail("engine_options", "carbon.pue_of_site[" + std::to_string(s) + "]", c.pue_of_site[s],
                                 "must be finite and >= 1");
    }
    for (std::size_t i = 0; i < devices.size(); ++i)
      if (devices.site[i] >= c.zone_of_site.size())
        joulesched::detail::fail("engine_options", "carbon.zone_of_site.size()", c.zone_of_site.size(),
                                 "must cover every device's site (device " + std::to_string(i) + " is at site " +
                                     std::to_string(devices.site[i]) + ")");
  }

  const sim_devices& devices_;
  fleet& routing_;
  R& router_;
  Estimator& estimator_;
  Control& control_;
  engine_options opts_;
  [[no_unique_address]] Observer observer_;
  event_heap events_;
  timer_queue timers_{devices_.size()};
  acting acting_{*this};
  double period_ = 0.0;                   // the controller's tick period
  std::uint64_t ticks_ = 0;               // ticks fired (or slept through)
  std::vector<std::uint32_t> moving_;     // scratch of act_move_waiting
  std::vector<std::uint32_t> preempted_;  // scratch of preempt
  std::uint64_t preemptions_ = 0, recomputed_tok_ = 0;
  // The request slab is declared before the devices so that it outlives their waiting queues: members are
  // destroyed in reverse order, and a queue's destruction unlinks the requests still in it. (~simulator
  // empties the queues first anyway, so a run that throws leaves nothing dangling.)
  std::vector<std::unique_ptr<live_request[]>> chunks_;
  std::vector<std::uint32_t> free_;
  std::uint32_t slots_ = 0;
  std::vector<device_state> dev_;
  double now_ = 0.0;
  double last_arrival_s_ = 0.0;  // the first arrival must be >= 0: the run, its window and its energy start at 0
  std::uint64_t max_kv_tok_ = 0;
  bool ran_ = false;
  bool window_taken_ = false;
  double window_end_s_ = 0.0;
  std::uint64_t in_flight_ = 0;
  // Requests held by release_at: a min-heap on (release time, id), so releases at one time keep arrival order.
  struct held_request {
    double release_s;
    request r;
  };
  static bool held_later(const held_request& a, const held_request& b) noexcept {
    return a.release_s != b.release_s ? a.release_s > b.release_s : a.r.id > b.r.id;
  }
  std::vector<held_request> held_;
  fairness_meter fairness_;
  std::uint64_t deferred_ = 0;
  double deferred_s_ = 0.0;
  // counts
  std::uint64_t read_ = 0, completed_ = 0, rejected_ = 0;
  std::uint64_t rejected_no_fit_ = 0, rejected_no_device_ = 0, rejected_too_small_ = 0;
  std::vector<std::uint64_t> type_out_tok_ = std::vector<std::uint64_t>(devices_.type_names.size());
  std::vector<std::uint64_t> type_bulk_tok_ = std::vector<std::uint64_t>(devices_.type_names.size());
  std::vector<std::uint64_t> type_completed_ = std::vector<std::uint64_t>(devices_.type_names.size());
  metrics_recorder metrics_;
};

}  // namespace joulesched::sim
