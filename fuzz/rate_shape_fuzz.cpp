// Feeds the bytes to read_rate_shape (sim/workload.hpp) as a stream, taking the series "m-large" (the
// default of diurnal_shape_servegen; seed: data/traces/servegen_diurnal_shape.csv).
// Failure: anything but a shape or a config_error; a shape read that validate() rejects, or whose
// multipliers do not have mean 1 (the reader's promise) to within rounding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <numeric>

#include "joulesched/sim/workload.hpp"
#include "support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_accepts(fuzz::text(data, size), [](std::istream& in) {
    const joulesched::sim::rate_shape s = joulesched::sim::read_rate_shape(in, "fuzz.csv", "m-large");
    fuzz::require(fuzz::accepts([&] { joulesched::sim::validate(s, "fuzz.csv"); }), "a shape read is valid");
    const double n = static_cast<double>(s.multipliers.size());
    const double mean = std::accumulate(s.multipliers.begin(), s.multipliers.end(), 0.0) / n;
    fuzz::require(std::abs(mean - 1.0) <= 1e-9 * n, "the multipliers have mean 1");
  });
  return 0;
}
