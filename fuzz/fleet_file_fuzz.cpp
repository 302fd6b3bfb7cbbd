// Feeds the bytes to parse_fleet (sim/fleet_file.hpp) as a stream, with relative model paths resolved
// against data/fleets (so the seed data/fleets/default.csv names the real data/devices models), then lists
// the devices and their routing parameters.
// Inputs naming /dev, /proc, /sys or /run are skipped: a model path there (/dev/zero, a FIFO) would block or
// read without end, which is the operating system's behaviour, not the reader's.
// Failure: anything but a fleet or a config_error; a fleet with no device, with more than max_fleet_devices,
// or whose expand() or routing_params() does not give one entry per device.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>

#include "joulesched/sim/fleet_file.hpp"
#include "support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::text(data, size);
  for (const char* dir : {"/dev", "/proc", "/sys", "/run"})
    if (bytes.find(dir) != std::string::npos) return -1;  // -1: not added to the corpus
  fuzz::read_accepts(bytes, [](std::istream& in) {
    using namespace joulesched::sim;
    const fleet_spec spec = parse_fleet(in, "fuzz.csv", JOULESCHED_SOURCE_DIR "/data/fleets");
    fuzz::require(spec.device_count() >= 1 && spec.device_count() <= max_fleet_devices, "device count in bounds");
    fuzz::require(expand(spec).size() == spec.device_count(), "expand lists every device");
    if (spec.device_count() > 100'000) return;  // keeps one input to milliseconds
    const auto params = routing_params(spec, operating_point{0.5, 300, 600});
    fuzz::require(params.size() == spec.device_count(), "one routing parameter set per device");
  });
  return 0;
}
