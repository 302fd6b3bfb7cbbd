/// @file rate_shape.hpp
/// @brief A time-varying, cyclic multiplier of a workload's arrival rate (`rate_shape`): its reader from CSV, and
/// the ServeGen diurnal shape of Alibaba Bailian production traffic.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"

namespace joulesched::sim {

/// @brief A piecewise-constant, cyclic multiplier of the arrival rate.
///
/// The multiplier at simulated time t is `multipliers[k % n]` with k = floor((t + offset_s) / window_s),
/// n = multipliers.size(). Empty `multipliers` means the constant 1. Multipliers are finite and >= 0, and at
/// least one is > 0. Normalise them to mean 1 (as `diurnal_shape_servegen` does) to keep `rate_rps` the
/// mean rate over a cycle.
struct rate_shape {
  double window_s = 600;            ///< length of one window, > 0
  std::vector<double> multipliers;  ///< per window; empty = constant 1
  double offset_s = 0;              ///< shape time at simulated time 0 (e.g. 43200 to start at noon), >= 0

  /// The multiplier in force at simulated time t_s >= 0.
  [[nodiscard]] double multiplier_at(double t_s) const noexcept;
  /// One cycle, window_s * multipliers.size() (0 when constant).
  [[nodiscard]] double period_s() const noexcept { return window_s * static_cast<double>(multipliers.size()); }
};

/// @brief Checks a rate shape. @throws config_error naming the field.
void validate(const rate_shape& shape, std::string_view where = "rate_shape");

/// @brief Reads a shape CSV with columns `window_start_s`, `window_len_s` and one column per series (`#`
/// comment lines allowed), taking the column `series`. Windows must be consecutive from 0 with one length.
/// The values are divided by their mean, so the result has mean multiplier 1.
/// @throws config_error naming file, line and field.
[[nodiscard]] rate_shape read_rate_shape(std::istream& in, std::string_view source_name, std::string_view series);

/// @brief The 24-hour diurnal rate shape of Alibaba Bailian production traffic (ServeGen, commit
/// f891d1189eb32b3868dfc443800c4150548c282a, Apache-2.0): 144 ten-minute windows, each the mean over 14 days
/// of that time of day, mean-normalised; derived by scripts/derive_diurnal_shape.py into
/// data/traces/servegen_diurnal_shape.csv (see data/WORKLOADS.md). Series: "m-large" (default; multiplier
/// 0.74-1.25), "m-mid" (0.81-1.16), "m-small" (0.65-1.55). m-large is the default because it is the
/// largest model, the kind a multi-GPU fleet serves; it was chosen before any policy was run on it.
/// The time of day of the ServeGen clock is not stated (its zone is unknown).
/// @param csv usually `source_dir / servegen_diurnal_shape_relpath`.
/// @param offset_s the time of day (seconds after 00:00 of the trace's day) at simulated time 0.
[[nodiscard]] rate_shape diurnal_shape_servegen(const std::filesystem::path& csv, std::string_view series = "m-large",
                                                double offset_s = 0);
inline constexpr std::string_view servegen_diurnal_shape_relpath = "data/traces/servegen_diurnal_shape.csv";

// Implementation
inline double rate_shape::multiplier_at(double t_s) const noexcept {
  if (multipliers.empty()) return 1.0;
  const double k = std::floor((t_s + offset_s) / window_s);
  const double n = static_cast<double>(multipliers.size());
  double idx = std::fmod(k, n);
  if (idx < 0) idx += n;
  return multipliers[static_cast<std::size_t>(idx)];
}

inline void validate(const rate_shape& shape, std::string_view where_sv) {
  using joulesched::detail::fail;
  const std::string where(where_sv);
  joulesched::detail::require_non_negative(shape.offset_s, where, "offset_s");
  if (shape.multipliers.empty()) return;
  joulesched::detail::require_positive(shape.window_s, where, "window_s");
  bool any = false;
  for (std::size_t i = 0; i < shape.multipliers.size(); ++i) {
    joulesched::detail::require_non_negative(shape.multipliers[i], where, "multipliers[" + std::to_string(i) + "]");
    any = any || shape.multipliers[i] > 0.0;
  }
  if (!any) fail(where, "multipliers", "all 0", "at least one window must have a multiplier > 0");
}

inline rate_shape read_rate_shape(std::istream& in, std::string_view source_name, std::string_view series) {
  joulesched::detail::csv_reader csv(in, std::string(source_name));
  const std::size_t c_start = csv.require_column("window_start_s");
  const std::size_t c_len = csv.require_column("window_len_s");
  const std::size_t c_val = csv.require_column(series);
  rate_shape shape;
  shape.window_s = 0;
  double sum = 0;
  while (csv.next()) {
    const joulesched::detail::csv_row& row = csv.row();
    const double len = row.as_positive(c_len);
    const double start = row.as_non_negative(c_start);
    if (shape.multipliers.empty()) {
      shape.window_s = len;
    } else if (len != shape.window_s) {
      row.fail(c_len, "every window must have the length of the first (" + std::to_string(shape.window_s) + ")");
    }
    const double expected = shape.window_s * static_cast<double>(shape.multipliers.size());
    if (std::abs(start - expected) > 1e-6 * std::max(1.0, expected)) {
      row.fail(c_start, "windows must be consecutive from 0 (expected " + std::to_string(expected) + ")");
    }
    const double v = row.as_non_negative(c_val);
    shape.multipliers.push_back(v);
    sum += v;
  }
  if (shape.multipliers.empty()) {
    joulesched::detail::fail(source_name, "rows", "none", "a rate shape needs at least one window");
  }
  if (!(sum > 0.0)) joulesched::detail::fail(source_name, series, "all 0", "at least one window must be > 0");
  if (!std::isfinite(sum))  // two values of 1e308 would make every multiplier NaN
    joulesched::detail::fail(source_name, series, sum, "the windows' values must sum to a finite number");
  // Normalised to mean 1 in two steps, first by the largest value, so that no step divides by a subnormal
  // number (whose few significant bits left the mean at 1.11, not 1).
  const double peak = *std::max_element(shape.multipliers.begin(), shape.multipliers.end());
  if (peak < std::numeric_limits<double>::min())
    joulesched::detail::fail(source_name, series, peak, "the largest window's value is too small to scale (subnormal)");
  double scaled_sum = 0;
  for (double& m : shape.multipliers) scaled_sum += (m /= peak);
  const double mean = scaled_sum / static_cast<double>(shape.multipliers.size());  // in [1/n, 1]
  for (double& m : shape.multipliers) m /= mean;
  return shape;
}

inline rate_shape diurnal_shape_servegen(const std::filesystem::path& csv, std::string_view series, double offset_s) {
  std::ifstream in = joulesched::detail::open_csv(csv);
  rate_shape shape = read_rate_shape(in, csv.string(), series);
  shape.offset_s = offset_s;
  validate(shape, csv.string());
  return shape;
}

}  // namespace joulesched::sim
