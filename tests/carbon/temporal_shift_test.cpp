// Temporal shifting: deferrable work is released at the start of the cleanest hour, over every site, that its
// deadline leaves room for; never earlier than now, never past deadline - reserve; now when nothing is cleaner.
#include "joulesched/carbon/temporal_shift.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "joulesched/carbon/forecast.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
constexpr std::int64_t jan1_2021 = 1'609'459'200;  // 2021-01-01 00:00:00 UTC
constexpr double h = intensity_series::hour_s;

// Two zones over six hours (test values, not data): "a" dips to 50 in hour 2, "b" is 80 flat but 30 in hour 4.
intensity_series grid() {
  const std::vector<double> a{100, 100, 50, 100, 100, 100}, b{80, 80, 80, 80, 30, 80};
  std::vector<double> v;  // row-major: hour, then zone
  for (std::size_t i = 0; i < a.size(); ++i) v.insert(v.end(), {a[i], b[i]});
  return intensity_series(jan1_2021, {"a", "b"}, v, "test grid");
}
}  // namespace

TEST_CASE("temporal_shift.waits_for_the_cleanest_hour_its_deadline_allows") {
  const intensity_series s = grid();
  const perfect_forecast f(s);
  const temporal_shift<perfect_forecast> only_a(f, s, {{0, 1.0}}, 0.0, 0.0);
  CHECK(only_a.release_at(0.5 * h, 3.0 * h) == 2.0 * h);  // hour 2 of a, 50 < 100
  CHECK(only_a.release_at(0.5 * h, 2.0 * h) == 0.5 * h);  // hour 2 starts at the deadline: too late
  CHECK(only_a.release_at(2.5 * h, 6.0 * h) == 2.5 * h);  // already in the cleanest hour
  // Over both sites: b's hour 4 (30) beats a's hour 2 (50) when the deadline reaches it.
  const temporal_shift<perfect_forecast> both(f, s, {{0, 1.0}, {1, 1.0}}, 0.0, 0.0);
  CHECK(both.release_at(0.5 * h, 3.5 * h) == 2.0 * h);
  CHECK(both.release_at(0.5 * h, 4.5 * h) == 4.0 * h);
  // PUE counts: b at PUE 2 makes its hour 4 cost 60, worse than a's 50.
  const temporal_shift<perfect_forecast> pue(f, s, {{0, 1.0}, {1, 2.0}}, 0.0, 0.0);
  CHECK(pue.release_at(0.5 * h, 5.5 * h) == 2.0 * h);
}

TEST_CASE("temporal_shift.keeps_the_reserve_and_maps_run_time_onto_the_series") {
  const intensity_series s = grid();
  const perfect_forecast f(s);
  // A reserve of half an hour: a deadline at 2.4 h leaves only hours starting before 1.9 h.
  const temporal_shift<perfect_forecast> reserve(f, s, {{0, 1.0}}, 0.0, 0.5 * h);
  CHECK(reserve.release_at(0.5 * h, 2.4 * h) == 0.5 * h);
  CHECK(reserve.release_at(0.5 * h, 2.6 * h) == 2.0 * h);
  // Run time 0 is series hour 1: run time 0.5 h is series 1.5 h; hour 2 starts at run time 1 h.
  const temporal_shift<perfect_forecast> offset(f, s, {{0, 1.0}}, 1.0 * h, 0.0);
  CHECK(offset.release_at(0.5 * h, 3.0 * h) == 1.0 * h);
  // Outside the series, or a deadline already past: released now.
  CHECK(offset.release_at(10.0 * h, 20.0 * h) == 10.0 * h);
  CHECK(offset.release_at(0.5 * h, 0.25 * h) == 0.5 * h);
}

TEST_CASE("temporal_shift.with_a_persistence_forecast_trusts_yesterday") {
  // Two days: day 1 has a dip at hour 2, day 2 has none; persistence on day 2 still expects it.
  std::vector<double> v(48, 100.0);
  v[2] = 40.0;
  const intensity_series s(jan1_2021, {"z"}, v, "test grid");
  const persistence_forecast p(s);
  const perfect_forecast f(s);
  const temporal_shift<persistence_forecast> guess(p, s, {{0, 1.0}}, 0.0, 0.0);
  const temporal_shift<perfect_forecast> truth(f, s, {{0, 1.0}}, 0.0, 0.0);
  CHECK(guess.release_at(24.5 * h, 27.0 * h) == 26.0 * h);  // waits for a dip that does not come
  CHECK(truth.release_at(24.5 * h, 27.0 * h) == 24.5 * h);
}

TEST_CASE("temporal_shift.refuses_bad_sites_and_reserves") {
  const intensity_series s = grid();
  const perfect_forecast f(s);
  using shift = temporal_shift<perfect_forecast>;
  check_mentions(error_of([&] { shift(f, s, {}, 0.0); }), {"sites", "at least one"});
  check_mentions(error_of([&] { shift(f, s, {{2, 1.0}}, 0.0); }), {"zone = 2"});
  check_mentions(error_of([&] { shift(f, s, {{0, 0.9}}, 0.0); }), {"pue = 0.9"});
  check_mentions(error_of([&] { shift(f, s, {{0, 1.0}}, 0.0, -1.0); }), {"reserve_s = -1"});
}
