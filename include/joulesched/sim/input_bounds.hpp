/// @file input_bounds.hpp
/// @brief The plausibility bounds of every input the simulator reads: tokens per request, timestamps and
/// their jumps, line lengths, run windows and loads, and the coefficients of a device model.
///
/// When to use: a reader or a program that takes outside input checks it against these bounds. A value
/// beyond a bound is an error naming file, line, field and value (`config_error`); a reader run with
/// `lenient` skips the line and counts it instead. The bounds are wide on purpose: they exist to stop a
/// corrupt or hostile input from silently rescaling a run, overflowing arithmetic, or running without end,
/// not to judge a real workload. Each states its source or says it is an assumption.
///
/// Design: plain `inline constexpr` values, one place, no state. Changing a bound is a change of documented
/// behaviour (CHANGELOG).
#pragma once

#include <cstddef>
#include <cstdint>

namespace joulesched::sim::bounds {

// ---- requests ----

/// Most prompt tokens of one request. ASSUMPTION: the longest context window offered by a public model is
/// 10 M tokens (Llama 4 Scout, Meta, April 2025); a longer prompt is no request a serving system accepts.
inline constexpr std::uint64_t max_input_tok = 10'000'000;

/// Most output tokens of one request. ASSUMPTION: twice the largest output limit of public APIs in 2025
/// (128 K tokens: Anthropic's extended output; OpenAI's o-series allow 100 K). A row beyond it is corrupt.
inline constexpr std::uint64_t max_output_tok = 262'144;

// ---- timestamps ----

/// Azure-format timestamps must fall in [min_year-01-01, max_year+1-01-01) UTC. ASSUMPTION: no LLM serving
/// trace predates 2000, and 2099 leaves room; both keep nanoseconds since 1970 far inside int64.
inline constexpr int azure_min_year = 2000;
inline constexpr int azure_max_year = 2099;

/// Mooncake timestamps are milliseconds from the trace's start; they must lie in [0, this]. ASSUMPTION: one
/// leap year of milliseconds, the longest trace a simulator run replays (see max_trace_span_s).
inline constexpr double max_mooncake_timestamp_ms = 366.0 * 86'400.0 * 1'000.0;

/// Longest span of a trace (last arrival - first). ASSUMPTION: a year; the longest public LLM traces span
/// weeks to months (BurstGPT: 121 days).
inline constexpr double max_trace_span_s = 366.0 * 86'400.0;

/// Longest gap between two consecutive arrivals of a trace (after sorting). ASSUMPTION: a production service
/// that records no request for a whole day is two traces joined, or a row with a wrong date; such a row
/// would otherwise stretch the span and compress the real rows into a burst when the trace is scaled.
inline constexpr double max_arrival_gap_s = 86'400.0;

// ---- files ----

/// Longest line any reader accepts, in bytes. ASSUMPTION: a Mooncake line of a 10 M-token prompt lists
/// ~20 K block hashes of <= 10 digits, ~220 KB; 1 MiB is well above, and stops `/dev/zero` at once.
inline constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

/// Most bytes of a name read from a file: a device model's `gpu` and `serving_model`, a fleet's site.
/// ASSUMPTION: names are identifiers people type (NVIDIA's longest product names are ~40 characters).
inline constexpr std::size_t max_name_bytes = 256;

/// Most characters of a field's value echoed in an error message (longer values are cut and their length
/// given). ASSUMPTION: one terminal line.
inline constexpr std::size_t max_echo_chars = 80;

// ---- runs ----

/// Shortest measurement window of a run, when one is given (0 means "the whole run"). ASSUMPTION: one
/// millisecond is below any prefill; shorter (subnormal) windows lose the precision of every rate.
inline constexpr double min_window_s = 1e-3;

/// Latest arrival (and so simulated time) the simulator accepts, seconds. ASSUMPTION: 10^10 s (317 years)
/// holds Unix-epoch times; beyond ~10^12 s a double cannot resolve a millisecond, and at 10^15 s a run's
/// latencies were quantised to 0.125 s.
inline constexpr double max_arrival_s = 1e10;

/// Shortest control period (`SimControl::period_s()`) the simulator ticks at. ASSUMPTION: a millisecond is
/// below any request's service time; a period of 5e-324 s never let a run finish.
inline constexpr double min_control_period_s = 1e-3;

/// Longest measurement window of a run (`--duration`, and a trace's window after scaling). ASSUMPTION: a
/// year, the longest grid series the carbon-aware experiments replay.
inline constexpr double max_window_s = 366.0 * 86'400.0;

/// Highest offered load, as a fraction of saturation (`--utilisation`). ASSUMPTION: 2x saturation is deep
/// overload, enough for any stress experiment; queues grow without bound above 1 (a warning says so).
inline constexpr double max_utilisation = 2.0;

/// Most requests one run may expect to read (rate x window): 2^30. ASSUMPTION: about 13 minutes of simulation per
/// policy at 1.4 M requests/s (memory no longer grows with requests: the percentiles are streamed); a simulated
/// week of the default fleet at half load is 4e8. A larger figure is more likely a mistyped --duration.
inline constexpr double max_expected_requests = 1'073'741'824.0;

// ---- device models ----

/// Longest decode step or prefill pass a device model may imply, seconds: the bound on every time
/// coefficient is this over the largest multiplier it meets (max_batch, kv_capacity_tok). ASSUMPTION: a
/// forward pass of an LLM on a GPU takes milliseconds to seconds; a minute is corrupt input.
inline constexpr double max_pass_s = 60.0;

/// Most watts a device (one GPU, or one instance of several GPUs) may draw. ASSUMPTION: eight B200 at their
/// 1,200 W board limit (NVIDIA DGX B200 datasheet) are 9.6 kW; 20 kW leaves room.
inline constexpr double max_power_w = 20'000.0;

/// Client ids (request::client) are below this. ASSUMPTION: 2^20 clients; the fairness meter keeps a few bytes
/// per id up to the largest one seen (sim/fairness.hpp), so a corrupt id of 4e9 is refused, not allocated for.
inline constexpr std::uint32_t max_clients = std::uint32_t{1} << 20;

/// Largest batch a device model may declare. ASSUMPTION: serving engines cap concurrent sequences in the
/// thousands (vLLM max_num_seqs defaults to 256; ML.ENERGY v3 measures up to 1,024 on one GPU).
inline constexpr std::uint64_t max_batch = 65'536;

/// Largest KV capacity a device model may declare, tokens. ASSUMPTION: 8 x 192 GB of HBM at a few KB per
/// token is ~10^8-10^9 tokens; beyond 2^32 no single device holds it.
inline constexpr std::uint64_t max_kv_capacity_tok = 4'294'967'295;

}  // namespace joulesched::sim::bounds
