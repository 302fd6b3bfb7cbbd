/// @file clock_governor.hpp
/// @brief FREESH's clock governor in the simulator: one miad_governor (control/miad_governor.hpp) per device,
/// fed the device's completed requests and acting through the actuator, wrapped around a policy's own controller.
///
/// When to use: `joulesched-sim --dvfs FILE --governor miad`, or any run whose sim_devices have clock points
/// (sim_devices::point_clock_fractions, sim/fleet_setup.hpp's clocked_fleet). It is the same governor class an
/// engine drives with its own measurements.
/// Without a miad_config it governs nothing and is the wrapped controller alone (the policies always wrap theirs,
/// so that one simulator type serves both).
/// Behaviour: it ticks every miad_config::period_s. At each tick, every device that is on gets its governor's
/// update() and is moved to the point returned (the device takes it at its next step boundary); devices off,
/// draining or waking are left alone and their observations kept for their next update. The wrapped controller
/// hears every outcome and ticks at the first of these ticks at or after each of its own periods (so with the
/// same period, 1 s by default, both tick together).
/// Cost: on_served O(1); a tick O(devices + observations).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "joulesched/control/miad_governor.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/sim/actuator.hpp"
#include "joulesched/sim/sim_control.hpp"
#include "joulesched/sim/sim_devices.hpp"

namespace joulesched::sim {

/// @brief A policy's controller `Inner` plus a clock governor per device (see the file note).
template <SimControl Inner>
class clock_governor_control {
 public:
  /// @param inner the policy's controller (must outlive this); @param devices the simulated devices, with clock
  /// points; @param routing the routing fleet, for where each device starts (fleet::point_of).
  /// @param config none: no governor.
  /// @throws config_error when there is a config and the devices have no clock points, or for a bad config.
  clock_governor_control(Inner& inner, const sim_devices& devices, const fleet& routing,
                         const std::optional<miad_config>& config)
      : inner_(inner) {
    const double p = inner_.period_s();
    inner_period_s_ = (p > 0.0 && std::isfinite(p)) ? p : std::numeric_limits<double>::infinity();
    inner_due_s_ = inner_period_s_;
    if (!config) return;
    config->validate("clock governor: miad_config");
    period_s_ = config->period_s;
    governor_due_s_ = period_s_;
    if (devices.point_clock_fractions.empty() || devices.point_clock_fractions.size() != devices.point_tables.size())
      joulesched::detail::fail("clock governor", "point_clock_fractions", devices.point_clock_fractions.size(),
                               "needs one list of clock fractions per point table (" +
                                   std::to_string(devices.point_tables.size()) +
                                   "): the devices have no clock points (joulesched-sim --dvfs FILE)");
    governors_.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const device_point at = routing.point_of(static_cast<device_id>(i));
      governors_.emplace_back(devices.point_clock_fractions[at.table], at.point, *config);
    }
  }

  [[nodiscard]] double period_s() const noexcept { return std::min(period_s_, inner_period_s_); }
  void on_outcome(double now_s, tier t, const slo_outcome& o) noexcept { inner_.on_outcome(now_s, t, o); }
  // TTFT is observed as each first token is made, TBT at completion (its mean over the request).
  void on_first_token(double now_s, device_id d, double ttft_s, double budget_s) noexcept {
    if constexpr (requires(Inner& c) { c.on_first_token(now_s, d, ttft_s, budget_s); })
      inner_.on_first_token(now_s, d, ttft_s, budget_s);
    if (!governors_.empty()) governors_[d].observe(ttft_s, budget_s, -1.0, 0.0);
  }
  void on_served(double now_s, device_id d, const served_times& t) noexcept {
    if constexpr (requires(Inner& c) { c.on_served(now_s, d, t); }) inner_.on_served(now_s, d, t);
    if (!governors_.empty()) governors_[d].observe(0.0, 0.0, t.tbt_s, t.tbt_target_s);
  }

  void tick(double now_s, actuator& act) {
    if (now_s + 1e-9 >= inner_due_s_) {
      if constexpr (requires(Inner& c) { c.tick(now_s, act); }) inner_.tick(now_s, act);
      else inner_.tick(now_s);
      while (inner_due_s_ <= now_s + 1e-9) inner_due_s_ += inner_period_s_;
    }
    if (governors_.empty() || now_s + 1e-9 < governor_due_s_) return;
    while (governor_due_s_ <= now_s + 1e-9) governor_due_s_ += period_s_;
    for (std::size_t i = 0; i < governors_.size(); ++i) {
      const auto d = static_cast<device_id>(i);
      if (act.power(d) != device_power::on) continue;
      miad_governor& g = governors_[i];
      g.set_point(act.point(d));  // another controller may have moved it
      const auto p = static_cast<std::uint32_t>(g.update());
      if (p != act.point(d)) {
        act.set_point(d, p);
        ++changes_;
      }
    }
  }

  /// Clock changes made so far.
  [[nodiscard]] std::uint64_t changes() const noexcept { return changes_; }
  [[nodiscard]] const std::vector<miad_governor>& governors() const noexcept { return governors_; }

 private:
  Inner& inner_;
  double period_s_ = std::numeric_limits<double>::infinity();
  double inner_period_s_ = std::numeric_limits<double>::infinity();
  double inner_due_s_ = std::numeric_limits<double>::infinity();
  double governor_due_s_ = std::numeric_limits<double>::infinity();
  std::vector<miad_governor> governors_;
  std::uint64_t changes_ = 0;
};

}  // namespace joulesched::sim
