// The physics of one simulated device: the decode plan's closed form against a step-by-step sum, the steps done
// by a time as its inverse, and when the head of the queue may be admitted.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>

#include "joulesched/sim/batching_device.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {
double now_s = 0;
batching_device device_of(const device_model& m) {
  return batching_device(m, 0, 0, discipline_key(queue_discipline::fcfs, 1000.0), sim_clock{&now_s});
}
}  // namespace

TEST_CASE("batching_device.plan_time_is_the_sum_of_its_steps_and_steps_done_inverts_it") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    device_model m = test::simple_model(64, 1'000'000);
    m.decode_step_per_ctx_tok_s = trial % 4 == 0 ? 0.0 : 1e-7 * u(rng);
    batching_device d = device_of(m);
    d.batch = static_cast<std::uint32_t>(1 + rng() % 64);
    const auto ctx0 = static_cast<double>(rng() % 100'000);
    d.plan_a_s = 0.005 + 0.02 * u(rng) + m.decode_step_per_ctx_tok_s * ctx0;
    d.plan_k = 1 + rng() % 500;
    // Step j (from 0) runs with the context grown by batch x j: the closed form must equal the sum.
    double sum = 0;
    for (std::uint64_t j = 0; j < d.plan_k; ++j)
      sum += d.plan_a_s + m.decode_step_per_ctx_tok_s * static_cast<double>(d.batch) * static_cast<double>(j);
    CHECK(d.plan_time(d.plan_k) == doctest::Approx(sum).epsilon(1e-12));
    for (std::uint64_t k = 1; k < d.plan_k; k += 1 + d.plan_k / 7) {
      CAPTURE(k);
      CHECK(d.steps_done(d.plan_time(k)) == k);
      CHECK(d.steps_done(d.plan_time(k) * (1 - 1e-9)) == k - 1);
    }
    CHECK(d.steps_done(d.plan_time(d.plan_k) * 2) == d.plan_k - 1);  // never the whole plan: that is its event
  }
}

TEST_CASE("batching_device.the_head_fits_while_batch_and_kv_have_room") {
  const device_model m = test::simple_model(2, 100);
  batching_device d = device_of(m);
  CHECK_FALSE(d.head_fits());  // nothing waits
  live_request r;
  r.input_tok = 40;
  r.output_tok = 20;
  d.waiting.push(r);
  CHECK(d.head_fits());
  d.kv_tok = 41;  // 41 + 60 > 100
  CHECK_FALSE(d.head_fits());
  d.kv_tok = 40;
  d.batch = 2;  // the batch is full
  CHECK_FALSE(d.head_fits());
  d.waiting.clear();
}
