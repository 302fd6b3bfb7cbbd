// Drives the simulator (sim/engine.hpp) through sim::run_policy (sim/policies.hpp), every policy, on a
// fleet of 1-4 devices of 1-2 device models and a stream of up to 24 requests, all made from the bytes:
// - the models' fields are drawn in plausible ranges, with now and then a value validate() must reject
//   (0, negative, NaN, infinite); a model validate() rejects ends the input (config_error, accepted);
// - the requests come from a vector-backed request_source with fuzzed gaps, tokens (now and then more than
//   any KV cache holds), deadlines and tiers; now and then a gap is negative or NaN (the first arrival's
//   too), a deadline is before its arrival or a tier is out of range, which breaks the source's promise:
//   run() must throw config_error, and requests may be queued on the devices when it does;
// - the queue discipline, measurement window, estimator error, seed and power-of-d's d are fuzzed too; with
//   preemptive LLF its running slots, laxity margin, re-rank period and what a preempted request keeps;
// - freesh_plan runs within a plan of every class on every device, its prompt cut from the bytes.
// Ranges are small so that one run takes milliseconds (at most ~10^4 simulated seconds of 1 s ticks).
// Failure: anything but a result or a config_error (another exception, an assert, a sanitizer report, a
// hang); a result whose counts do not add up (read = completed + rejected = requests), whose energy is not
// finite and >= 0, or whose measurement window (energy, time) is not within the whole run.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "joulesched/sim/policies.hpp"
#include "support.hpp"

namespace {

using namespace joulesched;
using namespace joulesched::sim;

/// A value in [0, hi] from two bytes; one time in 16 a value that is invalid for most fields instead.
double value(FuzzedDataProvider& in, double hi) {
  const auto v = in.ConsumeIntegral<std::uint16_t>();
  switch (v % 64) {
    case 0:
      return 0.0;
    case 1:
      return -hi;
    case 2:
      return std::numeric_limits<double>::quiet_NaN();
    case 3:
      return std::numeric_limits<double>::infinity();
    default:
      return hi * static_cast<double>(v) / 65535.0;
  }
}

/// Tokens in [0, max] from two bytes; one time in 4096 more than any device holds.
std::uint32_t tokens(FuzzedDataProvider& in, std::uint32_t max) {
  const auto v = in.ConsumeIntegral<std::uint16_t>();
  return v % 4096 == 4095 ? std::numeric_limits<std::uint32_t>::max() : v % (max + 1);
}

device_model model_from(FuzzedDataProvider& in) {
  device_model m;
  m.gpu = in.ConsumeIntegralInRange(0, 15) == 0 ? "" : in.ConsumeBool() ? "gpu-a" : "gpu-b";
  m.serving_model = "fuzz-model";
  m.tdp_w = value(in, 1000);
  m.idle_power_w = value(in, 200);
  m.busy_power_base_w = value(in, 800);
  m.busy_power_per_seq_w = value(in, 10) - 5;
  m.decode_step_base_s = value(in, 0.02);
  m.decode_step_per_seq_s = value(in, 1e-3);
  m.decode_step_per_ctx_tok_s = value(in, 1e-6);
  m.prefill_base_s = value(in, 0.05);
  m.prefill_per_tok_s = value(in, 1e-4);
  m.max_batch = in.ConsumeIntegralInRange<std::uint32_t>(0, 64);
  m.kv_capacity_tok = in.ConsumeIntegralInRange<std::uint64_t>(0, 20'000);
  // Not drawn from the input, so that the saved regression inputs keep their meaning: valid whenever tdp_w is
  // (idle <= busy base <= tdp is checked separately), and it is read on every prefill.
  m.prefill_power_w = m.tdp_w;
  return m;
}

request request_from(FuzzedDataProvider& in, std::uint64_t id, double previous_arrival_s) {
  request r;
  r.id = id;
  const double gap = value(in, 2.0);
  r.arrival_s = previous_arrival_s + (std::isinf(gap) ? -1.0 : gap);  // -2 or NaN breaks the order
  r.input_tok = tokens(in, 2048);
  r.output_tok = tokens(in, 512);
  r.deadline_s = r.arrival_s + value(in, 60.0);
  r.ttft_deadline_s = r.arrival_s + value(in, 10.0);
  const auto t = in.ConsumeIntegralInRange(0, 40);
  r.tier = t == 40 ? static_cast<tier>(2) : t % 2 == 0 ? tier::interactive : tier::bulk;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const policy_kind policy = all_policies[in.ConsumeIntegralInRange<std::size_t>(0, all_policies.size() - 1)];
  engine_options opts;
  opts.discipline = static_cast<queue_discipline>(in.ConsumeIntegralInRange(0, 4));
  if (opts.discipline == queue_discipline::preemptive_llf) {
    opts.preemption.slots = in.ConsumeIntegralInRange<std::uint32_t>(0, 4);
    opts.preemption.rule.margin_s = value(in, 5.0);  // now and then invalid: a config_error
    opts.preemption.period_s = 0.1 * static_cast<double>(in.ConsumeIntegralInRange(1, 20));
    opts.preemption.mode =
        in.ConsumeBool() ? preemption_options::resume::resident : preemption_options::resume::recompute;
  }
  opts.window_s = value(in, 100.0);
  policy_settings settings;
  settings.estimate_mean_abs_rel_error = value(in, 0.5);
  settings.seed = in.ConsumeIntegral<std::uint8_t>();
  settings.power_of_d = in.ConsumeIntegralInRange<std::uint32_t>(0, 4);

  std::vector<device_model> models(in.ConsumeIntegralInRange<std::size_t>(1, 2));
  for (device_model& m : models) {
    m = model_from(in);
    if (!fuzz::accepts([&] { validate(m, "fuzz model"); })) return 0;
  }
  sim_devices devices;
  std::vector<device_params> params;
  const int device_count = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < device_count; ++i) {
    const device_model& m = models[in.ConsumeIntegralInRange<std::size_t>(0, models.size() - 1)];
    const auto it = std::find(devices.type_names.begin(), devices.type_names.end(), m.gpu);  // as sim_devices::from
    const auto type = static_cast<std::uint32_t>(it - devices.type_names.begin());
    if (it == devices.type_names.end()) devices.type_names.push_back(m.gpu);
    devices.model.push_back(&m);
    devices.type.push_back(type);
    devices.site.push_back(0);
    params.push_back(nominal_params(m, 0, operating_point{0.5, 300, 600}));
  }

  plan_group every_device;
  for (int i = 0; i < device_count; ++i) every_device.devices.push_back(static_cast<device_id>(i));
  every_device.capacity_rps = 1.0;
  settings.plans = {pool_plan(freesh_request_classes::count, std::vector<plan_group>{every_device})};
  settings.plan_classes = freesh_request_classes{in.ConsumeIntegralInRange<std::uint32_t>(0, 5000)};

  vector_source src;
  const std::size_t request_count = in.ConsumeIntegralInRange<std::size_t>(0, 24);
  for (std::size_t i = 0; i < request_count; ++i)
    src.requests.push_back(request_from(in, i, src.requests.empty() ? 0.0 : src.requests.back().arrival_s));

  // Carbon accounted on every run (carbon_pi needs it): one zone, a day of hourly values in [0, 1000] g/kWh and a
  // PUE in [1, 2] from the input (valid ones: the series' own checks are the carbon tests' and the reader fuzzer's).
  std::vector<double> hours(24);
  for (double& h : hours) h = static_cast<double>(in.ConsumeIntegral<std::uint16_t>()) / 65.535;
  const intensity_series grid(0, {"zone"}, hours, "fuzz grid");
  opts.carbon =
      carbon_accounting{&grid, 0.0, {0}, {1.0 + static_cast<double>(in.ConsumeIntegral<std::uint8_t>()) / 255.0}};

  sim_result r;
  if (!fuzz::accepts([&] { r = run_policy(policy, devices, params, src, settings, opts); })) return 0;
  fuzz::require(r.carbon_total_g >= 0 && std::isfinite(r.carbon_total_g), "carbon is finite and >= 0");
  fuzz::require(r.read == request_count && r.read == r.completed + r.rejected, "read = completed + rejected");
  fuzz::require(std::isfinite(r.energy_total_j) && r.energy_total_j >= 0, "energy is finite and >= 0");
  fuzz::require(r.energy_j >= 0 && r.energy_j <= r.energy_total_j, "the window's energy is part of the run's");
  fuzz::require(r.window_s >= 0 && r.window_s <= r.sim_time_s, "the window is part of the run");
  return 0;
}
