/// @file carbon_meter.hpp
/// @brief A device's operational carbon as the integral of its piecewise-constant power times PUE times its
/// grid zone's hourly intensity: fed every power change, like the simulator's energy_meter, and read at any time.
///
/// Design: a plain struct beside energy_meter (sim/energy_meter.hpp), fed the same calls: `advance(now)`
/// integrates the power that held since the last call, split at the series' hour boundaries; `set_power(w)`
/// changes the power from then on. Times are the run's seconds; `offset_s` places the run's 0 in the series
/// (intensity_series::offset_of). An engine that measures its own power can feed one as well.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>

#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief Operational carbon of one device (see the file note).
struct carbon_meter {
  const intensity_series* series = nullptr;  ///< must outlive the meter
  std::size_t zone = 0;                      ///< the device's site's grid zone, an index into series->zones()
  double pue = 1.0;                          ///< the site's power usage effectiveness, >= 1
  double offset_s = 0.0;                     ///< series time at the run's time 0
  double power_w = 0.0;                      ///< the power now
  double since_s = 0.0;                      ///< the run time up to which carbon_g is integrated
  double carbon_g = 0.0;                     ///< grams of CO2 over [0, since_s], within the series
  double uncovered_s = 0.0;  ///< seconds of [0, since_s] past the series' end, whose carbon is not counted

  /// Integrates the power that held over [since_s, now_s], up to the series' end; time past it is added to
  /// uncovered_s instead (a caller reports it: the series was too short). Precondition: now_s >= since_s,
  /// offset_s >= 0.
  void advance(double now_s) JOULESCHED_HOT_NOEXCEPT {
    assert(series != nullptr && now_s >= since_s && offset_s >= 0.0);
    const double t0 = offset_s + since_s, t1 = offset_s + now_s, end = series->span_s();
    if (t0 < end) carbon_g += pue * series->carbon_g(zone, t0, std::min(t1, end), power_w);
    if (t1 > end) uncovered_s += t1 - std::max(t0, end);
    since_s = now_s;
  }
  /// The power from since_s on (advance to the time of the change first).
  void set_power(double w) noexcept { power_w = w; }
};

}  // namespace joulesched
