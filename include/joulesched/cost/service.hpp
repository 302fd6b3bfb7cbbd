/// @file service.hpp
/// @brief What a request costs on a device at its operating point: device-seconds of work, joules, and the
/// times to its first and last token. Every cost term and every router's reservation reads it.
///
/// The model is device_params' (types.hpp): a prefill pass of request_s + prefill_s_per_tok * in seconds that
/// yields the first token, then t - 1 decode tokens of 1 / rate_tok_s + ctx_s_per_tok * ctx device-seconds each
/// (ctx = in + t / 2, the mean context over the decode), energies alike; the request's own decode latency is
/// `batch` times its device time. With t = 0 (no output estimated) only the prefill is priced. The device's
/// network_s (the round trip between its site and the users) adds to the first and the last token's times, not
/// to its work.
///
/// Served alone (batch 1) this is exactly what the simulator's device model does to a request, up to the
/// prefill's context (the simulator's decode steps see contexts in + 1 .. in + t - 1, whose mean is in + t / 2):
/// tests/cost/service_agreement_test.cpp checks the two within 1%.
/// Cost: a handful of multiply-adds and one division, noexcept, no allocation.
#pragma once

#include <cmath>
#include <cstdint>

#include "joulesched/types.hpp"

namespace joulesched {

/// @brief The predicted service of one request on one device.
struct service_estimate {
  double work_s = 0;            ///< device-seconds it occupies (what a router reserves)
  double energy_j = 0;          ///< joules it costs
  double first_token_s = 0;     ///< from its start to its first token (its prefill)
  double latency_s = 0;         ///< from its start to its last token
  double tbt_s = 0;             ///< its time between tokens after the first, at the operating batch
  double decode_s_per_tok = 0;  ///< device-seconds of one decode token: its share of a step
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
  e.first_token_s = prefill_s + d.network_s;
  e.tbt_s = d.batch * per_tok_s;
  e.decode_s_per_tok = per_tok_s;
  e.latency_s = e.first_token_s + decode_tok * e.tbt_s;
  return e;
}

namespace detail {
/// The estimate `e` of a request that starts once the device's backlog of `backlog_s` seconds is done.
[[nodiscard]] constexpr service_estimate after(double backlog_s, service_estimate e) noexcept {
  e.first_token_s += backlog_s;
  e.latency_s += backlog_s;
  return e;
}
}  // namespace detail

/// @brief The service of `r` on a device of parameters `d` that holds `backlog_s` device-seconds of reserved
/// work (queued and running requests), as a continuously batching engine serves it, the backlog taken as
/// requests like this one (the router knows no other measure of it that keeps the argmin exact):
/// - the device holds n = backlog_s / work_s + 1 of them with this one; those beyond its capacity (requests of
///   its traffic it holds at once) wait, so the request is admitted after max(0, n - capacity) x work_s seconds;
/// - it decodes in a batch of j = min(n, capacity): a step of step_s + j x (decode device-seconds per token -
///   step_s / batch), the step linear in the batch through the operating point;
/// - batch-mates' prefills stall its decode (the engine runs prefills between decode steps, as vLLM without
///   chunked prefill; with chunked prefill the stall is spread over steps, the mean time between tokens alike).
///   Each request of the device's traffic brings its prefill p once per w of work; in steady state the device
///   therefore spends p / (w - p) seconds in prefills per second of decode, of which a share 1 - 1 / j is the
///   other requests'. The step is stretched by that factor: alone (j = 1) the request is not stalled.
/// first_token_s and latency_s count from now and tbt_s includes the stalls; work_s and energy_j are
/// predict_service's. Every time is nondecreasing in backlog_s, so a cost of them is monotone in load. A request
/// of no work waits for the whole backlog. With the defaults (step_s 0, batch 1, no capacity limit) and no
/// prefill this is the fluid estimate: latency backlog_s + predict_service's latency.
[[nodiscard]] inline service_estimate predict_behind(const device_params& d, const request_view& r,
                                                     double backlog_s) noexcept {
  service_estimate e = predict_service(d, r);
  if (!(e.work_s > 0.0)) return detail::after(backlog_s, e);
  const double decode_tok = decode_tokens(r);
  const double n = backlog_s / e.work_s + 1.0;
  const double joined = std::fmin(n, d.capacity);
  const double step_s = d.step_s + joined * std::fmax(0.0, e.decode_s_per_tok - d.step_s / d.batch);
  const double prefill_s = prefill_time_s(d, r);
  const double decode_s = e.work_s - prefill_s;
  const double stall = decode_s > 0.0 ? (1.0 - 1.0 / joined) * prefill_s / decode_s : 0.0;
  e.tbt_s = step_s * (1.0 + stall);
  e.first_token_s += std::fmax(0.0, n - d.capacity) * e.work_s;
  e.latency_s = e.first_token_s + decode_tok * e.tbt_s;
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
