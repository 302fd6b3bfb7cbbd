// Random fleets and requests for router tests: fleets drawn from a few device types, so classes hold several
// devices and ties happen; requests with zero work, late deadlines and loose ones, TTFT budgets (some already
// missed) and pacing targets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include "joulesched/types.hpp"

namespace joulesched::test {

/// Device types: decode-only ones (rate and energy per token), and ones that also price the prefill, the
/// request and the context at an operating batch, two of them equal to a decode-only type but for those fields
/// (a different class of the same floor key) and two differing only by batch.
/// Fields: rate, eps, site, profile, prefill_s/j per prompt token, request_s/j, ctx_s/j per token, batch.
inline constexpr device_params palette[] = {
    {1000.0, 0.20},
    {2000.0, 0.12},
    {2000.0, 0.12, 1},
    {300.0, 0.10},
    {1000.0, 0.12},
    {4000.0, 0.30},
    {1000.0, 0.20, 0, nullptr, 1e-4, 0.03, 0.02, 5.0, 5e-7, 1e-4, 16.0},
    {2000.0, 0.12, 0, nullptr, 5e-5, 0.02, 0.01, 2.0, 2e-7, 5e-5, 32.0},
    {300.0, 0.10, 0, nullptr, 4e-4, 0.08, 0.05, 8.0, 1e-6, 2e-4, 4.0},
    {1000.0, 0.20, 0, nullptr, 1e-4, 0.03, 0.02, 5.0, 5e-7, 1e-4, 8.0},
};

/// n devices, each of one of the first k palette types (k drawn at random).
inline std::vector<device_params> random_fleet(std::mt19937_64& rng, std::size_t n) {
  const std::size_t types = 1 + rng() % std::size(palette);
  std::vector<device_params> ps(n);
  for (auto& p : ps) p = palette[rng() % types];
  return ps;
}

/// One device type with random coefficients: rates and energies from small sets (so floors and costs tie
/// across classes); three in four also price the prefill, the request and the context, at a random batch, fixed step
/// part and capacity.
inline device_params random_priced_params(std::mt19937_64& rng) {
  device_params p{200.0 * static_cast<double>(1 + rng() % 12), 0.05 * static_cast<double>(1 + rng() % 6)};
  if (rng() % 4 != 0) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    p.prefill_s_per_tok = 1e-4 * u(rng);
    p.prefill_j_per_tok = 0.05 * u(rng);
    p.request_s = 0.05 * u(rng);
    p.request_j = 10.0 * u(rng);
    p.ctx_s_per_tok = 1e-6 * u(rng);
    p.ctx_j_per_tok = 1e-4 * u(rng);
    constexpr double batches[] = {1.0, 1.5, 2.0, 8.0, 32.0, 256.0};
    p.batch = batches[rng() % std::size(batches)];
    // The fixed part of a step and a capacity (in one of three, none) shape the service behind a backlog.
    p.step_s = u(rng) * p.batch / p.rate_tok_s;
    if (rng() % 3 != 0) p.capacity = p.batch * static_cast<double>(1 + rng() % 4);
    // A pacing guard (in one of three) prices even requests without a target against the batch's step.
    if (rng() % 3 == 0) p.pacing_s = static_cast<double>(1 + rng() % 100) / 1000.0;
  }
  return p;
}

/// 1 to 40 classes of random_priced_params (enough for the floor-ordered visit by blocks, 8 classes and more),
/// every class at least once, then up to 39 more devices, shuffled.
inline std::vector<device_params> random_priced_fleet(std::mt19937_64& rng) {
  const std::size_t classes = 1 + rng() % 40;
  std::vector<device_params> kinds;
  while (kinds.size() < classes) {
    const device_params p = random_priced_params(rng);
    if (std::find(kinds.begin(), kinds.end(), p) == kinds.end()) kinds.push_back(p);
  }
  std::vector<device_params> ps(kinds);
  for (std::size_t extra = rng() % 40; extra > 0; --extra) ps.push_back(kinds[rng() % classes]);
  std::shuffle(ps.begin(), ps.end(), rng);
  return ps;
}

/// A quarter with no work; budgets from -5 s (already late) to 35 s; half with a TTFT budget from -2 s (already
/// missed) to 8 s; a third with a pacing target of 1 to 100 ms. Prompts below 2000 tokens, so that the backlogs
/// the concurrent tests build stay below concurrent_fleet::max_exact_load_ns.
inline request_view random_request(std::mt19937_64& rng) {
  request_view v;
  v.work_tok = rng() % 4 == 0 ? 0u : static_cast<std::uint32_t>(1 + rng() % 800);
  v.input_tok = static_cast<std::uint32_t>(rng() % 2000);
  v.budget_s = static_cast<double>(static_cast<std::int64_t>(rng() % 4000) - 500) / 100.0;
  if (rng() % 2 == 0) v.ttft_budget_s = static_cast<double>(static_cast<std::int64_t>(rng() % 1000) - 200) / 100.0;
  if (rng() % 3 == 0) v.tbt_s = static_cast<double>(1 + rng() % 100) / 1000.0;
  v.slo_class = static_cast<std::uint16_t>(rng() % 3);
  return v;
}

/// random_request, with one in three prompts large (up to 128k tokens: prefill-heavy) and one in eight outputs
/// long (up to 16k tokens: decode-heavy).
inline request_view random_priced_request(std::mt19937_64& rng) {
  request_view v = random_request(rng);
  if (rng() % 3 == 0) v.input_tok = static_cast<std::uint32_t>(rng() % 131072);
  if (rng() % 8 == 0) v.work_tok = static_cast<std::uint32_t>(1 + rng() % 16384);
  return v;
}

}  // namespace joulesched::test
