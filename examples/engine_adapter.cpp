// How an engine adapts its own device and request types to joulesched, then routes requests with the
// energy-aware router and with a tiered router. Nothing here inherits from a joulesched type.
//
// Build: part of the examples (JOULESCHED_BUILD_EXAMPLES). Run: ./engine_adapter
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/tiers/classifiers.hpp"

namespace my_engine {

// The engine's own worker record, with its own names.
struct gpu_worker {
  std::string name;
  double tokens_per_second;  // measured at the engine's usual batch size
  double joules_per_token;   // measured with NVML's energy counter
  unsigned region;
};

// The engine's own request record.
struct inference_request {
  unsigned prompt_tokens;
  double deadline_unix_s;
  bool batch_job;
};

}  // namespace my_engine

// Two traits specialisations are the whole adaptation.
template <>
struct joulesched::device_traits<my_engine::gpu_worker> {
  static double rate_tok_s(const my_engine::gpu_worker& w) { return w.tokens_per_second; }
  static double energy_j_per_tok(const my_engine::gpu_worker& w) { return w.joules_per_token; }
  static site_id site(const my_engine::gpu_worker& w) { return w.region; }
  static const energy_profile* profile(const my_engine::gpu_worker&) { return nullptr; }
};

template <>
struct joulesched::request_traits<my_engine::inference_request> {
  static double input_tok(const my_engine::inference_request& r) { return r.prompt_tokens; }
  static double deadline_s(const my_engine::inference_request& r) { return r.deadline_unix_s; }
  static std::optional<tier> declared_tier(const my_engine::inference_request& r) {
    return r.batch_job ? tier::bulk : tier::interactive;
  }
};

static_assert(joulesched::Device<my_engine::gpu_worker>);
static_assert(joulesched::Request<my_engine::inference_request>);

int main() {
  using namespace joulesched;
  // Illustrative figures for the example only; the simulator's device models come from data/devices.
  const std::vector<my_engine::gpu_worker> workers{
      {"a100-0", 1850.0, 0.106, 0},
      {"a100-1", 1850.0, 0.106, 0},
      {"h100-0", 2340.0, 0.117, 0},
      {"l4-0", 400.0, 0.10, 0},
  };
  fleet f(workers, "workers");

  const double now_s = 1000.0;
  const std::vector<my_engine::inference_request> requests{
      {300, now_s + 2.0, false}, {1200, now_s + 4.0, false},   {4000, now_s + 3600.0, true},
      {200, now_s + 1.0, false}, {8000, now_s + 3600.0, true},
  };
  // The engine's length predictor would go here; a fixed guess per tier keeps the example short.
  auto estimate_output_tok = [](const my_engine::inference_request& r) { return r.batch_job ? 800.0 : 250.0; };

  std::puts("energy-aware router (lambda = 50 J/s):");
  argmin_router<joulesched_cost> energy(f, joulesched_cost(50.0));
  std::vector<assignment> placed;
  for (const auto& r : requests) {
    const auto a = energy.route(make_request_view(r, now_s, estimate_output_tok(r)));
    if (!a) {
      std::puts("  no device available");
      continue;
    }
    std::printf("  %5u-token prompt -> %s\n", r.prompt_tokens, workers[a->device].name.c_str());
    placed.push_back(*a);
  }
  for (const auto& a : placed) energy.release(a);  // the engine calls this when each request completes

  std::puts("tiered router (interactive: lambda = 500 J/s; bulk: energy first, lambda = 0.01 J/s):");
  tiered_router tiered(declared_tier_classifier{}, argmin_router<joulesched_cost>(f, joulesched_cost(500.0)),
                       argmin_router<joulesched_cost>(f, joulesched_cost(0.01)));
  f.set_available(1, false);  // drain a100-1 for maintenance: no router will pick it
  for (const auto& r : requests) {
    const auto a = tiered.route(make_request_view(r, now_s, estimate_output_tok(r)));
    std::printf("  %-11s %5u-token prompt -> %s\n", r.batch_job ? "bulk" : "interactive", r.prompt_tokens,
                a ? workers[a->device].name.c_str() : "(none)");
  }
  return 0;
}
