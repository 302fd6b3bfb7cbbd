// Intensity forecasts (perfect and day-ahead persistence) and the cleanest hour within a deadline, by hand.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "joulesched/carbon/forecast.hpp"
#include "joulesched/carbon/intensity_series.hpp"

using namespace joulesched;

namespace {

constexpr std::int64_t jan1_2021 = 1'609'459'200;  // 2021-01-01 00:00:00 UTC
constexpr double h = intensity_series::hour_s;

// Three days, one zone, each hour's value its own index: 0, 1, ..., 71 gCO2/kWh (test values, not data).
intensity_series counting() {
  std::vector<double> v;
  for (std::size_t i = 0; i < 72; ++i) v.push_back(static_cast<double>(i));
  return intensity_series(jan1_2021, {"z"}, v, "test grid");
}

// Three days of the same day: 100 g/kWh but hours 3 and 6 of each day at 40 (test values, not data).
intensity_series two_dips() {
  std::vector<double> v;
  for (std::size_t i = 0; i < 72; ++i) v.push_back(i % 24 == 3 || i % 24 == 6 ? 40.0 : 100.0);
  return intensity_series(jan1_2021, {"z"}, v, "test grid");
}

}  // namespace

static_assert(IntensityForecast<perfect_forecast> && IntensityForecast<persistence_forecast>);

TEST_CASE("forecast.perfect_is_the_series") {
  const intensity_series s = counting();
  const perfect_forecast f(s);
  CHECK(f.forecast(0, 0.0, 50.5 * h) == 50.0);
  CHECK(f.forecast(0, 10.0 * h, 10.0 * h) == 10.0);
}

TEST_CASE("forecast.persistence_is_the_same_hour_of_the_latest_known_day") {
  const intensity_series s = counting();
  const persistence_forecast f(s);
  // At hour 30.5, hour 50 is forecast as hour 26 (a day before, known); hour 55 as 31 is not known yet, so 7.
  CHECK(f.forecast(0, 30.5 * h, 50.0 * h) == 26.0);
  CHECK(f.forecast(0, 30.5 * h, 55.0 * h) == 7.0);
  // Hours already known are their own values, now's included.
  CHECK(f.forecast(0, 30.5 * h, 30.0 * h) == 30.0);
  CHECK(f.forecast(0, 30.5 * h, 12.0 * h) == 12.0);
  // On the first day no earlier day exists: the value in force now.
  CHECK(f.forecast(0, 5.0 * h, 10.0 * h) == 5.0);
}

TEST_CASE("forecast.cleanest_hour_waits_only_for_a_strictly_cleaner_hour_before_the_deadline") {
  const intensity_series s = two_dips();
  const perfect_forecast perfect(s);
  // From 01:30 with 8 h to go: hours 3 and 6 are cleanest; the earlier wins.
  CHECK(cleanest_hour(perfect, s, 0, 1.5 * h, 9.5 * h) == 3.0 * h);
  // An hour that starts at the deadline is too late: stay now.
  CHECK(cleanest_hour(perfect, s, 0, 1.5 * h, 3.0 * h) == 1.5 * h);
  // Already in a clean hour: no later hour is strictly cleaner.
  CHECK(cleanest_hour(perfect, s, 0, 3.25 * h, 10.0 * h) == 3.25 * h);
  // A deadline past the series' end looks only at the hours it has.
  CHECK(cleanest_hour(perfect, s, 0, 70.0 * h, 1000.0 * h) == 70.0 * h);
  // Persistence knows the dips from the second day on; on the first it has nothing to go on.
  const persistence_forecast persistence(s);
  CHECK(cleanest_hour(persistence, s, 0, 25.5 * h, 33.5 * h) == 27.0 * h);
  CHECK(cleanest_hour(persistence, s, 0, 1.5 * h, 9.5 * h) == 1.5 * h);
}
