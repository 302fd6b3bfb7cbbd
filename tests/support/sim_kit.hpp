// Small simulated fleets for the engine's tests: a device model with deterministic times, and the simulator's
// and the router's views of a list of models.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "joulesched/sim/device_model.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/workload_mix.hpp"

namespace joulesched::test {

/// A device model with deterministic, batch-independent times (every decode step and every prefill 0.01 s)
/// when per_seq and per_ctx are 0, as here.
inline sim::device_model simple_model(std::uint32_t max_batch, std::uint64_t kv_tok) {
  sim::device_model m;
  m.gpu = "test-gpu";
  m.serving_model = "test-model";
  m.tdp_w = 400;
  m.idle_power_w = 50;
  m.busy_power_base_w = 200;
  m.busy_power_per_seq_w = 1.5;
  m.prefill_power_w = 200;
  m.decode_step_base_s = 0.01;
  m.decode_step_per_seq_s = 0;
  m.decode_step_per_ctx_tok_s = 0;
  m.prefill_base_s = 0.01;
  m.prefill_per_tok_s = 0;
  m.max_batch = max_batch;
  m.kv_capacity_tok = kv_tok;
  sim::validate(m, "simple_model");
  return m;
}

/// The simulator's devices, one per model (models of the same gpu name share a type), all at site 0.
inline sim::sim_devices devices_of(const std::vector<const sim::device_model*>& models) {
  sim::sim_devices d;
  for (const sim::device_model* m : models) {
    const auto it = std::find(d.type_names.begin(), d.type_names.end(), m->gpu);
    d.type.push_back(static_cast<std::uint32_t>(it - d.type_names.begin()));
    if (it == d.type_names.end()) d.type_names.push_back(m->gpu);
    d.model.push_back(m);
    d.site.push_back(0);
  }
  return d;
}

/// The routers' parameters of the same devices, at the nominal operating point of a 300 / 600-token workload.
inline std::vector<device_params> params_of(const std::vector<const sim::device_model*>& models) {
  std::vector<device_params> ps;
  for (const sim::device_model* m : models)
    ps.push_back(sim::nominal_params(*m, 0, sim::operating_point{0.5, 300, 600}));
  return ps;
}

/// One class of constant lengths (input_tok, output_tok) and deadlines too long to miss.
inline sim::workload_mix constant_mix(double input_tok, double output_tok) {
  sim::class_spec c;
  c.name = "const";
  c.share = 1.0;
  c.lengths.input_quantiles = {{0.0, input_tok}, {1.0, input_tok}};
  c.lengths.output_quantiles = {{0.0, output_tok}, {1.0, output_tok}};
  c.ttft_slo_s = 1e6;
  c.e2e_slo_s_base = 1e6;
  sim::workload_mix m;
  m.classes = {c};
  return m;
}

/// A SimObserver that records every power change and completion.
struct recorder {
  struct power_change {
    device_id d;
    double t_s, w;
  };
  struct done {
    device_id d;
    double first_token_s, done_s;
  };
  std::vector<power_change> power;
  std::map<std::uint64_t, done> completions;
  void on_power(device_id d, double t, double w) { power.push_back({d, t, w}); }
  void on_complete(std::uint64_t id, device_id d, double first, double t) { completions[id] = {d, first, t}; }

  /// Calls f(device, t0, t1, watts) for every interval of constant power of the first `devices` devices, from
  /// their first report (at time 0) up to end_s.
  template <class F>
  void for_each_interval(std::size_t devices, double end_s, F&& f) const {
    std::vector<double> last_t(devices, 0.0), last_w(devices, -1.0);
    for (const power_change& c : power) {
      if (last_w[c.d] >= 0) f(std::size_t{c.d}, last_t[c.d], c.t_s, last_w[c.d]);
      last_t[c.d] = c.t_s;
      last_w[c.d] = c.w;
    }
    for (std::size_t d = 0; d < devices; ++d)
      if (last_w[d] >= 0) f(d, last_t[d], end_s, last_w[d]);
  }
  /// The integral of each device's recorded power over [0, end_s].
  [[nodiscard]] std::vector<double> energy_j(std::size_t devices, double end_s) const {
    std::vector<double> e(devices, 0.0);
    for_each_interval(devices, end_s, [&](std::size_t d, double t0, double t1, double w) { e[d] += w * (t1 - t0); });
    return e;
  }
};

}  // namespace joulesched::test
