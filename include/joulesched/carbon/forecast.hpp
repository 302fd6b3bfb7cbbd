/// @file forecast.hpp
/// @brief Forecasts of a zone's hourly carbon intensity, and the cleanest hour within a deadline: what temporal
/// shifting (FREESH: deferrable work waits for a cleaner hour) asks of a forecast.
///
/// A forecaster answers "what will zone z's intensity be at time t, as known at time now" (times are seconds
/// after the series' start, as intensity_series::at takes them). Two are bundled:
/// - `perfect_forecast`: the series itself, the bound no real forecaster beats;
/// - `persistence_forecast`: day-ahead persistence, the baseline of grid-intensity forecasting: the value of
///   the latest hour at least a day before `t` with t's hour of day that is known at `now` (hours before
///   now's own); for an hour already known, its value; with no such day in the series, the value of now's hour.
/// `cleanest_hour` picks, among now's hour and the hours that start after now and before the deadline, the one a
/// forecaster rates cleanest (the earliest on ties, so that work waits only for a strictly cleaner hour).
/// Cost: O(1) per forecast; cleanest_hour O(hours in the window).
#pragma once

#include <concepts>
#include <cstddef>

#include "joulesched/carbon/intensity_series.hpp"

namespace joulesched {

/// @brief A forecaster of hourly intensity: `f.forecast(zone, now_s, at_s)` in gCO2/kWh, for
/// 0 <= now_s <= at_s < the series' span.
template <class F>
concept IntensityForecast = requires(const F& f, std::size_t zone, double now_s, double at_s) {
  { f.forecast(zone, now_s, at_s) } -> std::convertible_to<double>;
};

/// @brief The series itself: every hour known in advance.
class perfect_forecast {
 public:
  /// `series` must outlive the forecaster.
  explicit perfect_forecast(const intensity_series& series) noexcept : series_(&series) {}
  [[nodiscard]] double forecast(std::size_t zone, double /*now_s*/, double at_s) const {
    return series_->at(zone, at_s);
  }

 private:
  const intensity_series* series_;
};

/// @brief Day-ahead persistence (see the file note): tomorrow's hour as today's.
class persistence_forecast {
 public:
  /// `series` must outlive the forecaster.
  explicit persistence_forecast(const intensity_series& series) noexcept : series_(&series) {}
  [[nodiscard]] double forecast(std::size_t zone, double now_s, double at_s) const {
    const auto now_h = static_cast<std::size_t>(now_s / intensity_series::hour_s);
    auto h = static_cast<std::size_t>(at_s / intensity_series::hour_s);
    constexpr std::size_t day_h = 24;
    while (h > now_h) {
      if (h < day_h) return series_->value(now_h, zone);  // no day before it in the series
      h -= day_h;
    }
    return series_->value(h, zone);
  }

 private:
  const intensity_series* series_;
};

/// @brief When to start work in `zone` to run in the hour `f` rates cleanest among now's hour and those that start
/// after now_s and before deadline_s: now_s itself when now's hour is cleanest (ties go to the earliest), else the
/// start of that hour, seconds after the series' start. Hours past the series' end are not considered.
/// Precondition: 0 <= now_s < the series' span.
template <IntensityForecast F>
[[nodiscard]] double cleanest_hour(const F& f, const intensity_series& series, std::size_t zone, double now_s,
                                   double deadline_s) {
  double best_t = now_s;
  double best = f.forecast(zone, now_s, now_s);
  const double end_s = deadline_s < series.span_s() ? deadline_s : series.span_s();
  for (double t = (static_cast<double>(static_cast<std::size_t>(now_s / intensity_series::hour_s)) + 1.0) *
                  intensity_series::hour_s;
       t < end_s; t += intensity_series::hour_s) {
    const double v = f.forecast(zone, now_s, t);
    if (v < best) {
      best = v;
      best_t = t;
    }
  }
  return best_t;
}

}  // namespace joulesched
