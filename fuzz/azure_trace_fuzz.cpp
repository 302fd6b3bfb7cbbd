// Feeds the bytes to read_azure_trace (trace.hpp) as a stream, strict and lenient.
// Failure: anything but a trace or a config_error, or a broken promise of trace_check.hpp.
#include <cstddef>
#include <cstdint>

#include "joulesched/sim/trace.hpp"
#include "trace_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::check_trace_reader(fuzz::text(data, size), [](std::istream& in, joulesched::sim::trace_options opts) {
    return joulesched::sim::read_azure_trace(in, "fuzz.csv", opts);
  });
  return 0;
}
