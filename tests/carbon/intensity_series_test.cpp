#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "joulesched/carbon/carbon_meter.hpp"
#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/carbon/intensity_series.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {

constexpr std::int64_t jan1_2021 = 1'609'459'200;  // 2021-01-01 00:00:00 UTC

// Three hours, two zones: A 100, 200, 50 and B 400, 300, 0 gCO2/kWh.
const char* const three_hours =
    "datetime_utc,A,B\n"
    "2021-01-01 00:00:00,100,400\n"
    "2021-01-01 01:00:00,200,300\n"
    "2021-01-01 02:00:00,50,0\n";

intensity_series read(const std::string& text) {
  std::istringstream in(text);
  return read_intensity_series(in, "grid.csv");
}

}  // namespace

TEST_CASE("intensity_series.reads_the_wide_format") {
  const intensity_series s = read(three_hours);
  CHECK(s.zones() == std::vector<std::string>{"A", "B"});
  CHECK(s.hours() == 3);
  CHECK(s.start_utc_s() == jan1_2021);
  CHECK(s.end_utc_s() == jan1_2021 + 3 * 3600);
  CHECK(s.find_zone("B") == std::optional<std::size_t>(1));
  CHECK(!s.find_zone("DE-LU"));
  CHECK(s.at(0, 0.0) == 100.0);
  CHECK(s.at(0, 3599.9) == 100.0);
  CHECK(s.at(0, 3600.0) == 200.0);
  CHECK(s.at(1, 10'799.0) == 0.0);
}

TEST_CASE("carbon_meter.two_sites_three_hours_equal_the_hand_computation") {
  const intensity_series s = read(three_hours);
  const double offset = s.offset_of(jan1_2021 + 1800, "--start");  // the run starts at 00:30 UTC
  CHECK(offset == 1800.0);

  // Site 1, zone A, PUE 1.2: 1000 W for the run's first 45 minutes (00:30-01:15), then 500 W until 02:30.
  //   00:30-01:00 0.5 kWh x 100 = 50 g; 01:00-01:15 0.25 kWh x 200 = 50 g;
  //   01:15-02:00 0.375 kWh x 200 = 75 g; 02:00-02:30 0.25 kWh x 50 = 12.5 g. 187.5 g x 1.2 = 225 g.
  carbon_meter one{&s, 0, 1.2, offset};
  one.set_power(1000.0);
  one.advance(2700.0);
  one.set_power(500.0);
  one.advance(7200.0);
  CHECK(one.carbon_g == doctest::Approx(225.0).epsilon(1e-12));

  // Site 2, zone B, PUE 1.5: 2000 W throughout, advanced at times that are not hour boundaries.
  //   00:30-01:00 1 kWh x 400 = 400 g; 01:00-02:00 2 kWh x 300 = 600 g; 02:00-02:30 1 kWh x 0. 1000 g x 1.5.
  carbon_meter two{&s, 1, 1.5, offset};
  two.set_power(2000.0);
  for (const double t : {100.0, 1799.0, 5000.0, 7200.0}) two.advance(t);
  CHECK(two.carbon_g == doctest::Approx(1500.0).epsilon(1e-12));

  // Energy x PUE x intensity, summed per hour, is also what carbon_g gives for one interval.
  CHECK(1.5 * s.carbon_g(1, 1800.0, 9000.0, 2000.0) == doctest::Approx(1500.0).epsilon(1e-12));
}

TEST_CASE("intensity_series.bad_input_names_file_line_field_and_value") {
  // A missing hour, a repeated hour, a row out of order: each names the line of the row that breaks the chain.
  check_mentions(error_of([] { (void)read("datetime_utc,A\n2021-01-01 00:00:00,1\n2021-01-01 02:00:00,2\n"); }),
                 {"grid.csv:3", "datetime_utc", "'2021-01-01 02:00:00'", "one hour after"});
  check_mentions(error_of([] { (void)read("datetime_utc,A\n2021-01-01 00:00:00,1\n2021-01-01 00:00:00,2\n"); }),
                 {"grid.csv:3", "one hour after"});
  check_mentions(error_of([] { (void)read("datetime_utc,A,B\n2021-01-01 00:00:00,1,nan\n"); }),
                 {"grid.csv:2", "field B", "'nan'", "not a number"});
  check_mentions(error_of([] { (void)read("datetime_utc,A,B\n2021-01-01 00:00:00,-3,1\n"); }),
                 {"grid.csv:2", "field A", "'-3'", "must be finite and >= 0"});
  check_mentions(error_of([] { (void)read("datetime_utc,A\n2021-01-01 00:00:00,\n"); }),
                 {"grid.csv:2", "field A", "not a number"});
  check_mentions(error_of([] { (void)read("datetime_utc,A\n2021-13-01 00:00:00,1\n"); }),
                 {"grid.csv:2", "datetime_utc", "'2021-13-01 00:00:00'"});
  check_mentions(error_of([] { (void)read("time,A\n2021-01-01 00:00:00,1\n"); }), {"grid.csv", "datetime_utc"});
  check_mentions(error_of([] { (void)read("datetime_utc\n2021-01-01 00:00:00\n"); }), {"grid.csv", "no zone"});
  check_mentions(error_of([] { (void)read("datetime_utc,A\n"); }), {"grid.csv", "no data row"});

  // A run that starts outside the series.
  const intensity_series s = read(three_hours);
  check_mentions(error_of([&] { (void)s.offset_of(jan1_2021 - 1, "--start"); }), {"--start", "start", "within"});
  check_mentions(error_of([&] { (void)s.offset_of(jan1_2021 + 3 * 3600, "--start"); }), {"--start", "within"});
  check_mentions(error_of([] { (void)parse_utc_time("2021-01-01", "--start"); }), {"--start", "'2021-01-01'"});
  CHECK(parse_utc_time("2021-01-01 01:00:00", "--start") == jan1_2021 + 3600);
  // The message names any start the parser reads, far from the epoch on either side, as it was written.
  for (const char* start : {"9999-12-31 23:59:59", "1969-12-31 23:00:00", "0000-01-01 05:06:07"}) {
    CAPTURE(start);
    check_mentions(error_of([&] { (void)s.offset_of(parse_utc_time(start, "--start"), "--start"); }),
                   {std::string("'") + start + "'"});
  }

  // Built from values: a NaN or a negative value, a repeated zone.
  check_mentions(error_of([] {
                   intensity_series x(0, {"A", "B"}, {1.0, -1.0}, "mine");
                 }),
                 {"mine", "g_per_kwh at (hour 0, zone B)", "-1"});
  check_mentions(error_of([] { intensity_series x(0, {"A", "A"}, {1.0, 1.0}, "mine"); }), {"mine", "zones[1]"});
}
