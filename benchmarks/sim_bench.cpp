// Simulator speed: simulated requests (and events) per second of wall time, on the default fleet (320 GPUs),
// the default mix at utilisation 0.5, 600 simulated seconds (~270k requests) per iteration, for each policy of
// sim::policy_registry but those that need a carbon series (benchmark names are the policies' names).
// Counters: requests/s and events/s of wall time (rates over real time), and the run's own CPU-time rate.
// Each iteration checks its own answer (every request read is completed or rejected).
//
// scale/<policy>/<devices>: the same at 320 and 10,000 GPUs (the default fleet's rows, each scaled by the same
// factor: 5,000 A100, 4,000 H100, 1,000 L4) for 60 simulated seconds, at the same utilisation, so that requests
// per wall second show how the per-request cost grows with the fleet.
// memory/least_loaded/<simulated s>: one run of a simulated hour and one of a day; the counter max_rss_MiB is the
// process's peak resident memory after it (getrusage), which must not grow with the requests: latency
// percentiles are streamed (sim/quantile_sketch.hpp). Run each memory case in a process of its own to read it.
//
//   JOULESCHED_SOURCE_DIR=$PWD build/bench/benchmarks/sim_bench --benchmark_counters_tabular=true
//   JOULESCHED_SOURCE_DIR=$PWD build/bench/benchmarks/sim_bench --benchmark_filter='scale/'
//   JOULESCHED_SOURCE_DIR=$PWD build/bench/benchmarks/sim_bench --benchmark_filter='memory/least_loaded/86400$'
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
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

// The default scenario with every fleet row's count scaled so that the fleet has `devices` GPUs (rounded per row).
const sim::scenario& scaled(std::uint32_t devices) {
  static std::map<std::uint32_t, sim::scenario> made;  // nodes stay put: references stay valid
  if (const auto it = made.find(devices); it != made.end()) return it->second;
  sim::fleet_spec f = sim::load_fleet(source_dir() / "data" / "fleets" / "default.csv");
  const double factor = static_cast<double>(devices) / static_cast<double>(f.device_count());
  for (sim::fleet_row& row : f.rows)
    row.count = static_cast<std::uint32_t>(std::lround(static_cast<double>(row.count) * factor));
  return made.emplace(devices, sim::scenario(std::move(f), setup().mix)).first->second;
}

double max_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void run_and_count(benchmark::State& state, const sim::scenario& s, sim::policy_kind kind, double duration_s) {
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
  state.counters["devices"] = static_cast<double>(s.devices.size());
}

void bm_policy(benchmark::State& state, sim::policy_kind kind) { run_and_count(state, setup(), kind, 600.0); }

void bm_scale(benchmark::State& state, sim::policy_kind kind) {
  run_and_count(state, scaled(static_cast<std::uint32_t>(state.range(0))), kind, 60.0);
}

void bm_memory(benchmark::State& state) {
  run_and_count(state, setup(), sim::policy_kind::least_loaded, static_cast<double>(state.range(0)));
  state.counters["max_rss_MiB"] = max_rss_mib();
}

}  // namespace

int main(int argc, char** argv) {
  for (const sim::policy_entry& e : sim::policy_registry)  // every policy of the registry, by its name
    if (!e.needs_carbon)                                   // the bundled experiment has no carbon series
      benchmark::RegisterBenchmark(e.name, bm_policy, e.kind)->Unit(benchmark::kMillisecond)->UseRealTime();
  for (const sim::policy_kind k :
       {sim::policy_kind::round_robin, sim::policy_kind::least_loaded, sim::policy_kind::energy_pi}) {
    benchmark::RegisterBenchmark(("scale/" + std::string(sim::to_string(k))).c_str(), bm_scale, k)
        ->Arg(320)
        ->Arg(10'000)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("memory/least_loaded", bm_memory)
      ->Arg(3'600)
      ->Arg(86'400)
      ->Iterations(1)
      ->Unit(benchmark::kSecond)
      ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
