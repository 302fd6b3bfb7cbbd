// The batch-aware pieces of the energy_profile policy: a device model's profile (sim/model_profile.hpp), the
// profile cost's prediction of a request's service at the batch it joins, and routers reserving that prediction.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/model_profile.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {
device_model shipped(const char* name) {
  return load_device_model(std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "devices" / name);
}
}  // namespace

TEST_CASE("model_profile.grid_points_are_the_models_own_decode") {
  const device_model m = shipped("H100-SXM5-80GB.csv");
  const energy_profile p = profile_of(m);
  CHECK(p.max_batch() == m.max_batch);
  for (const std::uint32_t b : {1u, 8u, 64u}) {
    const double c = 1024;  // b * c stays within the KV cache
    REQUIRE(b * c <= static_cast<double>(m.kv_capacity_tok));
    const double step = m.decode_step_s(b, static_cast<std::uint64_t>(b * c));
    const profile_point at = p.eval(b, c);
    CHECK(at.rate_tok_s == doctest::Approx(b / step));
    CHECK(at.energy_j_per_tok == doctest::Approx(m.busy_power_w(b) * step / b));
  }
}

TEST_CASE("model_profile.a_kv_bound_batch_serves_no_faster") {
  // At 131,072 tokens of context the H100's KV cache (410,404 tokens) holds 3 requests: batch 64 runs as 3.
  const device_model m = shipped("H100-SXM5-80GB.csv");
  const energy_profile p = profile_of(m);
  const double c = 131072;
  const auto fit = static_cast<std::uint32_t>(static_cast<double>(m.kv_capacity_tok) / c);
  REQUIRE(fit == 3);
  const double step = m.decode_step_s(fit, static_cast<std::uint64_t>(fit * c));
  CHECK(p.eval(64, c).rate_tok_s == doctest::Approx(fit / step));
  CHECK(p.eval(64, c).rate_tok_s == doctest::Approx(p.eval(4, c).rate_tok_s));
}

TEST_CASE("profile_cost.predicts_at_the_joined_batch_and_routers_reserve_it") {
  const device_model m = shipped("H100-SXM5-80GB.csv");
  const energy_profile prof = profile_of(m);
  device_params p = params_at_batch(m, 0, 1);
  p.profile = &prof;
  const request_view v{201, 1024, 100.0, tier::interactive};
  const profile_cost cost(0.0);
  // Alone (no request reserved) the profile's decode is batch 1's: the same work as params_at_batch(m, 1).
  const double alone = cost.work_s(p, device_load{0, 0}, v);
  CHECK(alone == doctest::Approx(predict_service(p, v).work_s).epsilon(0.02));
  // Joining 63 others, each decode token costs the device a 64th of a (longer) step: far less device time.
  const double joined = cost.work_s(p, device_load{0, 63}, v);
  CHECK(joined < 0.5 * alone);
  // A router over the profile cost reserves exactly what the cost predicts on the device it picks.
  fleet f(std::vector<device_params>{p, p});
  argmin_router<profile_cost> router(f, cost);
  const auto a = router.route(v);
  REQUIRE(a);
  CHECK(a->work_ns == to_work_ns(alone));
  CHECK(f.load(a->device).reserved_ns == a->work_ns);
  // The next request sees a device running one: it prefers joining it (cheaper per token at a bigger batch).
  const auto b = router.route(v);
  REQUIRE(b);
  CHECK(b->device == a->device);
  CHECK(b->work_ns == to_work_ns(cost.work_s(p, device_load{a->work_ns, 1}, v)));
  CHECK(router.release(*a));
  CHECK(router.release(*b));
  CHECK(f.load(a->device).reserved_ns == 0);
}
