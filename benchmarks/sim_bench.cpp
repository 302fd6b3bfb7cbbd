// Simulator speed: simulated requests (and events) per second of wall time, on the default fleet (320 GPUs),
// the default mix at utilisation 0.5, 600 simulated seconds (~270k requests) per iteration, for each policy.
// Counters: requests/s and events/s of wall time (rates over real time), and the run's own CPU-time rate.
// Each iteration checks its own answer (every request read is completed or rejected).
//
//   JOULESCHED_SOURCE_DIR=$PWD build/bench/benchmarks/sim_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/workload.hpp"

#ifndef JOULESCHED_SOURCE_DIR
#define JOULESCHED_SOURCE_DIR "."
#endif

namespace sim = joulesched::sim;

namespace {

// The source tree (for data/): $JOULESCHED_SOURCE_DIR if set, else the compile definition, else ".".
std::filesystem::path source_dir() {
  if (const char* env = std::getenv("JOULESCHED_SOURCE_DIR")) return env;
  return JOULESCHED_SOURCE_DIR;
}

struct bench_setup {
  std::filesystem::path src = source_dir();
  sim::fleet_spec spec = sim::load_fleet(src / "data" / "fleets" / "default.csv");
  sim::sim_devices devices = sim::sim_devices::from(spec);
  sim::workload_mix mix = sim::default_mix(src / "data" / "traces" / "azure_conv_2023_excerpt.csv");
  sim::token_means means = sim::mean_tokens(mix);
  std::vector<joulesched::device_params> params = sim::routing_params(
      spec, sim::operating_point{0.5, means.input_tok + means.output_tok / 2, means.total_tok()});
  double rate_rps = 0.5 * sim::fleet_saturation_rps(spec, means.input_tok, means.output_tok);
};

const bench_setup& setup() {
  static const bench_setup s;
  return s;
}

void bm_policy(benchmark::State& state, sim::policy_kind kind) {
  const bench_setup& s = setup();
  constexpr double duration_s = 600.0;
  double requests = 0, events = 0, cpu_s = 0;
  for (auto _ : state) {
    sim::mix_source_options mo;
    mo.rate_rps = s.rate_rps;
    mo.duration_s = duration_s;
    mo.seed = 1;
    sim::mix_source src(s.mix, mo);
    sim::engine_options eo;
    eo.window_s = duration_s;
    const sim::sim_result r = sim::run_policy(kind, s.devices, s.params, src, sim::policy_settings{}, eo);
    if (r.read != r.completed + r.rejected || r.read == 0) {
      state.SkipWithError("requests read != completed + rejected");
      break;
    }
    requests += static_cast<double>(r.read);
    events += static_cast<double>(r.events);
    cpu_s += r.cpu_s;
    benchmark::DoNotOptimize(r.energy_total_j);
  }
  state.counters["requests/s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["requests/cpu_s"] = cpu_s > 0 ? requests / cpu_s : 0.0;
  state.counters["events/request"] = requests > 0 ? events / requests : 0.0;
}

}  // namespace

BENCHMARK_CAPTURE(bm_policy, round_robin, sim::policy_kind::round_robin)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bm_policy, least_loaded, sim::policy_kind::least_loaded)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bm_policy, power_of_two, sim::policy_kind::power_of_two)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bm_policy, energy_fixed, sim::policy_kind::energy_fixed)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bm_policy, energy_pi, sim::policy_kind::energy_pi)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(bm_policy, tiered, sim::policy_kind::tiered)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
