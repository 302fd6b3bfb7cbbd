// Feeds the bytes to read_intensity_series (carbon/intensity_file.hpp) as a stream, then reads the series it gave
// and integrates a constant power over it.
// Failure: anything but a series or a config_error; a series whose hours are not one hour apart, whose values
// are negative or not finite, or whose carbon over its span is not the sum of its hours.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <istream>

#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/carbon/intensity_series.hpp"
#include "support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_accepts(fuzz::text(data, size), [](std::istream& in) {
    const joulesched::intensity_series s = joulesched::read_intensity_series(in, "fuzz.csv");
    fuzz::require(s.hours() >= 1 && !s.zones().empty(), "at least one hour and one zone");
    fuzz::require(s.end_utc_s() - s.start_utc_s() == static_cast<std::int64_t>(s.hours()) * 3600, "hourly");
    for (std::size_t z = 0; z < s.zones().size(); ++z) {
      double by_hour = 0.0;
      for (std::size_t h = 0; h < s.hours(); ++h) {
        const double v = s.value(h, z);
        fuzz::require(std::isfinite(v) && v >= 0.0, "values finite and >= 0");
        by_hour += v;
      }
      // 1 MW for the whole span: 1,000 kWh per hour, so value x 1000 g per hour.
      const double g = s.carbon_g(z, 0.0, s.span_s(), 1e6);
      fuzz::require(std::isfinite(g) && std::fabs(g - 1000.0 * by_hour) <= 1e-9 * (1.0 + 1000.0 * by_hour),
                    "carbon over the span is the sum of the hours");
    }
  });
  return 0;
}
