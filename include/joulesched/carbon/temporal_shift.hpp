/// @file temporal_shift.hpp
/// @brief Temporal shifting (FREESH): deferrable work waits for a cleaner hour within its deadline. Given a
/// forecast and the sites work may run at, when to release a request: now, or the start of the hour whose
/// forecast PUE x intensity is lowest over every site, among now's hour and the hours that start before the
/// request's deadline less a reserve for its own service.
///
/// When to use: as the simulator's engine_options::release_at for bulk requests (joulesched-sim --shift), or in
/// an engine's admission, with a forecaster of its own (carbon/forecast.hpp's IntensityForecast). Only when the
/// deadline leaves room: interactive work should never be held.
///
/// Design: one cleanest_hour() per site, the lowest PUE x forecast wins, ties to the earliest hour, then the
/// lower site index, so work waits only for a strictly cleaner hour. It decides when, not where: the router
/// still chooses the site when the request is released (a carbon-aware router, carbon_pi, goes where the hour
/// was judged clean). Times: the caller's run time; `offset_s` maps it onto the series (as
/// carbon_accounting::offset_s). Cost: O(sites x hours in the window) per call.
#pragma once

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "joulesched/carbon/forecast.hpp"
#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/error.hpp"

namespace joulesched {

/// @brief A site work may run at: its zone in the series and its PUE (>= 1).
struct shift_site {
  std::size_t zone = 0;  ///< index into intensity_series::zones()
  double pue = 1.0;      ///< power usage effectiveness: facility energy / IT energy
};

/// @brief When to release deferrable work (see the file note).
template <IntensityForecast F>
class temporal_shift {
 public:
  /// The default reserve kept before a deadline for the request's own service, seconds. ASSUMPTION: ten
  /// minutes, far above the service time of one request in the simulator's runs (bulk p99 under a minute in
  /// the README's tables), far below the bulk tier's hour of budget, so a released request still meets its
  /// deadline unless the fleet is saturated when it is released.
  static constexpr double default_reserve_s = 600.0;

  /// @param forecast, series must outlive this object. @param sites at least one, zones of `series`.
  /// @param offset_s series time at run time 0. @param reserve_s kept before each deadline, >= 0.
  /// @throws config_error for no site, a zone the series lacks, a PUE below 1, or a negative reserve.
  temporal_shift(const F& forecast, const intensity_series& series, std::vector<shift_site> sites, double offset_s,
                 double reserve_s = default_reserve_s)
      : forecast_(&forecast), series_(&series), sites_(std::move(sites)), offset_s_(offset_s), reserve_s_(reserve_s) {
    if (sites_.empty()) detail::fail("temporal_shift", "sites", "(none)", "must name at least one site");
    for (const shift_site& s : sites_) {
      if (s.zone >= series.zones().size())
        detail::fail("temporal_shift", "zone", s.zone,
                     "must be < the series' zones (" + std::to_string(series.zones().size()) + ")");
      if (!(s.pue >= 1.0 && s.pue < std::numeric_limits<double>::infinity()))
        detail::fail("temporal_shift", "pue", s.pue, "must be finite and >= 1");
    }
    detail::require_finite(offset_s, "temporal_shift", "offset_s");
    detail::require_non_negative(reserve_s, "temporal_shift", "reserve_s");
  }

  /// @brief The run time at which to release work that arrives at `now_s` with deadline `deadline_s`: `now_s`
  /// when now's hour is the cleanest, when the deadline leaves no reserve, or when now is outside the series;
  /// else the start of the cleanest hour. Never earlier than now_s, never later than deadline_s - reserve.
  [[nodiscard]] double release_at(double now_s, double deadline_s) const {
    const double now = now_s + offset_s_;
    const double latest = deadline_s - reserve_s_ + offset_s_;
    if (!(latest > now) || !(now >= 0.0 && now < series_->span_s())) return now_s;
    double best_t = now, best = std::numeric_limits<double>::infinity();
    for (const shift_site& s : sites_) {
      // cleanest_hour considers hours that start before its deadline: one that starts at `latest` is too late.
      const double t = cleanest_hour(*forecast_, *series_, s.zone, now, latest);
      const double g = s.pue * forecast_->forecast(s.zone, now, t);
      if (g < best || (g == best && t < best_t)) best = g, best_t = t;
    }
    // now's hour won: now_s exactly (best_t - offset_s_ may differ from it in the last bit)
    return best_t == now ? now_s : best_t - offset_s_;
  }

 private:
  const F* forecast_;
  const intensity_series* series_;
  std::vector<shift_site> sites_;
  double offset_s_;
  double reserve_s_;
};

}  // namespace joulesched
