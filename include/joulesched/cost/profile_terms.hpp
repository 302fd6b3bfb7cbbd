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

#include "joulesched/cost/terms.hpp"
#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

namespace detail {
[[nodiscard]] inline profile_point profile_at(const device_params& d, const device_load& l,
                                              const request_view& r) noexcept {
  if (d.profile == nullptr) return profile_point{d.energy_j_per_tok, d.rate_tok_s};
  const double batch = static_cast<double>(l.requests) + 1.0;
  return d.profile->eval(batch, mean_context_tok(r));  // the seq axis read at the request's mean decode context
}

/// predict_service with the decode read from the profile at the batch the device would run with this request:
/// each decode token costs 1 / rate device-seconds and eps joules (the profile's sequence axis carries the
/// context, so the context terms are not added), the request's pacing is batch / rate. The prefill is the
/// device's (device_params). Without a profile: predict_service.
[[nodiscard]] inline service_estimate profile_service(const device_params& d, const device_load& l,
                                                      const request_view& r) noexcept {
  if (d.profile == nullptr) return predict_service(d, r);
  const profile_point p = profile_at(d, l, r);
  const double batch = static_cast<double>(l.requests) + 1.0;
  const double decode_tok = decode_tokens(r);
  const double prefill_s = prefill_time_s(d, r);
  service_estimate e;
  e.work_s = prefill_s + decode_tok / p.rate_tok_s;
  e.energy_j = prefill_energy_j(d, r) + decode_tok * p.energy_j_per_tok;
  // Each batch-mate's prompt is prefilled once while this request decodes, stalling it (the simulator's engine,
  // like vLLM without chunked prefill, runs prefills between decode steps): batch - 1 stalls of about this
  // request's own prefill, spread over its decode tokens.
  e.tbt_s = batch / p.rate_tok_s + (decode_tok > 0 ? (batch - 1.0) * prefill_s / decode_tok : 0.0);
  e.first_token_s = prefill_s + d.network_s;
  e.latency_s = e.first_token_s + decode_tok * e.tbt_s;
  return e;
}
}  // namespace detail

/// @brief The request's joules at the batch the device would run with it: the prefill plus eps(batch + 1, seq)
/// per decode token.
struct profile_energy_term {
  static constexpr bool monotone_in_load = false;
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    return detail::profile_service(d, l, r).energy_j;
  }
};

/// @brief slo_penalty_term's lateness with the decode rate the profile gives at that batch. A rate_tok_s in a
/// profile is the device's total token rate at that batch.
struct profile_slo_penalty_term {
  static constexpr bool monotone_in_load = false;
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    return detail::slo_lateness(detail::after(l.reserved_s(), detail::profile_service(d, l, r)), r, d.pacing_s);
  }
};

}  // namespace joulesched
