/// @file sim_control.hpp
/// @brief What the simulator hands its plug-ins: the controller interface (`SimControl`: hears every outcome,
/// acts every period through an actuator) and the observer interface (`SimObserver`: sees every power change and
/// completion), with the do-nothing defaults.
#pragma once

#include <concepts>
#include <cstdint>

#include "joulesched/sim/actuator.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief What a policy's controller does during a run: hear every outcome, and act every `period_s()`.
///
/// Ticks fall at k * period_s() for k = 1, 2, ... while requests are in flight or still to arrive. While the
/// fleet holds no request the engine skips the ticks up to the next arrival: the controller has no outcome to
/// react to then, and a run's cost stays bounded by its work, not by simulated time (a sparse trace replayed
/// slowly would otherwise tick through years of idle time).
///
/// Expressions: `c.period_s()` (seconds between ticks; 0 or +inf: never); `c.on_outcome(now_s, tier, outcome)`
/// for every completed or policy-rejected request, `outcome` the slo_outcome (slo.hpp) of what it missed
/// (every kind for a rejection); and either `c.tick(now_s)`, for a controller that only tunes its policy, or
/// `c.tick(now_s, act)` with an `actuator& act` (actuator.hpp), for one that acts on the fleet: changes operating
/// points, powers devices off and on, moves queued work. Optional: `c.on_served(now_s, device, times)`, with a
/// served_times, for every completed request, and `c.on_first_token(now_s, device, ttft_s, ttft_budget_s)` as each
/// first token is made (users' view, network included), for a controller that acts per device (a clock governor).
/// Promises: no allocation on on_outcome and on_served.
template <class C>
concept SimControl =
    requires(C& c, const C& cc, double t, tier tr, const slo_outcome& o) {
      { cc.period_s() } -> std::convertible_to<double>;
      c.on_outcome(t, tr, o);
    } &&
    (
        requires(C& c, double t) { c.tick(t); } || requires(C& c, double t, actuator& a) { c.tick(t, a); });

/// @brief What users saw of one completed request on a device, with its budgets (SimControl::on_served).
struct served_times {
  double ttft_s = 0.0;         ///< first token, as users see it (network included), - arrival
  double ttft_budget_s = 0.0;  ///< its TTFT budget (ttft deadline - arrival)
  double tbt_s = -1.0;         ///< mean time between tokens after the first; < 0: fewer than 2 output tokens
  double tbt_target_s = 0.0;   ///< its pacing target; 0: none
};

/// @brief No controller: nothing is tuned.
struct no_control {
  [[nodiscard]] double period_s() const noexcept { return 0.0; }
  void on_outcome(double, tier, const slo_outcome&) noexcept {}
  void tick(double) noexcept {}
};
static_assert(SimControl<no_control>);

/// @brief Sees every power change of every device and every completion (tests record traces through it).
///
/// Expressions: `o.on_power(device, now_s, watts)` when a device's power changes (and once per device at time
/// 0); `o.on_complete(request_id, device, first_token_s, done_s)` when a request completes.
template <class O>
concept SimObserver = requires(O& o, device_id d, double t, double w, std::uint64_t id) {
  o.on_power(d, t, w);
  o.on_complete(id, d, t, t);
};

/// @brief Observes nothing (the default; compiles away).
struct no_observer {
  void on_power(device_id, double, double) noexcept {}
  void on_complete(std::uint64_t, device_id, double, double) noexcept {}
};
static_assert(SimObserver<no_observer>);

}  // namespace joulesched::sim
