/// @file service.hpp
/// @brief What a request costs on a device at its operating point: device-seconds of work, joules, and the
/// times to its first and last token. Every cost term and every router's reservation reads it.
///
/// The model is device_params' (types.hpp): a prefill pass of request_s + prefill_s_per_tok * in seconds that
/// yields the first token, then t - 1 decode tokens of 1 / rate_tok_s + ctx_s_per_tok * ctx device-seconds each
/// (ctx = in + t / 2, the mean context over the decode), energies alike; the request's own decode latency is
/// `batch` times its device time. With t = 0 (no output estimated) only the prefill is priced.
///
/// Served alone (batch 1) this is exactly what the simulator's device model does to a request, up to the
/// prefill's context (the simulator's decode steps see contexts in + 1 .. in + t - 1, whose mean is in + t / 2):
/// tests/service_agreement_test.cpp checks the two within 1%.
/// Cost: a handful of multiply-adds and one division, noexcept, no allocation.
#pragma once

#include <cmath>
#include <cstdint>

#include "joulesched/types.hpp"

namespace joulesched {

/// @brief The predicted service of one request on one device.
struct service_estimate {
  double work_s = 0;         ///< device-seconds it occupies (what a router reserves)
  double energy_j = 0;       ///< joules it costs
  double first_token_s = 0;  ///< from its start to its first token (its prefill)
  double latency_s = 0;      ///< from its start to its last token
  double tbt_s = 0;          ///< its time between tokens after the first
};

/// @brief Output tokens that decode steps produce: all but the first, which the prefill yields.
[[nodiscard]] constexpr double decode_tokens(const request_view& r) noexcept {
  return r.work_tok > 0 ? static_cast<double>(r.work_tok - 1) : 0.0;
}

/// @brief The mean context of the request's decode steps: in + t / 2.
[[nodiscard]] constexpr double mean_context_tok(const request_view& r) noexcept {
  return static_cast<double>(r.input_tok) + 0.5 * static_cast<double>(r.work_tok);
}

/// @brief Seconds of the request's prefill pass on a device of parameters `d`: request_s + prefill_s_per_tok * in.
/// It yields the first token.
[[nodiscard]] constexpr double prefill_time_s(const device_params& d, const request_view& r) noexcept {
  return d.request_s + d.prefill_s_per_tok * static_cast<double>(r.input_tok);
}

/// @brief Joules of the same pass: request_j + prefill_j_per_tok * in.
[[nodiscard]] constexpr double prefill_energy_j(const device_params& d, const request_view& r) noexcept {
  return d.request_j + d.prefill_j_per_tok * static_cast<double>(r.input_tok);
}

/// @brief The service of `r` on a device of parameters `d` (see the file note).
[[nodiscard]] constexpr service_estimate predict_service(const device_params& d, const request_view& r) noexcept {
  const double decode_tok = decode_tokens(r);
  const double ctx = mean_context_tok(r);
  const double per_tok_s = 1.0 / d.rate_tok_s + d.ctx_s_per_tok * ctx;
  const double prefill_s = prefill_time_s(d, r);
  const double decode_s = decode_tok * per_tok_s;
  service_estimate e;
  e.work_s = prefill_s + decode_s;
  e.energy_j = prefill_energy_j(d, r) + decode_tok * (d.energy_j_per_tok + d.ctx_j_per_tok * ctx);
  e.first_token_s = prefill_s;
  e.tbt_s = d.batch * per_tok_s;
  e.latency_s = prefill_s + decode_tok * e.tbt_s;
  return e;
}

/// The most device-nanoseconds one assignment reserves: 2^50 ns, about 13 days. ASSUMPTION: no real request
/// needs more of one device; the bound keeps a device's sum of reservations far from 2^64 (2^14 such requests).
inline constexpr std::uint64_t max_work_ns = std::uint64_t{1} << 50;

/// @brief Seconds of work as whole nanoseconds, rounded up (a request that costs anything reserves >= 1 ns),
/// saturating at max_work_ns; 0 for a NaN or a value <= 0.
[[nodiscard]] inline std::uint64_t to_work_ns(double work_s) noexcept {
  const double ns = std::ceil(work_s * 1e9);
  if (!(ns > 0.0)) return 0;
  return ns >= static_cast<double>(max_work_ns) ? max_work_ns : static_cast<std::uint64_t>(ns);
}

/// @brief The device-nanoseconds a router reserves for `r` on a device of parameters `d`.
[[nodiscard]] inline std::uint64_t reserved_work_ns(const device_params& d, const request_view& r) noexcept {
  return to_work_ns(predict_service(d, r).work_s);
}

}  // namespace joulesched
