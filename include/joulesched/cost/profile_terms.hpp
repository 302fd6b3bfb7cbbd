/// @file profile_terms.hpp
/// @brief Cost terms that read a device's energy profile: energy per token and rate at the batch size the
/// device would run with this request added, and the request's sequence length.
///
/// Measured energy per token falls steeply with batch size (ML.ENERGY v2: Llama-3.1-8B on A100, about
/// 0.21 J/token at batch 32 and 0.11 at batch 320), so a device that already runs a big batch serves the
/// next request more cheaply. That makes these terms NOT monotone in load: routers using them take the
/// exact scan path. A device without a profile falls back to its nominal eps_n and mu_n.
/// Cost: one profile eval (two binary searches over small axes), no allocation.
#pragma once

#include <algorithm>

#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

namespace detail {
[[nodiscard]] inline profile_point profile_at(const device_params& d, const device_load& l,
                                              const request_view& r) noexcept {
  if (d.profile == nullptr) return profile_point{d.energy_j_per_tok, d.rate_tok_s};
  const double batch = static_cast<double>(l.requests) + 1.0;
  const double seq_len_tok = static_cast<double>(r.input_tok) + static_cast<double>(r.work_tok);
  return d.profile->eval(batch, seq_len_tok);
}
}  // namespace detail

/// @brief eps(batch + 1, seq) * t_r: joules at the batch the device would run with this request.
struct profile_energy_term {
  static constexpr bool monotone_in_load = false;
  [[nodiscard]] double operator()(const device_params& d, const device_load& l,
                                  const request_view& r) const noexcept {
    return detail::profile_at(d, l, r).energy_j_per_tok * r.work_tok;
  }
};

/// @brief max(0, (q_n + t_r) / mu(batch + 1, seq) - D_r): lateness with the profile's rate at that batch.
/// A rate_tok_s in a profile is the device's total token rate at that batch.
struct profile_slo_penalty_term {
  static constexpr bool monotone_in_load = false;
  [[nodiscard]] double operator()(const device_params& d, const device_load& l,
                                  const request_view& r) const noexcept {
    const double rate = detail::profile_at(d, l, r).rate_tok_s;
    return std::max(0.0, (static_cast<double>(l.queued_tok) + r.work_tok) / rate - r.budget_s);
  }
};

}  // namespace joulesched
