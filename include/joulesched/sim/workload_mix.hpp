/// @file workload_mix.hpp
/// @brief A workload mix: request classes (chat, RAG, batch, ...), each with a share, a tier, a token-length
/// model and SLOs; its validation, the deadlines a class gives a request, and the mean tokens per request that
/// the engine needs to choose an arrival rate for a target utilisation.
///
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
/// - Randomness (the sources' draws, workload_detail below): std::mt19937_64 with the samplers of
///   detail/random.hpp. Arrivals and labels/lengths use two engines seeded from the one seed, so changing the mix
///   does not move arrival times and changing the rate does not change the sequence of classes and lengths. Class
///   choice and empirical sampling use only exact integer and IEEE arithmetic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/random.hpp"
#include "joulesched/detail/splitmix64.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/request.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/slo_class.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

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

/// @brief The mix's classes as the named SLO classes its requests carry (`request::cls`, in the mix's order), for
/// estimators that learn per class and for reports. @throws config_error as slo_class_set does.
[[nodiscard]] slo_class_set slo_classes(const workload_mix& mix);

/// @brief The strictest pacing target of the mix's classes (the least tbt_slo_s above 0), 0 when none has one:
/// the pacing guard (device_params::pacing_s) of a device that serves the whole mix.
[[nodiscard]] double pacing_guard_s(const workload_mix& mix) noexcept;

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

// Implementation
namespace workload_detail {

using joulesched::detail::splitmix64;
using joulesched::detail::uniform01;
using joulesched::detail::uniform_index;
inline constexpr std::uint64_t arrivals_stream = 0x61727269'76616c73ull;  // "arrivals"
inline constexpr std::uint64_t labels_stream = 0x6c616265'6c73'0000ull;   // "labels"
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

inline slo_class_set slo_classes(const workload_mix& mix) {
  std::vector<std::string> names;
  names.reserve(mix.classes.size());
  for (const class_spec& c : mix.classes) names.push_back(c.name);
  return slo_class_set(std::move(names), "workload_mix");
}

inline double pacing_guard_s(const workload_mix& mix) noexcept {
  double guard = 0.0;
  for (const class_spec& c : mix.classes)
    if (c.tbt_slo_s > 0.0 && (guard == 0.0 || c.tbt_slo_s < guard)) guard = c.tbt_slo_s;
  return guard;
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

}  // namespace joulesched::sim
