/// @file dvfs.hpp
/// @brief GPU clocks (DVFS): a device model's operating points at lower SM clocks, derived from a measured clock
/// curve (how much slower and how much less power a pass is at each clock), for a controller to move devices
/// between (actuator::set_point; FREESH's clock governor, control/miad_governor.hpp).
///
/// The curve file (data/dvfs/*.csv, written by scripts/fit_dvfs_curve.py from the Perseus sweep):
/// @code
/// clock_mhz,clock_fraction,time_ratio,power_ratio
/// 1410,1.000000,1.000000,1.000000
/// 1050,0.744681,1.265447,0.570512
/// @endcode
/// one row per locked SM clock, the top clock first (fraction 1, both ratios 1), fractions strictly falling;
/// time_ratio = a compute-bound pass's time at the clock / at the top clock, power_ratio = its board power at the
/// clock / at the top clock. Ratios are finite and > 0 (a ratio a little under 1 near the top clock is
/// measurement noise and is kept).
///
/// The model of a device at clock fraction f (dvfs_table), from its model at the top clock:
/// - prefill times (prefill_base_s, prefill_per_tok_s) x time_ratio(f): prefill is compute-bound, as the
///   sweep's forward passes are (SOURCE: Perseus, SOSP'24; its forward passes stand in for prefill, data/README);
/// - decode step times x (1 + decode_time_sensitivity x (time_ratio(f) - 1)). ASSUMPTION, default 0.5: decode
///   reads every weight and the whole KV cache each step and is bound by memory bandwidth, which locking the SM
///   clock does not lower, so its time moves less with the clock than prefill's; no sweep taken while serving is
///   public (data/README, known gaps), so how much less is not measured: 0 would be purely memory-bound, 1 as
///   compute-bound as prefill;
/// - every power above idle (prefill_power_w, busy_power_base_w, busy_power_per_seq_w) has its part above
///   idle_power_w scaled by power_ratio(f): p -> idle + (p - idle) x power_ratio(f). ASSUMPTION: the sweep's
///   ratio is of a compute-bound pass's whole board power; applied to the part above idle only, so that a slower
///   clock never draws less than an idle GPU. Idle power, tdp, memory and batch limits do not change.
/// A curve measured on one GPU may be applied to another by clock fraction (the simulator does so for every
/// type it is given one curve for): ASSUMPTION, stated where it is used.
/// Cost: O(points) per table; loading reads a ~60-line file.
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/device_model.hpp"

namespace joulesched::sim {

/// @brief One locked clock of a curve (see the file note).
struct dvfs_point {
  double clock_mhz = 0.0;       ///< the locked SM clock of the GPU the curve was measured on
  double clock_fraction = 1.0;  ///< clock_mhz / the top clock, in (0, 1]
  double time_ratio = 1.0;      ///< a compute-bound pass's time, relative to the top clock (> 0)
  double power_ratio = 1.0;     ///< its board power, relative to the top clock (> 0)
};

/// @brief A measured clock curve: the top clock first, fractions strictly falling.
struct dvfs_curve {
  std::vector<dvfs_point> points;
  std::string source;  ///< where it was read from, for messages
};

/// @brief How dvfs_table turns a curve into operating points (see the file note for the sources).
struct dvfs_config {
  /// How much of prefill's slow-down a decode step takes (0: none, 1: all). ASSUMPTION (file note).
  double decode_time_sensitivity = 0.5;
  /// The lowest clock, as a fraction of the top clock: points below it are left out. SOURCE: FREESH's governor
  /// keeps the clock within [0.5, 1] x the top clock (DESIGN-NOTES).
  double min_clock_fraction = 0.5;

  void validate(std::string_view where) const {
    if (!(decode_time_sensitivity >= 0.0 && decode_time_sensitivity <= 1.0))
      joulesched::detail::fail(where, "decode_time_sensitivity", decode_time_sensitivity, "must be in [0, 1]");
    if (!(min_clock_fraction > 0.0 && min_clock_fraction <= 1.0))
      joulesched::detail::fail(where, "min_clock_fraction", min_clock_fraction, "must be in (0, 1]");
  }
};

/// @brief Reads a curve in the format of the file note; `source` names it in messages.
/// @throws config_error naming source:line, the field and its text: a missing column, a value that is not a
/// finite number > 0, a fraction above 1 or not below the row before, a first row that is not the top clock
/// (fraction and both ratios 1), or no row.
[[nodiscard]] inline dvfs_curve read_dvfs_curve(std::istream& in, std::string_view source) {
  joulesched::detail::csv_reader csv(in, std::string(source));
  const std::size_t mhz = csv.require_column("clock_mhz");
  const std::size_t frac = csv.require_column("clock_fraction");
  const std::size_t time = csv.require_column("time_ratio");
  const std::size_t power = csv.require_column("power_ratio");
  dvfs_curve c;
  c.source = std::string(source);
  while (csv.next()) {
    const joulesched::detail::csv_row& row = csv.row();
    const dvfs_point p{row.as_positive(mhz), row.as_positive(frac), row.as_positive(time), row.as_positive(power)};
    if (p.clock_fraction > 1.0) row.fail(frac, "must be <= 1 (a fraction of the top clock)");
    if (c.points.empty()) {
      if (p.clock_fraction != 1.0) row.fail(frac, "the first row must be the top clock: fraction 1");
      if (p.time_ratio != 1.0) row.fail(time, "the top clock's ratio must be 1");
      if (p.power_ratio != 1.0) row.fail(power, "the top clock's ratio must be 1");
    } else if (!(p.clock_fraction < c.points.back().clock_fraction)) {
      row.fail(frac, "must be below the row before (clocks from the top down)");
    }
    c.points.push_back(p);
  }
  if (c.points.empty()) throw config_error(c.source + ": no data row");
  return c;
}

/// @brief Opens `path` and reads it with read_dvfs_curve. @throws config_error naming the path when it cannot be
/// opened, and as read_dvfs_curve otherwise.
[[nodiscard]] inline dvfs_curve load_dvfs_curve(const std::filesystem::path& path) {
  std::ifstream in = joulesched::detail::open_input(path);
  return read_dvfs_curve(in, path.string());
}

/// @brief The model `top` (at its top clock) at one point of a curve, by the rules of the file note.
[[nodiscard]] inline device_model at_clock(const device_model& top, const dvfs_point& p, double decode_sensitivity) {
  device_model m = top;
  const double decode = 1.0 + decode_sensitivity * (p.time_ratio - 1.0);
  m.prefill_base_s *= p.time_ratio;
  m.prefill_per_tok_s *= p.time_ratio;
  m.decode_step_base_s *= decode;
  m.decode_step_per_seq_s *= decode;
  m.decode_step_per_ctx_tok_s *= decode;
  const auto above_idle = [&](double w) { return top.idle_power_w + (w - top.idle_power_w) * p.power_ratio; };
  m.prefill_power_w = above_idle(top.prefill_power_w);
  m.busy_power_base_w = above_idle(top.busy_power_base_w);
  m.busy_power_per_seq_w = top.busy_power_per_seq_w * p.power_ratio;
  return m;
}

/// @brief The operating points of `top` along `curve`: one model per clock at or above
/// config.min_clock_fraction, the top clock first (point 0 is `top` itself).
/// @throws config_error naming the curve's source and the clock when a derived model fails validate() (a power
/// ratio above 1 pushing a power past tdp), and for a bad config.
[[nodiscard]] inline std::vector<device_model> dvfs_table(const device_model& top, const dvfs_curve& curve,
                                                          const dvfs_config& config = {}) {
  config.validate("dvfs_config");
  std::vector<device_model> table;
  for (const dvfs_point& p : curve.points) {
    if (p.clock_fraction < config.min_clock_fraction) break;
    table.push_back(at_clock(top, p, config.decode_time_sensitivity));
    validate(table.back(), curve.source + ": " + top.gpu + " at " + joulesched::detail::shortest(p.clock_mhz) +
                               " MHz (fraction " + joulesched::detail::shortest(p.clock_fraction) + ")");
  }
  return table;
}

}  // namespace joulesched::sim
