/// @file intensity_series.hpp
/// @brief Hourly carbon intensity of electricity per grid zone (`intensity_series`), and the grams of CO2 that a
/// constant power draws over an interval, split at the series' hour boundaries.
///
/// When to use: to price or account operational carbon, energy x PUE x intensity(zone, t) (carbon_meter.hpp
/// integrates it over a device's power changes). Reading a series from a CSV file is carbon/intensity_file.hpp,
/// kept apart so that a cost model that prices carbon includes no file I/O.
///
/// Design: one value per (hour, zone), gCO2 per kWh, in force over [start + h x 3600 s, start + (h+1) x 3600 s)
/// UTC, hour-major; times are UTC seconds since the Unix epoch, or seconds since the series' start where a
/// function says so. Immutable after construction, so const calls may run concurrently. Cost: at() is O(1);
/// carbon_g() is O(hours the interval crosses); no allocation, no throw.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/civil_time.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

class intensity_series {
 public:
  /// The length of one value's hour, seconds.
  static constexpr double hour_s = 3600.0;
  /// Joules per kWh (types.hpp).
  static constexpr double j_per_kwh = joulesched::j_per_kwh;

  /// @brief A series from its values.
  /// @param start_utc_s the start of the first hour, UTC seconds since the epoch.
  /// @param zones the grid zones' names (e.g. Electricity Maps' "DE-LU"), non-empty and distinct; at least one.
  /// @param g_per_kwh hour-major, zones.size() values per hour, each finite and >= 0; at least one hour.
  /// @throws config_error naming `source` and the zone or the (hour, zone) of a bad value.
  intensity_series(std::int64_t start_utc_s, std::vector<std::string> zones, std::vector<double> g_per_kwh,
                   std::string_view source = "intensity_series")
      : start_utc_s_(start_utc_s), zones_(std::move(zones)), values_(std::move(g_per_kwh)) {
    if (zones_.empty()) detail::fail(source, "zones", "(none)", "must name at least one grid zone");
    for (std::size_t z = 0; z < zones_.size(); ++z) {
      const std::string field = "zones[" + std::to_string(z) + "]";
      if (zones_[z].empty()) detail::fail(source, field, "''", "must not be empty");
      for (std::size_t y = 0; y < z; ++y)
        if (zones_[y] == zones_[z]) detail::fail(source, field, "'" + zones_[z] + "'", "names a zone twice");
    }
    if (values_.empty() || values_.size() % zones_.size() != 0)
      detail::fail(source, "g_per_kwh.size()", values_.size(), "must be a positive multiple of the zone count");
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (!(std::isfinite(values_[i]) && values_[i] >= 0.0))
        detail::fail(
            source,
            "g_per_kwh at (hour " + std::to_string(i / zones_.size()) + ", zone " + zones_[i % zones_.size()] + ")",
            values_[i], "must be finite and >= 0");
    }
  }

  [[nodiscard]] const std::vector<std::string>& zones() const noexcept { return zones_; }
  /// @brief The index of the zone named `name`, or nothing. Complexity: O(zones).
  [[nodiscard]] std::optional<std::size_t> find_zone(std::string_view name) const noexcept {
    for (std::size_t z = 0; z < zones_.size(); ++z)
      if (zones_[z] == name) return z;
    return std::nullopt;
  }
  [[nodiscard]] std::size_t hours() const noexcept { return values_.size() / zones_.size(); }
  [[nodiscard]] std::int64_t start_utc_s() const noexcept { return start_utc_s_; }
  /// The end of the last hour: start_utc_s() + hours() x 3600.
  [[nodiscard]] std::int64_t end_utc_s() const noexcept {
    return start_utc_s_ + static_cast<std::int64_t>(hours()) * static_cast<std::int64_t>(hour_s);
  }
  /// The length of the series, seconds.
  [[nodiscard]] double span_s() const noexcept { return static_cast<double>(hours()) * hour_s; }

  /// @brief The value of hour `h` in zone `z`, gCO2/kWh. Precondition: h < hours(), z < zones().size().
  [[nodiscard]] double value(std::size_t h, std::size_t z) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(z < zones_.size(), "intensity_series::value", "z", z, "must be < zones().size()");
    JOULESCHED_EXPECTS(h < hours(), "intensity_series::value", "h", h, "must be < hours()");
    return values_[h * zones_.size() + z];
  }

  /// @brief The intensity in force at `t_s` seconds after the series' start, gCO2/kWh.
  /// Precondition: 0 <= t_s < span_s(), z < zones().size().
  [[nodiscard]] double at(std::size_t z, double t_s) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(t_s >= 0.0 && t_s < span_s(), "intensity_series::at", "t_s", t_s, "must be in [0, span_s())");
    return value(static_cast<std::size_t>(t_s / hour_s), z);
  }

  /// @brief Grams of CO2 of a constant `power_w` drawn over [t0_s, t1_s] (seconds after the series' start) in
  /// zone `z`: the sum over the hours it crosses of power x seconds in that hour / 3.6e6 x that hour's value.
  /// PUE is the caller's (carbon_meter applies it). Precondition: 0 <= t0_s <= t1_s <= span_s(), power_w >= 0.
  [[nodiscard]] double carbon_g(std::size_t z, double t0_s, double t1_s, double power_w) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(t0_s >= 0.0 && t0_s <= t1_s && t1_s <= span_s(), "intensity_series::carbon_g", "t1_s", t1_s,
                       "must be in [t0_s, span_s()], t0_s >= 0");
    double g = 0.0;
    auto h = static_cast<std::size_t>(t0_s / hour_s);
    for (double t = t0_s; t < t1_s; ++h) {
      const double end = std::min(t1_s, static_cast<double>(h + 1) * hour_s);
      g += power_w * (end - t) / j_per_kwh * value(std::min(h, hours() - 1), z);
      t = end;
    }
    return g;
  }

  /// @brief Seconds from the series' start to `start_utc_s` (the UTC time a run calls 0), for at() and carbon_g().
  /// @throws config_error naming `where` when the time is outside the series.
  [[nodiscard]] double offset_of(std::int64_t start_utc_s, std::string_view where) const {
    if (start_utc_s < start_utc_s_ || start_utc_s >= end_utc_s())
      detail::fail(where, "start", "'" + detail::format_utc_s(start_utc_s) + "'",
                   "must be within the intensity series [" + detail::format_utc_s(start_utc_s_) + ", " +
                       detail::format_utc_s(end_utc_s()) + ") UTC");
    return static_cast<double>(start_utc_s - start_utc_s_);
  }

 private:
  std::int64_t start_utc_s_;
  std::vector<std::string> zones_;
  std::vector<double> values_;  // hour-major
};

}  // namespace joulesched
