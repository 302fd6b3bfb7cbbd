/// @file energy_meter.hpp
/// @brief A device's energy as the integral of its piecewise-constant power: fed every power change, read at
/// any time. Meters of other quantities (carbon: energy x PUE x grid intensity) sit beside it, fed the same
/// changes.
///
/// Design: a plain struct. `advance(now)` integrates the power that held since the last call; `set_power(w)`
/// changes the power from the time of the last `advance`. The engine advances a device's meter at each of its
/// events and at the edges of the measurement window, so that the sum is the same whatever the meter's reader.
#pragma once

#include <cassert>

namespace joulesched::sim {

/// @brief Energy of one device: the exact integral of its power over time (see the file note).
struct energy_meter {
  double power_w = 0;   ///< the power now
  double since_s = 0;   ///< the time up to which energy_j is integrated
  double energy_j = 0;  ///< energy over [0, since_s]

  /// Integrates the power that held over [since_s, now_s]. Precondition: now_s >= since_s.
  void advance(double now_s) noexcept {
    assert(now_s >= since_s);
    energy_j += power_w * (now_s - since_s);
    since_s = now_s;
  }
  /// The power from since_s on (advance to the time of the change first).
  void set_power(double w) noexcept { power_w = w; }
};

}  // namespace joulesched::sim
