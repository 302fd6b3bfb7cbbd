// Simulator speed: simulated requests (and events) per second of wall time, on the default fleet (320 GPUs),
// the default mix at utilisation 0.5, 600 simulated seconds (~270k requests) per iteration, for each policy of
// sim::policy_registry (benchmark names are the policies' names).
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
#include "joulesched/sim/scenario.hpp"
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

const sim::scenario& setup() {
  static const sim::scenario s = sim::scenario::bundled(source_dir() / "data");
  return s;
}

void bm_policy(benchmark::State& state, sim::policy_kind kind) {
  const sim::scenario& s = setup();
  constexpr double duration_s = 600.0;
  double requests = 0, events = 0, cpu_s = 0;
  for (auto _ : state) {
    sim::mix_source src(s.mix, s.load(0.5, duration_s, 1));
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

int main(int argc, char** argv) {
  for (const sim::policy_entry& e : sim::policy_registry)  // every policy of the registry, by its name
    benchmark::RegisterBenchmark(e.name, bm_policy, e.kind)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
