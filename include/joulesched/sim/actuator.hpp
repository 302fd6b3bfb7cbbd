/// @file actuator.hpp
/// @brief What a controller may do to the simulated fleet during a run: move a device to another operating
/// point, power it off (after it drains) and on (after a wake-up delay that costs energy), and move its queued
/// requests to other devices.
///
/// When to use: a controller that acts (FREESH's clock control, Festina's consolidation) takes one in its
/// tick: `void tick(double now_s, actuator& act)` (see SimControl, sim_control.hpp). The simulator implements it and
/// applies each action as a serving engine would:
/// - set_point: the router sees the device's new parameters at its next decision (fleet::set_point); the device
///   itself changes speed and power at its next step boundary (a running prefill or decode step completes at the
///   old point).
/// - power_off: routers stop sending work (fleet::set_available(false)); the device serves what it already holds,
///   then draws power_states::off_w. Nothing it holds is lost.
/// - power_on: a device that is off wakes for power_states::wake_s at the wake power, then takes work again;
///   one still draining simply takes work again.
/// - move_waiting: every request waiting (not yet admitted) on the device is routed again by the run's router;
///   a request for which the router picks the same device, or none, or a device too small for it, stays.
/// Errors: a device id or point out of range, or set_point on a fleet without operating points, throws
/// config_error naming the call and the value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief Power states a device can be switched between, and what switching costs.
struct power_states {
  /// Draw of a device switched off. ASSUMPTION: 0 W; the host a GPU sits in is not modelled.
  double off_w = 0.0;
  /// Time from power_on to taking work. ASSUMPTION: 60 s, the order of a serving worker's cold start (booting
  /// the GPU and loading model weights); not measured here: set it from your own deployment.
  double wake_s = 60.0;
  /// Draw while waking; none: the device's idle power at its current point. ASSUMPTION.
  std::optional<double> wake_w;

  /// @brief Throws config_error naming the field when a value is negative or not finite.
  void validate(const std::string& where) const {
    joulesched::detail::require_non_negative(off_w, where, "off_w");
    joulesched::detail::require_non_negative(wake_s, where, "wake_s");
    if (wake_w) joulesched::detail::require_non_negative(*wake_w, where, "wake_w");
  }
};

/// @brief Where a device stands, as a controller sees it.
enum class device_power : std::uint8_t {
  on,        ///< takes work
  draining,  ///< powered off but still serving what it holds; takes no new work
  off,       ///< draws power_states::off_w
  waking,    ///< powered on; takes work after the wake-up delay
};

[[nodiscard]] constexpr const char* to_string(device_power p) noexcept {
  return p == device_power::on         ? "on"
         : p == device_power::draining ? "draining"
         : p == device_power::off      ? "off"
                                       : "waking";
}

/// @brief The actions and observations a controller has on a running simulation (see the file note).
class actuator {
 public:
  /// The number of devices (ids 0 .. size() - 1).
  [[nodiscard]] virtual std::size_t size() const noexcept = 0;
  [[nodiscard]] virtual device_power power(device_id d) const = 0;
  /// The device's operating point (index into its table; 0 for a fleet without tables) and its table's size.
  [[nodiscard]] virtual std::uint32_t point(device_id d) const = 0;
  [[nodiscard]] virtual std::uint32_t point_count(device_id d) const = 0;
  /// Requests waiting on the device (not yet admitted), and running on it (prefilling or decoding).
  [[nodiscard]] virtual std::size_t waiting(device_id d) const = 0;
  [[nodiscard]] virtual std::size_t running(device_id d) const = 0;

  virtual void set_point(device_id d, std::uint32_t point) = 0;
  virtual void power_off(device_id d) = 0;
  virtual void power_on(device_id d) = 0;
  /// Returns the number of requests that moved.
  virtual std::size_t move_waiting(device_id d) = 0;

 protected:
  actuator() = default;
  actuator(const actuator&) = default;
  actuator& operator=(const actuator&) = default;
  ~actuator() = default;
};

}  // namespace joulesched::sim
