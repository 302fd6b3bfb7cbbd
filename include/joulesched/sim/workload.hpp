/// @file workload.hpp
/// @brief The workload a simulation runs: a mix of request classes (chat, RAG, batch, ...) with token-length
/// models and deadlines, a seeded synthetic request generator over it (`mix_source`), a trace replayer
/// (`trace_source`), a time-varying rate shape (`rate_shape`, with the ServeGen diurnal shape), and the
/// mean tokens per request that the engine needs to choose an arrival rate for a target utilisation.
///
/// When to use: to feed the simulator engine. `mix_source` for controlled experiments (any rate, any length
/// of run, identical streams per seed); `trace_source` to replay a production arrival process.
///
/// Design:
/// - A class is {name, share, tier, length model, deadline model}; a mix is a validated list of classes.
/// - Lengths: either empirical (input, output) pairs sampled uniformly with replacement (the chat class uses
///   the Azure 2023 conversation trace), or independent piecewise-linear quantile functions for input and
///   output; either way plus an optional uniform integer addition to the input (RAG's retrieved context).
/// - Deadlines: ttft_deadline_s = arrival_s + ttft_slo_s;
///   deadline_s = arrival_s + e2e_slo_s_base + e2e_slo_s_per_out_tok * output_tok (the usual
///   "TTFT + TPOT x output tokens" SLO); tbt_s = tbt_slo_s (a pacing target, not a deadline: the request's
///   mean time between tokens after the first must not exceed it; 0 = none). Note: deadline_s depends on the TRUE
///   output length, so a party that knows the class spec could back output_tok out of it; the engine must hand routers
///   only the budget, and a study of length-prediction error should keep that in mind (set e2e_slo_s_per_out_tok = 0
///   for a deadline that leaks nothing).
/// - Randomness: std::mt19937_64 (its output sequence is fixed by the C++ standard) with samplers written
///   here, never std:: distributions (whose algorithms differ between standard libraries). Arrivals and
///   labels/lengths use two engines seeded from the one seed, so changing the mix does not move arrival
///   times and changing the rate does not change the sequence of classes and lengths. Sequences are
///   bit-identical across platforms wherever std::log, std::sqrt and std::pow are correctly rounded (glibc,
///   the usual case); class choice and empirical sampling use only exact integer and IEEE arithmetic.
///
/// Cost: `mix_source::next` is O(1) per request (plus O(windows crossed) with a rate shape, and
/// O(quantile points) for quantile lengths), no allocation: about 0.1 us with Poisson arrivals and 0.3 us
/// with Gamma arrivals (g++ -O2, default mix, measured on a shared 2-core machine).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/detail/normal.hpp"
#include "joulesched/detail/splitmix64.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/request.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

// =========================================================================================================
// Declarations
// =========================================================================================================

/// @brief One (prompt, generation) length pair.
struct token_pair {
  std::uint32_t input_tok = 0;
  std::uint32_t output_tok = 0;
  friend bool operator==(const token_pair&, const token_pair&) = default;
};

/// @brief A point of a piecewise-linear quantile function: the `p`-quantile is `tok` tokens.
struct quantile_point {
  double p = 0;    ///< probability in [0, 1]
  double tok = 0;  ///< tokens (>= 0)
};

/// @brief How a class draws its token lengths.
///
/// Exactly one of: `pairs` non-empty (empirical pairs, drawn uniformly with replacement, keeping the
/// correlation of input and output), or both quantile lists given (input and output drawn independently,
/// each by inverting its piecewise-linear quantile function at a uniform u and rounding to nearest).
/// A quantile list has at least 2 points, p strictly increasing from exactly 0 to exactly 1, tok
/// non-decreasing, finite and within [0, 2^32 - 1]. Then a uniform integer in
/// [input_add_tok_min, input_add_tok_max] is added to the input (saturating at 2^32 - 1).
struct length_model {
  std::shared_ptr<const std::vector<token_pair>> pairs;  ///< empirical pairs (shared, not copied)
  std::vector<quantile_point> input_quantiles;           ///< used when `pairs` is empty
  std::vector<quantile_point> output_quantiles;          ///< used when `pairs` is empty
  std::uint32_t input_add_tok_min = 0;                   ///< added to every input, lower bound
  std::uint32_t input_add_tok_max = 0;                   ///< added to every input, upper bound (>= min)
};

/// @brief One workload class.
struct class_spec {
  std::string name;                                       ///< unique, non-empty ("chat", "rag", "batch")
  double share = 0;                                       ///< fraction of requests, > 0; shares sum to 1
  joulesched::tier tier = joulesched::tier::interactive;  ///< the tier routers see
  length_model lengths;                                   ///< token lengths of generated requests
  double ttft_slo_s = 0;                                  ///< time-to-first-token SLO, > 0
  double e2e_slo_s_base = 0;                              ///< end-to-end SLO, constant part, > 0
  double e2e_slo_s_per_out_tok = 0;                       ///< end-to-end SLO, per true output token, >= 0
  double tbt_slo_s = 0;                                   ///< time-between-tokens (pacing) target, >= 0; 0 = none
};

/// @brief The mix: classes in index order (`request::cls` indexes it). At most 256 classes.
struct workload_mix {
  std::vector<class_spec> classes;
};

/// @brief Checks a mix. Shares finite and > 0 summing to 1 within 1e-9; names non-empty and unique; SLOs
/// as documented in class_spec; length models as in length_model; 1..256 classes.
/// @throws config_error naming the field, e.g. "workload_mix: classes[1] (rag).share = -0.1: must be
/// finite and > 0".
void validate(const workload_mix& mix, std::string_view where = "workload_mix");

/// @brief The index of the class named `name`, or nothing.
[[nodiscard]] std::optional<std::size_t> find_class(const workload_mix& mix, std::string_view name) noexcept;

/// @brief Sets `r.ttft_deadline_s`, `r.deadline_s` and `r.tbt_s` from `r.arrival_s`, `r.output_tok` and the
/// class's SLOs (formulas in the file note). Used by both sources; the engine may use it for requests it makes itself.
void apply_deadlines(const class_spec& cls, request& r) noexcept;

/// @brief Mean tokens per request.
struct token_means {
  double input_tok = 0;   ///< E[input tokens per request]
  double output_tok = 0;  ///< E[output tokens per request]
  [[nodiscard]] double total_tok() const noexcept { return input_tok + output_tok; }
};

/// @brief The expected input and output tokens of one request drawn from the class's length model:
/// exact for empirical pairs (the mean over the table) and for the uniform input addition ((min+max)/2);
/// for quantile lengths, the mean of the continuous quantile function (the sampler rounds to nearest, so the
/// sample mean differs from it by less than 0.5 token).
[[nodiscard]] token_means mean_tokens(const class_spec& cls);

/// @brief The share-weighted mean over the mix's classes: the expected input and output tokens of one
/// request that `mix_source` generates. It does NOT describe a `trace_source`, whose tokens come from
/// the trace (use `mean_tokens(const trace&)`). To hold a fleet at utilisation U, with capacity expressed in
/// the same tokens as the engine's device rates: rate_rps = U * fleet_capacity_tok_s / (the matching mean:
/// output_tok when device rates count generated tokens, total_tok() when they count all tokens).
/// @throws config_error if the mix is invalid.
[[nodiscard]] token_means mean_tokens(const workload_mix& mix);

/// @brief Mean input and output tokens over a trace's rows (0, 0 for an empty trace).
[[nodiscard]] token_means mean_tokens(const trace& tr) noexcept;

/// @brief The (input, output) pairs of a trace, in row order.
[[nodiscard]] std::vector<token_pair> token_pairs(const trace& tr);

/// @brief Constants of `default_mix`, each with its source or the assumption behind it.
namespace mix_defaults {
/// Class shares 64% chat, 28% RAG, 8% batch: the workload mix of the JouleSched evaluation
/// as published by its authors (not measured by us).
inline constexpr double chat_share = 0.64;
inline constexpr double rag_share = 0.28;
inline constexpr double batch_share = 0.08;

/// Interactive SLOs: MLPerf Inference rules (mlcommons/inference_policies, inference_rules.adoc), latency
/// constraints of Llama3.1-8B, "conversational" category: TTFT 2000 ms, TPOT 100 ms (Llama2-70B's are
/// 2000 ms / 200 ms). MLPerf applies them at the 99th percentile; here every interactive request gets
/// them as its own deadlines. The TPOT is also every interactive request's pacing target (tbt_slo_s: the
/// mean time between its tokens after the first). Assumption: RAG gets the same targets as chat (a user
/// waits on both).
inline constexpr double interactive_ttft_slo_s = 2.0;
inline constexpr double interactive_tpot_slo_s = 0.1;

/// RAG retrieved context added to the chat prompt: uniform in [1024, 2048] tokens. Assumption, based on
/// the LlamaIndex defaults DEFAULT_CHUNK_SIZE = 1024 tokens and DEFAULT_SIMILARITY_TOP_K = 2
/// (llama_index constants.py): two retrieved chunks of at most 1024 tokens, the last chunk of a document
/// being shorter; Vertex AI RAG Engine also defaults to 1024-token chunks. Prompts of this size are
/// common in production: ServeGen's m-large input p90 is 592-7,314 tokens across its 6-hour windows.
inline constexpr std::uint32_t rag_context_tok_min = 1024;
inline constexpr std::uint32_t rag_context_tok_max = 2048;

/// Batch (bulk tier) deadlines: one hour for both TTFT and end to end, no per-token term. Assumption: the
/// batch APIs of OpenAI and Anthropic promise completion within 24 hours; one hour keeps batch deadlines
/// binding within an hour-long simulation while staying far looser than any interactive target.
inline constexpr double batch_slo_s = 3600.0;

/// Batch pacing target: none (0). Those batch APIs promise a completion time, not a token rate: nobody reads
/// a batch job's tokens as they stream.
inline constexpr double batch_tbt_slo_s = 0.0;

/// Batch lengths: summarisation of long documents. Assumption (no public trace labels batch jobs):
/// input piecewise-linear with quantiles p0 1024, p50 3072, p90 6144, p100 8192 tokens (documents that fit
/// the 8,192-token context of Llama-3-8B-class models with room for the summary); output p0 128, p50 256,
/// p100 512 tokens (a summary of up to about a page). The input range agrees in magnitude with ServeGen's
/// production m-large input p99 (2,406-13,989 tokens across its 6-hour windows).
inline constexpr quantile_point batch_input_quantiles[] = {{0.0, 1024}, {0.5, 3072}, {0.9, 6144}, {1.0, 8192}};
inline constexpr quantile_point batch_output_quantiles[] = {{0.0, 128}, {0.5, 256}, {1.0, 512}};

/// Where the bundled chat trace lives, relative to the source tree (first 10,000 rows of the Azure LLM
/// inference trace 2023, conversation service; see data/README.md).
inline constexpr std::string_view chat_trace_relpath = "data/traces/azure_conv_2023_excerpt.csv";
}  // namespace mix_defaults

/// @brief The default mix: chat (interactive, Azure pairs), rag (interactive, Azure pairs + retrieved
/// context), batch (bulk, long-input summarisation), with the constants in `mix_defaults`.
/// @param chat_pairs the empirical pairs for chat and RAG; must be non-empty.
/// @throws config_error if chat_pairs is null or empty.
[[nodiscard]] workload_mix default_mix(const std::shared_ptr<const std::vector<token_pair>>& chat_pairs);
/// @brief default_mix with the pairs of a trace (usually the bundled Azure excerpt).
[[nodiscard]] workload_mix default_mix(const trace& chat_trace);
/// @brief default_mix reading an Azure CSV, e.g. `source_dir / mix_defaults::chat_trace_relpath`.
[[nodiscard]] workload_mix default_mix(const std::filesystem::path& azure_csv);

/// @brief A piecewise-constant, cyclic multiplier of the arrival rate.
///
/// The multiplier at simulated time t is `multipliers[k % n]` with k = floor((t + offset_s) / window_s),
/// n = multipliers.size(). Empty `multipliers` means the constant 1. Multipliers are finite and >= 0, and at
/// least one is > 0. Normalise them to mean 1 (as `diurnal_shape_servegen` does) to keep `rate_rps` the
/// mean rate over a cycle.
struct rate_shape {
  double window_s = 600;            ///< length of one window, > 0
  std::vector<double> multipliers;  ///< per window; empty = constant 1
  double offset_s = 0;              ///< shape time at simulated time 0 (e.g. 43200 to start at noon), >= 0

  /// The multiplier in force at simulated time t_s >= 0.
  [[nodiscard]] double multiplier_at(double t_s) const noexcept;
  /// One cycle, window_s * multipliers.size() (0 when constant).
  [[nodiscard]] double period_s() const noexcept { return window_s * static_cast<double>(multipliers.size()); }
};

/// @brief Checks a rate shape. @throws config_error naming the field.
void validate(const rate_shape& shape, std::string_view where = "rate_shape");

/// @brief Reads a shape CSV with columns `window_start_s`, `window_len_s` and one column per series (`#`
/// comment lines allowed), taking the column `series`. Windows must be consecutive from 0 with one length.
/// The values are divided by their mean, so the result has mean multiplier 1.
/// @throws config_error naming file, line and field.
[[nodiscard]] rate_shape read_rate_shape(std::istream& in, std::string_view source_name, std::string_view series);

/// @brief The 24-hour diurnal rate shape of Alibaba Bailian production traffic (ServeGen, commit
/// f891d1189eb32b3868dfc443800c4150548c282a, Apache-2.0): 144 ten-minute windows, each the mean over 14 days
/// of that time of day, mean-normalised; derived by scripts/derive_diurnal_shape.py into
/// data/traces/servegen_diurnal_shape.csv (see data/WORKLOADS.md). Series: "m-large" (default; multiplier
/// 0.74-1.25), "m-mid" (0.81-1.16), "m-small" (0.65-1.55). m-large is the default because it is the
/// largest model, the kind a multi-GPU fleet serves; it was chosen before any policy was run on it.
/// The time of day of the ServeGen clock is not stated (its zone is unknown).
/// @param csv usually `source_dir / servegen_diurnal_shape_relpath`.
/// @param offset_s the time of day (seconds after 00:00 of the trace's day) at simulated time 0.
[[nodiscard]] rate_shape diurnal_shape_servegen(const std::filesystem::path& csv, std::string_view series = "m-large",
                                                double offset_s = 0);
inline constexpr std::string_view servegen_diurnal_shape_relpath = "data/traces/servegen_diurnal_shape.csv";

/// @brief Options of `mix_source`.
struct mix_source_options {
  double rate_rps = 1.0;    ///< mean arrival rate at multiplier 1, requests per second (> 0)
  double arrival_cv = 1.0;  ///< coefficient of variation of inter-arrival times: 1 = Poisson, else Gamma (> 0)
  rate_shape shape;         ///< time-varying multiplier of the rate (default: constant)
  double duration_s = std::numeric_limits<double>::infinity();             ///< no arrival at or after this time (> 0)
  std::uint64_t max_requests = std::numeric_limits<std::uint64_t>::max();  ///< at most this many requests
  std::uint64_t seed = 1;                                                  ///< the one seed of both random streams
};

/// @brief Generates requests from a mix: arrivals by a (possibly time-varying) renewal process, classes
/// by the shares, lengths by each class's model, deadlines by each class's SLOs.
///
/// Arrivals: with `arrival_cv == 1` a Poisson process: unit-mean exponential increments -log(u) of the
/// cumulative intensity Lambda(t) = integral of rate_rps * multiplier; with another CV, unit-mean Gamma
/// increments (shape 1/cv^2, Marsaglia-Tsang sampler), i.e. a Gamma renewal process in the time scale of
/// Lambda (exact for a constant rate). The first arrival is at the first increment after 0, not at 0.
/// Stops after `max_requests` requests or at the first arrival at or after `duration_s`, whichever comes
/// first; with neither set the stream is endless.
class mix_source final : public request_source {
 public:
  /// @throws config_error if the mix, the shape or an option is invalid (naming it).
  mix_source(workload_mix mix, mix_source_options opts);

  bool next(request& out) override;

  [[nodiscard]] const workload_mix& mix() const noexcept { return mix_; }
  [[nodiscard]] const mix_source_options& options() const noexcept { return opts_; }
  /// Requests produced so far.
  [[nodiscard]] std::uint64_t produced() const noexcept { return next_id_; }

 private:
  workload_mix mix_;
  mix_source_options opts_;
  std::vector<double> cum_share_;
  std::mt19937_64 arrivals_rng_;
  std::mt19937_64 labels_rng_;
  double gamma_shape_ = 1.0;
  double t_s_ = 0;
  std::int64_t window_ = 0;  // absolute index of the window holding t_s_ (shape only)
  std::uint64_t next_id_ = 0;
  bool done_ = false;
};

/// @brief Options of `trace_source`.
struct trace_source_options {
  double load_scale = 1.0;  ///< time compression: arrival_s = row.arrival_s / load_scale (> 0; 2 = twice the load)
  /// The trace is replayed this many times in order (>= 1), copy k shifted by k x the trace's span (its last
  /// arrival), so that bursts and lulls keep their shape while the replay fills a longer window. Request ids
  /// run on across copies (copy k's row i is id k x rows + i).
  std::size_t copies = 1;
  std::uint64_t seed = 1;                  ///< seed of the class labels
  std::optional<std::size_t> fixed_class;  ///< label every request with this class instead of by shares
};

/// @brief Replays a trace: every row exactly once, in order, ids 0.., arrival compressed by load_scale,
/// tokens as in the trace (the class's length model is not used), each request labelled with a class
/// (drawn by the mix's shares from the seed, the same draw as mix_source makes, or `fixed_class`), and
/// deadlines, pacing target (tbt_s) and tier from that class.
class trace_source final : public request_source {
 public:
  /// @throws config_error if the trace is null, the mix or an option is invalid.
  trace_source(std::shared_ptr<const trace> tr, workload_mix mix, trace_source_options opts = {});
  trace_source(trace tr, workload_mix mix, trace_source_options opts = {})
      : trace_source(std::make_shared<const trace>(std::move(tr)), std::move(mix), opts) {}

  bool next(request& out) override;

  [[nodiscard]] const workload_mix& mix() const noexcept { return mix_; }
  /// The number of requests the source yields: rows x copies.
  [[nodiscard]] std::size_t size() const noexcept { return trace_->rows.size() * opts_.copies; }

 private:
  std::shared_ptr<const trace> trace_;
  workload_mix mix_;
  trace_source_options opts_;
  std::vector<double> cum_share_;
  std::mt19937_64 labels_rng_;
  std::size_t pos_ = 0;
  double last_arrival_s_ = 0.0;
};

// =========================================================================================================
// Implementation
// =========================================================================================================
namespace workload_detail {

using joulesched::detail::splitmix64;
inline constexpr std::uint64_t arrivals_stream = 0x61727269'76616c73ull;  // "arrivals"
inline constexpr std::uint64_t labels_stream = 0x6c616265'6c73'0000ull;   // "labels"

/// Uniform in [0, 1), 53 random bits.
[[nodiscard]] inline double uniform01(std::mt19937_64& g) noexcept {
  return static_cast<double>(g() >> 11) * 0x1.0p-53;
}
/// Uniform in (0, 1], 53 random bits (safe for log).
[[nodiscard]] inline double uniform01_open0(std::mt19937_64& g) noexcept {
  return static_cast<double>((g() >> 11) + 1) * 0x1.0p-53;
}
/// Uniform integer in [0, n), n >= 1, unbiased (rejection of the short last block).
[[nodiscard]] inline std::uint64_t uniform_index(std::mt19937_64& g, std::uint64_t n) noexcept {
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t x = g();
    if (x >= threshold) return x % n;
  }
}
/// Unit-mean exponential.
[[nodiscard]] inline double exponential1(std::mt19937_64& g) noexcept { return -std::log(uniform01_open0(g)); }
/// Standard normal (Box-Muller, one of the pair).
[[nodiscard]] inline double normal01(std::mt19937_64& g) noexcept {
  const double u1 = uniform01_open0(g);
  const double u2 = uniform01(g);
  return joulesched::detail::box_muller(u1, u2);
}
/// Gamma(shape a, scale 1), Marsaglia & Tsang (2000); for a < 1 the boost Gamma(a+1) * U^(1/a).
[[nodiscard]] inline double gamma_unit_scale(std::mt19937_64& g, double a) noexcept {
  if (a < 1.0) {
    const double x = gamma_unit_scale(g, a + 1.0);
    return x * std::pow(uniform01_open0(g), 1.0 / a);
  }
  const double d = a - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0;
    double v = 0;
    do {
      x = normal01(g);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform01_open0(g);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

/// Inverts a validated piecewise-linear quantile function at u in [0, 1).
[[nodiscard]] inline double quantile(const std::vector<quantile_point>& q, double u) noexcept {
  std::size_t i = 1;
  while (i + 1 < q.size() && u >= q[i].p) ++i;
  const quantile_point& a = q[i - 1];
  const quantile_point& b = q[i];
  return a.tok + (b.tok - a.tok) * ((u - a.p) / (b.p - a.p));
}
[[nodiscard]] inline std::uint32_t round_tok(double x) noexcept {
  const double r = std::floor(x + 0.5);
  if (!(r > 0.0)) return 0;
  if (r >= 4294967295.0) return std::numeric_limits<std::uint32_t>::max();
  return static_cast<std::uint32_t>(r);
}
[[nodiscard]] inline double quantile_mean(const std::vector<quantile_point>& q) noexcept {
  double m = 0;
  for (std::size_t i = 1; i < q.size(); ++i) m += (q[i].p - q[i - 1].p) * 0.5 * (q[i].tok + q[i - 1].tok);
  return m;
}

/// Cumulative shares; the last entry is forced to 1 so every u in [0, 1) picks a class.
[[nodiscard]] inline std::vector<double> cumulative_shares(const workload_mix& mix) {
  std::vector<double> cum;
  cum.reserve(mix.classes.size());
  double s = 0;
  for (const class_spec& c : mix.classes) cum.push_back(s += c.share);
  cum.back() = 1.0;
  return cum;
}
[[nodiscard]] inline std::uint8_t pick_class(const std::vector<double>& cum, std::mt19937_64& g) noexcept {
  const double u = uniform01(g);
  std::size_t k = 0;
  while (k + 1 < cum.size() && u >= cum[k]) ++k;
  return static_cast<std::uint8_t>(k);
}

/// Draws (input, output) from a validated length model.
[[nodiscard]] inline token_pair draw_lengths(const length_model& m, std::mt19937_64& g) noexcept {
  token_pair tp;
  if (m.pairs && !m.pairs->empty()) {
    tp = (*m.pairs)[static_cast<std::size_t>(uniform_index(g, m.pairs->size()))];
  } else {
    tp.input_tok = round_tok(quantile(m.input_quantiles, uniform01(g)));
    tp.output_tok = round_tok(quantile(m.output_quantiles, uniform01(g)));
  }
  if (m.input_add_tok_max > 0) {
    const std::uint64_t span = std::uint64_t{m.input_add_tok_max} - m.input_add_tok_min + 1;
    const std::uint64_t add = m.input_add_tok_min + (span > 1 ? uniform_index(g, span) : 0);
    const std::uint64_t sum = std::uint64_t{tp.input_tok} + add;
    tp.input_tok = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, std::numeric_limits<std::uint32_t>::max()));
  }
  return tp;
}

inline void validate_quantiles(const std::vector<quantile_point>& q, const std::string& where, std::string_view field) {
  using joulesched::detail::fail;
  const std::string f(field);
  if (q.size() < 2) fail(where, f + ".size()", q.size(), "a quantile function needs at least 2 points");
  for (std::size_t i = 0; i < q.size(); ++i) {
    const std::string fi = f + "[" + std::to_string(i) + "]";
    if (!(std::isfinite(q[i].p) && q[i].p >= 0.0 && q[i].p <= 1.0)) fail(where, fi + ".p", q[i].p, "must be in [0, 1]");
    if (!(std::isfinite(q[i].tok) && q[i].tok >= 0.0 && q[i].tok <= 4294967295.0)) {
      fail(where, fi + ".tok", q[i].tok, "must be finite and in [0, 4294967295]");
    }
    if (i > 0 && !(q[i].p > q[i - 1].p)) fail(where, fi + ".p", q[i].p, "must be > the previous point's p");
    if (i > 0 && q[i].tok < q[i - 1].tok) fail(where, fi + ".tok", q[i].tok, "must be >= the previous point's tok");
  }
  if (q.front().p != 0.0) fail(where, f + "[0].p", q.front().p, "must be 0");
  if (q.back().p != 1.0) fail(where, f + "[" + std::to_string(q.size() - 1) + "].p", q.back().p, "must be 1");
}

}  // namespace workload_detail

inline void validate(const workload_mix& mix, std::string_view where_sv) {
  using joulesched::detail::fail;
  const std::string where(where_sv);
  if (mix.classes.empty()) fail(where, "classes.size()", 0, "a mix needs at least one class");
  if (mix.classes.size() > 256)
    fail(where, "classes.size()", mix.classes.size(), "must be <= 256 (request::cls is 8 bits)");
  double sum = 0;
  for (std::size_t i = 0; i < mix.classes.size(); ++i) {
    const class_spec& c = mix.classes[i];
    const std::string f = "classes[" + std::to_string(i) + "]" + (c.name.empty() ? "" : " (" + c.name + ")");
    if (c.name.empty()) fail(where, f + ".name", "''", "must not be empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (mix.classes[j].name == c.name) {
        fail(where, f + ".name", "'" + c.name + "'", "must be unique (also classes[" + std::to_string(j) + "])");
      }
    }
    joulesched::detail::require_positive(c.share, where, f + ".share");
    if (c.share > 1.0) fail(where, f + ".share", c.share, "must be <= 1");
    sum += c.share;
    if (c.tier != tier::interactive && c.tier != tier::bulk) {
      fail(where, f + ".tier", static_cast<int>(c.tier), "must be interactive or bulk");
    }
    joulesched::detail::require_positive(c.ttft_slo_s, where, f + ".ttft_slo_s");
    joulesched::detail::require_positive(c.e2e_slo_s_base, where, f + ".e2e_slo_s_base");
    joulesched::detail::require_non_negative(c.e2e_slo_s_per_out_tok, where, f + ".e2e_slo_s_per_out_tok");
    joulesched::detail::require_non_negative(c.tbt_slo_s, where, f + ".tbt_slo_s");
    const length_model& m = c.lengths;
    const bool has_pairs = m.pairs && !m.pairs->empty();
    const bool has_q = !m.input_quantiles.empty() || !m.output_quantiles.empty();
    if (has_pairs && has_q) {
      fail(where, f + ".lengths", "pairs and quantiles", "give either empirical pairs or quantile functions, not both");
    }
    if (!has_pairs && !has_q) {
      fail(where, f + ".lengths", m.pairs ? "empty pairs" : "nothing",
           "give non-empty empirical pairs or input and output quantile functions");
    }
    if (has_q) {
      workload_detail::validate_quantiles(m.input_quantiles, where, f + ".lengths.input_quantiles");
      workload_detail::validate_quantiles(m.output_quantiles, where, f + ".lengths.output_quantiles");
    }
    if (m.input_add_tok_min > m.input_add_tok_max) {
      fail(where, f + ".lengths.input_add_tok_min", m.input_add_tok_min,
           "must be <= input_add_tok_max (" + std::to_string(m.input_add_tok_max) + ")");
    }
  }
  if (!(std::abs(sum - 1.0) <= 1e-9)) fail(where, "sum of classes[].share", sum, "must be 1 (within 1e-9)");
}

inline std::optional<std::size_t> find_class(const workload_mix& mix, std::string_view name) noexcept {
  for (std::size_t i = 0; i < mix.classes.size(); ++i) {
    if (mix.classes[i].name == name) return i;
  }
  return std::nullopt;
}

inline void apply_deadlines(const class_spec& cls, request& r) noexcept {
  r.ttft_deadline_s = r.arrival_s + cls.ttft_slo_s;
  r.deadline_s = r.arrival_s + cls.e2e_slo_s_base + cls.e2e_slo_s_per_out_tok * static_cast<double>(r.output_tok);
  r.tbt_s = cls.tbt_slo_s;
}

inline token_means mean_tokens(const class_spec& cls) {
  token_means m;
  const length_model& l = cls.lengths;
  if (l.pairs && !l.pairs->empty()) {
    double in = 0, out = 0;
    for (const token_pair& p : *l.pairs) {
      in += p.input_tok;
      out += p.output_tok;
    }
    m.input_tok = in / static_cast<double>(l.pairs->size());
    m.output_tok = out / static_cast<double>(l.pairs->size());
  } else {
    m.input_tok = workload_detail::quantile_mean(l.input_quantiles);
    m.output_tok = workload_detail::quantile_mean(l.output_quantiles);
  }
  m.input_tok += 0.5 * (static_cast<double>(l.input_add_tok_min) + static_cast<double>(l.input_add_tok_max));
  return m;
}

inline token_means mean_tokens(const workload_mix& mix) {
  validate(mix);
  token_means m;
  for (const class_spec& c : mix.classes) {
    const token_means mc = mean_tokens(c);
    m.input_tok += c.share * mc.input_tok;
    m.output_tok += c.share * mc.output_tok;
  }
  return m;
}

inline token_means mean_tokens(const trace& tr) noexcept {
  token_means m;
  if (tr.rows.empty()) return m;
  double in = 0, out = 0;
  for (const trace_row& r : tr.rows) {
    in += r.input_tok;
    out += r.output_tok;
  }
  m.input_tok = in / static_cast<double>(tr.rows.size());
  m.output_tok = out / static_cast<double>(tr.rows.size());
  return m;
}

inline std::vector<token_pair> token_pairs(const trace& tr) {
  std::vector<token_pair> v;
  v.reserve(tr.rows.size());
  for (const trace_row& r : tr.rows) v.push_back({r.input_tok, r.output_tok});
  return v;
}

inline workload_mix default_mix(const std::shared_ptr<const std::vector<token_pair>>& chat_pairs) {
  namespace d = mix_defaults;
  if (!chat_pairs || chat_pairs->empty()) {
    joulesched::detail::fail("default_mix", "chat_pairs", chat_pairs ? "empty" : "null",
                             "need the empirical (input, output) pairs of a chat trace");
  }
  workload_mix mix;
  class_spec chat;
  chat.name = "chat";
  chat.share = d::chat_share;
  chat.tier = tier::interactive;
  chat.lengths.pairs = chat_pairs;
  chat.ttft_slo_s = d::interactive_ttft_slo_s;
  chat.e2e_slo_s_base = d::interactive_ttft_slo_s;
  chat.e2e_slo_s_per_out_tok = d::interactive_tpot_slo_s;
  chat.tbt_slo_s = d::interactive_tpot_slo_s;

  class_spec rag = chat;
  rag.name = "rag";
  rag.share = d::rag_share;
  rag.lengths.input_add_tok_min = d::rag_context_tok_min;
  rag.lengths.input_add_tok_max = d::rag_context_tok_max;

  class_spec batch;
  batch.name = "batch";
  batch.share = d::batch_share;
  batch.tier = tier::bulk;
  batch.lengths.input_quantiles.assign(std::begin(d::batch_input_quantiles), std::end(d::batch_input_quantiles));
  batch.lengths.output_quantiles.assign(std::begin(d::batch_output_quantiles), std::end(d::batch_output_quantiles));
  batch.ttft_slo_s = d::batch_slo_s;
  batch.e2e_slo_s_base = d::batch_slo_s;
  batch.e2e_slo_s_per_out_tok = 0.0;
  batch.tbt_slo_s = d::batch_tbt_slo_s;

  mix.classes = {std::move(chat), std::move(rag), std::move(batch)};
  validate(mix, "default_mix");
  return mix;
}

inline workload_mix default_mix(const trace& chat_trace) {
  return default_mix(std::make_shared<const std::vector<token_pair>>(token_pairs(chat_trace)));
}

inline workload_mix default_mix(const std::filesystem::path& azure_csv) {
  return default_mix(read_azure_trace(azure_csv));
}

inline double rate_shape::multiplier_at(double t_s) const noexcept {
  if (multipliers.empty()) return 1.0;
  const double k = std::floor((t_s + offset_s) / window_s);
  const double n = static_cast<double>(multipliers.size());
  double idx = std::fmod(k, n);
  if (idx < 0) idx += n;
  return multipliers[static_cast<std::size_t>(idx)];
}

inline void validate(const rate_shape& shape, std::string_view where_sv) {
  using joulesched::detail::fail;
  const std::string where(where_sv);
  joulesched::detail::require_non_negative(shape.offset_s, where, "offset_s");
  if (shape.multipliers.empty()) return;
  joulesched::detail::require_positive(shape.window_s, where, "window_s");
  bool any = false;
  for (std::size_t i = 0; i < shape.multipliers.size(); ++i) {
    joulesched::detail::require_non_negative(shape.multipliers[i], where, "multipliers[" + std::to_string(i) + "]");
    any = any || shape.multipliers[i] > 0.0;
  }
  if (!any) fail(where, "multipliers", "all 0", "at least one window must have a multiplier > 0");
}

inline rate_shape read_rate_shape(std::istream& in, std::string_view source_name, std::string_view series) {
  joulesched::detail::csv_reader csv(in, std::string(source_name));
  const std::size_t c_start = csv.require_column("window_start_s");
  const std::size_t c_len = csv.require_column("window_len_s");
  const std::size_t c_val = csv.require_column(series);
  rate_shape shape;
  shape.window_s = 0;
  double sum = 0;
  while (csv.next()) {
    const joulesched::detail::csv_row& row = csv.row();
    const double len = row.as_positive(c_len);
    const double start = row.as_non_negative(c_start);
    if (shape.multipliers.empty()) {
      shape.window_s = len;
    } else if (len != shape.window_s) {
      row.fail(c_len, "every window must have the length of the first (" + std::to_string(shape.window_s) + ")");
    }
    const double expected = shape.window_s * static_cast<double>(shape.multipliers.size());
    if (std::abs(start - expected) > 1e-6 * std::max(1.0, expected)) {
      row.fail(c_start, "windows must be consecutive from 0 (expected " + std::to_string(expected) + ")");
    }
    const double v = row.as_non_negative(c_val);
    shape.multipliers.push_back(v);
    sum += v;
  }
  if (shape.multipliers.empty()) {
    joulesched::detail::fail(source_name, "rows", "none", "a rate shape needs at least one window");
  }
  if (!(sum > 0.0)) joulesched::detail::fail(source_name, series, "all 0", "at least one window must be > 0");
  if (!std::isfinite(sum))  // two values of 1e308 would make every multiplier NaN
    joulesched::detail::fail(source_name, series, sum, "the windows' values must sum to a finite number");
  // Normalised to mean 1 in two steps, first by the largest value, so that no step divides by a subnormal
  // number (whose few significant bits left the mean at 1.11, not 1).
  const double peak = *std::max_element(shape.multipliers.begin(), shape.multipliers.end());
  if (peak < std::numeric_limits<double>::min())
    joulesched::detail::fail(source_name, series, peak, "the largest window's value is too small to scale (subnormal)");
  double scaled_sum = 0;
  for (double& m : shape.multipliers) scaled_sum += (m /= peak);
  const double mean = scaled_sum / static_cast<double>(shape.multipliers.size());  // in [1/n, 1]
  for (double& m : shape.multipliers) m /= mean;
  return shape;
}

inline rate_shape diurnal_shape_servegen(const std::filesystem::path& csv, std::string_view series, double offset_s) {
  std::ifstream in = joulesched::detail::open_csv(csv);
  rate_shape shape = read_rate_shape(in, csv.string(), series);
  shape.offset_s = offset_s;
  validate(shape, csv.string());
  return shape;
}

inline mix_source::mix_source(workload_mix mix, mix_source_options opts)
    : mix_(std::move(mix)), opts_(std::move(opts)) {
  validate(mix_);
  joulesched::detail::require_positive(opts_.rate_rps, "mix_source_options", "rate_rps");
  joulesched::detail::require_positive(opts_.arrival_cv, "mix_source_options", "arrival_cv");
  if (!(opts_.duration_s > 0.0))
    joulesched::detail::fail("mix_source_options", "duration_s", opts_.duration_s, "must be > 0");
  validate(opts_.shape, "mix_source_options.shape");
  cum_share_ = workload_detail::cumulative_shares(mix_);
  arrivals_rng_.seed(workload_detail::splitmix64(opts_.seed ^ workload_detail::arrivals_stream));
  labels_rng_.seed(workload_detail::splitmix64(opts_.seed ^ workload_detail::labels_stream));
  gamma_shape_ = 1.0 / (opts_.arrival_cv * opts_.arrival_cv);
  if (!opts_.shape.multipliers.empty()) {
    window_ = static_cast<std::int64_t>(std::floor(opts_.shape.offset_s / opts_.shape.window_s));
  }
}

inline bool mix_source::next(request& out) {
  if (done_ || next_id_ >= opts_.max_requests) {
    done_ = true;
    return false;
  }
  // Increment of the cumulative intensity (expected arrivals) to the next arrival: mean 1.
  double e = opts_.arrival_cv == 1.0 ? workload_detail::exponential1(arrivals_rng_)
                                     : workload_detail::gamma_unit_scale(arrivals_rng_, gamma_shape_) / gamma_shape_;
  const rate_shape& sh = opts_.shape;
  if (sh.multipliers.empty()) {
    t_s_ += e / opts_.rate_rps;
  } else {
    const auto n = static_cast<std::int64_t>(sh.multipliers.size());
    for (;;) {
      const double end_s = static_cast<double>(window_ + 1) * sh.window_s - sh.offset_s;
      const double lambda = opts_.rate_rps * sh.multipliers[static_cast<std::size_t>(window_ % n)];
      const double room = lambda * (end_s - t_s_);
      if (lambda > 0.0 && e <= room) {
        t_s_ = std::min(t_s_ + e / lambda, end_s);
        break;
      }
      e -= room;
      t_s_ = end_s;
      ++window_;
      if (t_s_ >= opts_.duration_s) break;
    }
  }
  if (t_s_ >= opts_.duration_s) {
    done_ = true;
    return false;
  }
  const std::uint8_t k = workload_detail::pick_class(cum_share_, labels_rng_);
  const class_spec& c = mix_.classes[k];
  const token_pair tp = workload_detail::draw_lengths(c.lengths, labels_rng_);
  out.id = next_id_++;
  out.arrival_s = t_s_;
  out.input_tok = tp.input_tok;
  out.output_tok = tp.output_tok;
  out.tier = c.tier;
  out.cls = k;
  apply_deadlines(c, out);
  return true;
}

inline trace_source::trace_source(std::shared_ptr<const trace> tr, workload_mix mix, trace_source_options opts)
    : trace_(std::move(tr)), mix_(std::move(mix)), opts_(opts) {
  if (!trace_) joulesched::detail::fail("trace_source", "trace", "null", "must point to a trace");
  validate(mix_);
  joulesched::detail::require_positive(opts_.load_scale, "trace_source_options", "load_scale");
  if (opts_.copies == 0) joulesched::detail::fail("trace_source_options", "copies", 0, "must be >= 1");
  if (opts_.fixed_class && *opts_.fixed_class >= mix_.classes.size()) {
    joulesched::detail::fail("trace_source_options", "fixed_class", *opts_.fixed_class,
                             "must be < the number of classes (" + std::to_string(mix_.classes.size()) + ")");
  }
  cum_share_ = workload_detail::cumulative_shares(mix_);
  labels_rng_.seed(workload_detail::splitmix64(opts_.seed ^ workload_detail::labels_stream));
}

inline bool trace_source::next(request& out) {
  const std::size_t n = trace_->rows.size();
  if (n == 0 || pos_ >= n * opts_.copies) return false;
  const trace_row& row = trace_->rows[pos_ % n];
  const std::size_t copy = pos_ / n;  // which replay of the trace this row belongs to
  const double shift_s = static_cast<double>(copy) * trace_->rows.back().arrival_s;
  const std::uint8_t k = opts_.fixed_class ? static_cast<std::uint8_t>(*opts_.fixed_class)
                                           : workload_detail::pick_class(cum_share_, labels_rng_);
  const class_spec& c = mix_.classes[k];
  out.id = pos_++;
  // A copy's first row and the previous copy's last row are at the same instant; rounding of the shifted sum
  // may put the first an ulp earlier, which would break the order the source promises.
  out.arrival_s = std::max(last_arrival_s_, (row.arrival_s + shift_s) / opts_.load_scale);
  last_arrival_s_ = out.arrival_s;
  out.input_tok = row.input_tok;
  out.output_tok = row.output_tok;
  out.tier = c.tier;
  out.cls = k;
  apply_deadlines(c, out);
  return true;
}

}  // namespace joulesched::sim
