/// @file freesh_program.hpp
/// @brief FREESH's pool program for a simulated fleet: the planner's inputs (plan/freesh_inputs.hpp) built from the
/// fleet's device models, the workload's four request classes and its demand, and the sites' grid intensity; and
/// the pool_plan (routing/plan_router.hpp) that a window's solution gives over the fleet's devices.
///
/// When to use: to serve a simulated fleet within FREESH's plan (policy `freesh_plan`, policies.hpp). Plan every
/// window with any milp_solver (plan_freesh), then hand the per-window pool plans to the policy.
///
/// The model (each an ASSUMPTION of ours where FREESH measured; its inputs do not carry over to our models):
/// - every simulated GPU is one instance: one mode per GPU type, "<gpu> x1" (tensor-parallel modes are not
///   simulated);
/// - a class's profile on a mode is the device model's at saturation by the class's mean request, FREESH's
///   "highest sustainable rate": max_qps = capacity_fraction x saturation_rps(model, in, out) (prefill included;
///   capacity_fraction 1 by default: saturation itself, which leaves no margin for bursts); b = the batch it
///   runs then (nominal_batch at batch fraction 1); power_w = busy_power_w(b); ttft = its prefill of `in` tokens;
///   tbt = decode_step_s(b, b x (in + out / 2)); e2e = ttft + (out - 1) x tbt;
/// - the classes' shares and mean lengths are those of requests drawn from the workload, classified by their
///   true lengths (freesh_traffic); at run time the router classifies by the estimate it is given;
/// - demand at 5-minute step t: the workload's arrival rate then x the class's share; emission: PUE x the zone's
///   intensity at the step's start (gCO2/kWh; for the carbon objective; the energy objective ignores it).
/// FREESH's SLO filter (freesh_options: TBT <= 150 ms, TTFT <= 300 / 600 ms, e2e <= 5 x the class mean) applies
/// to these profiles as the planner states it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/plan/freesh_inputs.hpp"
#include "joulesched/plan/freesh_planner.hpp"
#include "joulesched/routing/plan_router.hpp"
#include "joulesched/sim/carbon_accounting.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/mix_source.hpp"
#include "joulesched/sim/sim_devices.hpp"
#include "joulesched/sim/workload_mix.hpp"

namespace joulesched::sim {

/// @brief One request class's share of the requests and its mean lengths.
struct class_traffic {
  double share = 0.0;
  double input_tok = 0.0;
  double output_tok = 0.0;
};

/// @brief FREESH's class names in the order of freesh_request_classes (the planner's TTFT filter reads the first
/// letter: S short prompt, L long).
inline const std::array<std::string, freesh_request_classes::count> freesh_class_names{"SS", "SL", "LS", "LL"};

/// @brief The lengths of `draws` requests of `mix`, as a mix_source seeded with `seed` draws them.
/// @throws config_error when draws is 0 or the mix is invalid.
[[nodiscard]] inline std::vector<token_pair> drawn_lengths(const workload_mix& mix, std::size_t draws,
                                                           std::uint64_t seed) {
  if (draws == 0) joulesched::detail::fail("drawn_lengths", "draws", 0, "must be >= 1");
  mix_source_options o;
  o.max_requests = draws;
  o.seed = seed;
  mix_source src(mix, o);
  std::vector<token_pair> lengths;
  lengths.reserve(draws);
  request r;
  while (src.next(r)) lengths.push_back({r.input_tok, r.output_tok});
  return lengths;
}

/// @brief The shares and mean lengths of FREESH's four classes among `requests`, classified by their true
/// lengths. A class no request falls in has share 0 and lengths 0. @throws config_error when requests is empty.
[[nodiscard]] inline std::array<class_traffic, freesh_request_classes::count> freesh_traffic(
    const std::vector<token_pair>& requests, const freesh_request_classes& classes) {
  if (requests.empty()) joulesched::detail::fail("freesh_traffic", "requests", 0, "must not be empty");
  std::array<class_traffic, freesh_request_classes::count> t{};
  std::array<std::size_t, freesh_request_classes::count> n{};
  for (const token_pair& r : requests) {
    const std::size_t c = classes(request_view{r.output_tok, r.input_tok, 0.0, tier::interactive});
    ++n[c];
    t[c].input_tok += r.input_tok;
    t[c].output_tok += r.output_tok;
  }
  for (std::size_t c = 0; c < t.size(); ++c) {
    t[c].share = static_cast<double>(n[c]) / static_cast<double>(requests.size());
    if (n[c] > 0) {
      t[c].input_tok /= static_cast<double>(n[c]);
      t[c].output_tok /= static_cast<double>(n[c]);
    }
  }
  return t;
}

/// @brief The profile of class traffic `c` on one instance of model `m`, its max_qps `capacity_fraction` of
/// saturation (see the file note).
[[nodiscard]] inline plan::freesh_profile freesh_profile_of(const device_model& m, std::size_t gpu_type,
                                                            const class_traffic& c, double capacity_fraction = 1.0) {
  plan::freesh_profile p;
  p.gpu_type = gpu_type;
  p.gpus = 1;
  if (!(c.share > 0.0 && c.output_tok >= 1.0)) return p;  // no traffic: max_qps 0, the mode cannot serve it
  const operating_point full{1.0, c.input_tok + c.output_tok / 2.0, c.input_tok + c.output_tok};
  const std::uint32_t b = nominal_batch(m, full);
  const double ttft_s = m.prefill_base_s + m.prefill_per_tok_s * c.input_tok;
  const double tbt_s = m.decode_step_s(b, static_cast<std::uint64_t>(static_cast<double>(b) * full.mean_ctx_tok));
  p.max_qps = capacity_fraction * saturation_rps(m, c.input_tok, c.output_tok);
  p.power_w = m.busy_power_w(b);
  p.ttft_ms = 1e3 * ttft_s;
  p.tbt_ms = 1e3 * tbt_s;
  p.e2e_latency_s = ttft_s + (c.output_tok - 1.0) * tbt_s;
  return p;
}

/// @brief FREESH's program for `fleet` over `steps` 5-minute steps: the request rate at each step's start is
/// `rate_rps(t_s)` (simulated seconds), shared among the classes by `traffic`; emission per site from `carbon`
/// (null: 1 everywhere, for the energy objective), each instance's max_qps `capacity_fraction` of its saturation.
/// GPU types are the fleet's, numbered as sim_devices numbers them (in order of first appearance).
/// @throws config_error when steps is 0, capacity_fraction is not in (0, 1], a rate is not finite and >= 0, or
/// the series does not cover the steps.
[[nodiscard]] inline plan::freesh_inputs freesh_program(
    const fleet_spec& fleet, const std::array<class_traffic, freesh_request_classes::count>& traffic, std::size_t steps,
    const std::function<double(double)>& rate_rps, const carbon_accounting* carbon, double capacity_fraction = 1.0) {
  if (steps == 0) joulesched::detail::fail("freesh_program", "steps", 0, "must be >= 1");
  if (!(capacity_fraction > 0.0 && capacity_fraction <= 1.0))
    joulesched::detail::fail("freesh_program", "capacity_fraction", capacity_fraction, "must be in (0, 1]");
  plan::freesh_inputs in;
  in.sites.source = fleet.source;
  in.sites.names = fleet.sites;
  // GPU types, their models and the inventory as the simulator numbers them (sim_devices), so that mode k is the
  // simulator's type k (freesh_pool_plan).
  const sim_devices devices = sim_devices::from(fleet);
  in.sites.gpu_types = devices.type_names;
  const std::size_t types = in.sites.gpu_types.size();
  std::vector<const device_model*> model_of_type(types, nullptr);
  in.sites.installed.assign(fleet.sites.size() * types, 0);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (!model_of_type[devices.type[i]]) model_of_type[devices.type[i]] = devices.model[i];
    ++in.sites.installed[devices.site[i] * types + devices.type[i]];
  }
  in.profiles.source = fleet.source + " (profiles of its device models)";
  in.profiles.classes.assign(freesh_class_names.begin(), freesh_class_names.end());
  for (std::size_t k = 0; k < types; ++k) in.profiles.modes.push_back(in.sites.gpu_types[k] + " x1");
  for (const class_traffic& c : traffic)  // rows [class x modes + mode]
    for (std::size_t k = 0; k < types; ++k)
      in.profiles.rows.push_back(freesh_profile_of(*model_of_type[k], k, c, capacity_fraction));
  in.demand_qps.columns = in.profiles.classes;
  in.emission.columns = in.sites.names;
  in.demand_qps.steps = in.emission.steps = steps;
  in.demand_qps.source = "the workload's rate";
  in.emission.source = carbon ? "the carbon accounting's series" : "1 (energy objective)";
  for (std::size_t t = 0; t < steps; ++t) {
    const double t_s = static_cast<double>(t) * plan::freesh_step_s;
    const double rate = rate_rps(t_s);
    if (!(rate >= 0.0 && rate < std::numeric_limits<double>::infinity()))
      joulesched::detail::fail("freesh_program: step " + std::to_string(t), "rate_rps", rate,
                               "must be finite and >= 0");
    for (const class_traffic& c : traffic) in.demand_qps.values.push_back(rate * c.share);
    for (std::size_t s = 0; s < fleet.sites.size(); ++s) {
      if (!carbon) {
        in.emission.values.push_back(1.0);
        continue;
      }
      const double at = carbon->offset_s + t_s;
      if (!(at < carbon->series->span_s()))
        joulesched::detail::fail("freesh_program: step " + std::to_string(t), "carbon series end",
                                 carbon->series->span_s() - carbon->offset_s,
                                 "is before the step's start: the series must cover every planned step");
      in.emission.values.push_back(carbon->pue_of_site[s] * carbon->series->at(carbon->zone_of_site[s], at));
    }
  }
  return in;
}

/// @brief The pool plan of one optimal window over the fleet's devices: for each class, one group per (site,
/// mode) the window gives instances, its devices the next that many devices of that type at that site (in id
/// order, each device in one class at most), its capacity instances x the mode's max_qps. A window that is not
/// optimal gives the empty plan (every class falls back to least loaded in plan_router).
/// `devices` must be the fleet `in` was built from (sim_devices of the same fleet_spec).
/// @throws config_error when the devices' GPU types are not the program's, or a window's instances exceed them.
[[nodiscard]] inline pool_plan freesh_pool_plan(const plan::freesh_inputs& in, const plan::freesh_window_plan& w,
                                                const sim_devices& devices) {
  const std::size_t classes = in.profiles.classes.size(), modes = in.profiles.modes.size();
  pool_plan plan(classes);
  if (w.status != plan::milp_status::optimal) return plan;
  if (devices.type_names != in.sites.gpu_types)
    joulesched::detail::fail("freesh_pool_plan", "devices' GPU types", devices.type_names.size(),
                             "must be the program's, in its order (sim_devices of the fleet it was built from)");
  // Devices by (site, mode), in id order; mode k is GPU type k (one GPU per instance).
  std::vector<std::vector<device_id>> pool(in.sites.names.size() * modes);
  for (std::size_t i = 0; i < devices.size(); ++i)
    pool[devices.site[i] * modes + devices.type[i]].push_back(static_cast<device_id>(i));
  std::vector<std::size_t> used(pool.size(), 0);
  for (std::size_t n = 0; n < in.sites.names.size(); ++n)
    for (std::size_t r = 0; r < classes; ++r)
      for (std::size_t k = 0; k < modes; ++k) {
        const std::uint32_t x = w.instances[(n * classes + r) * modes + k];
        if (x == 0) continue;
        std::vector<device_id>& from = pool[n * modes + k];
        std::size_t& u = used[n * modes + k];
        if (u + x > from.size())
          joulesched::detail::fail("freesh_pool_plan: window " + std::to_string(w.window), "instances", x,
                                   "exceed the devices of " + in.profiles.modes[k] + " at " + in.sites.names[n]);
        plan_group g;
        g.devices.assign(from.begin() + static_cast<std::ptrdiff_t>(u),
                         from.begin() + static_cast<std::ptrdiff_t>(u + x));
        g.capacity_rps = x * in.profiles.at(r, k).max_qps;
        u += x;
        plan[r].push_back(std::move(g));
      }
  return plan;
}

}  // namespace joulesched::sim
