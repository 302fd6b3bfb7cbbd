// What a router predicts a request costs (cost/service.hpp over sim::params_at_batch) against what the simulator's
// device model does to that request served alone, for every shipped device model: within 1% in time and energy.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "joulesched/cost/service.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {

std::vector<std::filesystem::path> shipped_device_models() {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "devices";
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".csv") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

struct measured {
  double latency_s = 0;  // arrival (t = 0) to completion
  double energy_j = 0;   // the device's energy over the run (it is busy throughout)
  double first_token_s = 0;
};

struct first_token_recorder {
  double first_token_s = -1;
  void on_power(device_id, double, double) noexcept {}
  void on_complete(std::uint64_t, device_id, double first, double) noexcept { first_token_s = first; }
};

// One device of model `m`, one request arriving at 0 on an idle device: what the simulator measures.
measured serve_alone(const device_model& m, std::uint32_t in, std::uint32_t out) {
  const sim_devices devs = test::devices_of({&m});
  fleet f(std::vector<device_params>{params_at_batch(m, 0, 1)});
  round_robin_router router(f);
  oracle_estimator est;
  no_control ctl;
  vector_source src;
  request r;
  r.input_tok = in;
  r.output_tok = out;
  r.deadline_s = 1e6;
  r.ttft_deadline_s = 1e6;
  src.requests = {r};
  simulator<round_robin_router, oracle_estimator, no_control, first_token_recorder> sim(devs, f, router, est, ctl);
  const sim_result res = sim.run(src);
  REQUIRE(res.completed == 1);
  CHECK(f.load(0).reserved_ns == 0);  // the reservation, corrected at the prompt's end, was all given back
  return {res.sim_time_s, res.energy_total_j, sim.observer().first_token_s};
}

double rel_error(double predicted, double truth) { return std::abs(predicted - truth) / truth; }

}  // namespace

TEST_CASE("service.predicted_alone_matches_the_simulator_within_1_percent") {
  // Prompt-heavy (a code-completion shape and a long-context one), decode-heavy, and balanced requests.
  struct shape {
    std::uint32_t in, out;
  };
  const shape shapes[] = {{2048, 28}, {8000, 16}, {30000, 64}, {100, 1000}, {20, 4000}, {512, 256}, {1, 1}};
  const auto models = shipped_device_models();
  REQUIRE(models.size() >= 3);
  double worst = 0;
  for (const auto& path : models) {
    const device_model m = load_device_model(path);
    const device_params p = params_at_batch(m, 0, 1);
    for (const shape s : shapes) {
      if (std::uint64_t{s.in} + s.out > m.kv_capacity_tok) continue;
      CAPTURE(path.filename().string());
      CAPTURE(s.in);
      CAPTURE(s.out);
      const measured truth = serve_alone(m, s.in, s.out);
      request_view v{s.out, s.in, 1e6, tier::interactive};
      const service_estimate e = predict_service(p, v);
      CHECK(rel_error(e.latency_s, truth.latency_s) < 0.01);
      CHECK(rel_error(e.work_s, truth.latency_s) < 0.01);  // alone, the request's device time is its latency
      CHECK(rel_error(e.energy_j, truth.energy_j) < 0.01);
      CHECK(rel_error(e.first_token_s, truth.first_token_s) < 0.01);
      worst = std::max({worst, rel_error(e.latency_s, truth.latency_s), rel_error(e.energy_j, truth.energy_j)});
    }
  }
  MESSAGE("worst relative error over every shipped model and shape: " << worst);
}

TEST_CASE("service.operating_batch_divides_device_time_not_latency") {
  // At batch b a request's share of each decode step is step(b) / b, and it waits the whole step per token.
  const device_model m = load_device_model(shipped_device_models().front());
  const device_params p1 = params_at_batch(m, 0, 1);
  const device_params p64 = params_at_batch(m, 0, 64);
  const request_view v{1001, 100, 1e6, tier::interactive};
  const double step64 = m.decode_step_s(64, 64 * 600);  // mean context 100 + 1001 / 2 ~ 600 per request
  const service_estimate e = predict_service(p64, v);
  CHECK(e.tbt_s == doctest::Approx(step64).epsilon(0.001));
  CHECK(e.work_s - e.first_token_s == doctest::Approx(1000 * step64 / 64).epsilon(0.001));
  CHECK(predict_service(p64, v).work_s < predict_service(p1, v).work_s);  // batching shares the device
}
