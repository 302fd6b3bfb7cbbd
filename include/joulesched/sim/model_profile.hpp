/// @file model_profile.hpp
/// @brief The energy profile of a device model: energy per decode token and decode rate over a grid of batch
/// sizes and per-request contexts, computed from the model's own formulas.
///
/// When to use: to give a batch-aware router (profile_cost) the profile of a simulated device, so that what it
/// believes is what the simulated device does. data/profiles/*.csv are the same grid written by
/// scripts/fit_device_models.py for engines that load a file; the simulator builds it in memory instead, so a
/// fleet file's models and their profiles cannot drift apart.
/// Grid: batch sizes 1, 2, 4, ... below max_batch, then max_batch; contexts 128 to 131,072 tokens by powers of 2
/// (ASSUMPTION: spans the prompts of the bundled and common traces; the profile clamps beyond its edges).
/// At (b, c): the device runs e = min(b, max(1, floor(kv_capacity_tok / c))) requests, since its KV cache holds no
/// more of that context (ASSUMPTION: a request reserves about its mean context c; the rest of a batch of b waits),
/// and rate = e / decode_step_s(e, e c), energy = busy_power_w(e) x decode_step_s(e, e c) / e. Without that cap a
/// router would believe a KV-bound device serves a deep queue at its batch limit's rate, and overload it.
/// Cost: O(grid) = O(log max_batch x 11) to build; eval as energy_profile.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/sim/device_model.hpp"

namespace joulesched::sim {

/// @brief The profile of `m` (see the file note). @throws config_error if the model gives a rate or energy the
/// profile refuses (a validated model does not).
[[nodiscard]] inline energy_profile profile_of(const device_model& m) {
  std::vector<double> batches;
  for (std::uint32_t b = 1; b < m.max_batch; b *= 2) batches.push_back(b);
  batches.push_back(m.max_batch);
  std::vector<double> contexts;
  for (double c = 128; c <= 131072; c *= 2) contexts.push_back(c);
  std::vector<double> energy, rate;
  for (const double b : batches) {
    for (const double c : contexts) {
      const double e = std::min(b, std::max(1.0, std::floor(static_cast<double>(m.kv_capacity_tok) / c)));
      const auto ei = static_cast<std::uint32_t>(e);
      const double step_s = m.decode_step_s(ei, static_cast<std::uint64_t>(e * c));
      rate.push_back(e / step_s);
      energy.push_back(m.busy_power_w(ei) * step_s / e);
    }
  }
  return energy_profile(m.gpu + "/" + m.serving_model, std::move(batches), std::move(contexts), energy, rate);
}

}  // namespace joulesched::sim
