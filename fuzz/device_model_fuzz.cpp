// Feeds the bytes to parse_device_model (sim/device_model.hpp) as a stream (the path loader only opens a
// file around it), then queries the model it read.
// Failure: anything but a model or a config_error; a model read that validate() rejects; a query at a
// batch in [1, max_batch] that is not finite, or a step time that is not > 0.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <istream>

#include "joulesched/sim/device_model.hpp"
#include "support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_accepts(fuzz::text(data, size), [](std::istream& in) {
    const joulesched::sim::device_model m = joulesched::sim::parse_device_model(in, "fuzz.csv");
    fuzz::require(fuzz::accepts([&] { joulesched::sim::validate(m, "fuzz.csv"); }), "a model read is valid");
    for (const std::uint32_t b : {1u, std::max(1u, m.max_batch / 2), m.max_batch}) {
      const double step = m.decode_step_s(b, m.kv_capacity_tok);
      fuzz::require(std::isfinite(step) && step > 0, "decode_step_s is finite and > 0");
      fuzz::require(std::isfinite(m.prefill_s(b)) && m.prefill_s(b) > 0, "prefill_s is finite and > 0");
      fuzz::require(std::isfinite(m.busy_power_w(b)) && m.busy_power_w(b) >= m.idle_power_w,
                    "busy power is finite and >= idle power");
      fuzz::require(std::isfinite(m.energy_j_per_tok(b, 0)) && std::isfinite(m.rate_tok_s(b, 0)),
                    "steady decode energy and rate are finite");
    }
  });
  return 0;
}
