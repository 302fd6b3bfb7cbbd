/// @file device_model.hpp
/// @brief Time and power of one GPU type serving one model, as the simulator needs them: how long a decode
/// iteration and a prefill take, and what the device draws while busy and while idle.
///
/// When to use: to drive the discrete-event simulator (sim/), or to build energy profiles for routers from
/// calibrated numbers. Not a cycle model: it is a handful of linear terms fitted to real measurements
/// (ML.ENERGY v3 and v2, Splitwise); data/devices/*.csv (current stack) and data/devices/2024/*.csv (2024 stack)
/// give every value with its source or stated assumption, and scripts/fit_device_models.py re-fits them.
///
/// Design: a plain aggregate of doubles with the formulas as const member functions.
///   decode step (b running requests, contexts totalling C tokens) = base + per_seq*b + per_ctx_tok*C  seconds,
///     producing one token per running request;
///   prefill of n prompt tokens = prefill_base + prefill_per_tok*n  seconds;
///   busy power = min(tdp, busy_base + busy_per_seq*b)  watts, for b <= max_batch; idle power otherwise;
///   prefill power = prefill_power_w watts during a prefill pass (compute-bound: fitted from Splitwise's
///     prompt-phase vs token-phase power).
/// Decode and prefill are separate: energy_j_per_tok() and rate_tok_s() are steady decode only. The current
/// models (ML.ENERGY v3) fit decode_step_s to the measured median inter-token latency; the 2024 models (v2)
/// fitted b/throughput = decode_step_s + b * prefill_s(mean input) / mean output, so to reproduce a v2 run
/// charge each request's prefill_s() at busy power as well (see data/README.md).
/// Bounds (sim/input_bounds.hpp), checked by validate() and so by the loader: every power <= max_power_w;
/// max_batch <= bounds::max_batch; kv_capacity_tok <= max_kv_capacity_tok; a decode step at max_batch holding
/// kv_capacity_tok tokens of context, and a prefill of kv_capacity_tok tokens, each take <= max_pass_s. So a
/// model whose numbers are corrupt (1e300) is refused instead of yielding infinite times or energies.
/// Cost: every query is a few flops, no allocation, noexcept. Loading parses a ~20-line file.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/detail/number.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/input_bounds.hpp"

namespace joulesched::sim {

/// @brief Parameters of one GPU type serving one model (see data/devices/*.csv for sources).
///
/// Preconditions of the queries: `batch >= 1` where a batch is taken (asserted in debug builds; a batch of
/// 0 is computed as 1 in release builds). The model does not enforce max_batch or kv_capacity_tok: the
/// scheduler that forms batches must respect them.
struct device_model {
  std::string gpu;                       ///< GPU type, e.g. "A100-SXM4-40GB"
  std::string serving_model;             ///< served model, e.g. "Llama-3.1-8B-Instruct"
  double tdp_w = 0;                      ///< board power limit (spec); busy power never exceeds it
  double idle_power_w = 0;               ///< draw while no request is running
  double busy_power_base_w = 0;          ///< busy draw, intercept of the linear fit in batch size
  double busy_power_per_seq_w = 0;       ///< busy draw added per running request (may be < 0, see validate())
  double prefill_power_w = 0;            ///< draw during a prefill pass (idle_power_w <= it <= tdp_w)
  double decode_step_base_s = 0;         ///< decode iteration time, fixed part (weights read once per step)
  double decode_step_per_seq_s = 0;      ///< decode iteration time per running request
  double decode_step_per_ctx_tok_s = 0;  ///< decode iteration time per token of context held (KV read)
  double prefill_base_s = 0;             ///< prefill time, fixed part
  double prefill_per_tok_s = 0;          ///< prefill time per prompt token
  std::uint32_t max_batch = 0;           ///< most requests running at once (>= 1)
  std::uint64_t kv_capacity_tok = 0;     ///< most context tokens the running requests may hold in total (>= 1)

  /// @brief Seconds of one decode iteration with `batch` running requests whose contexts total
  /// `ctx_tok_total` tokens. Produces `batch` tokens.
  [[nodiscard]] double decode_step_s(std::uint32_t batch, std::uint64_t ctx_tok_total) const noexcept {
    assert(batch >= 1);
    const double b = static_cast<double>(std::max<std::uint32_t>(batch, 1));
    return decode_step_base_s + decode_step_per_seq_s * b +
           decode_step_per_ctx_tok_s * static_cast<double>(ctx_tok_total);
  }

  /// @brief Seconds to prefill a prompt of `input_tok` tokens (alone; the simulator decides how prefills
  /// share the device with decode steps).
  [[nodiscard]] double prefill_s(std::uint32_t input_tok) const noexcept {
    return prefill_base_s + prefill_per_tok_s * static_cast<double>(input_tok);
  }

  /// @brief Watts drawn while running `batch` requests, capped at tdp_w.
  [[nodiscard]] double busy_power_w(std::uint32_t batch) const noexcept {
    return std::min(tdp_w, busy_power_base_w + busy_power_per_seq_w * static_cast<double>(batch));
  }

  /// @brief Steady decode with `batch` requests of mean context `mean_ctx_tok`: joules per output token,
  /// = busy_power_w(b) * step_s / b.
  [[nodiscard]] double energy_j_per_tok(std::uint32_t batch, double mean_ctx_tok) const noexcept {
    const std::uint32_t b = std::max<std::uint32_t>(batch, 1);
    return busy_power_w(b) * step_at_mean_s(b, mean_ctx_tok) / static_cast<double>(b);
  }

  /// @brief Steady decode with `batch` requests of mean context `mean_ctx_tok`: output tokens per second,
  /// = b / step_s.
  [[nodiscard]] double rate_tok_s(std::uint32_t batch, double mean_ctx_tok) const noexcept {
    const std::uint32_t b = std::max<std::uint32_t>(batch, 1);
    return static_cast<double>(b) / step_at_mean_s(b, mean_ctx_tok);
  }

 private:
  // Step time with a fractional mean context (decode_step_s takes a whole-token total).
  [[nodiscard]] double step_at_mean_s(std::uint32_t batch, double mean_ctx_tok) const noexcept {
    assert(batch >= 1);
    const double b = static_cast<double>(batch);
    return decode_step_base_s + decode_step_per_seq_s * b + decode_step_per_ctx_tok_s * b * mean_ctx_tok;
  }
};

namespace detail {

/// The value of a time coefficient of `m` by name, for messages.
[[nodiscard]] inline double m_value(const device_model& m, std::string_view field) noexcept {
  if (field == "decode_step_base_s") return m.decode_step_base_s;
  if (field == "decode_step_per_seq_s") return m.decode_step_per_seq_s;
  if (field == "decode_step_per_ctx_tok_s") return m.decode_step_per_ctx_tok_s;
  if (field == "prefill_base_s") return m.prefill_base_s;
  if (field == "prefill_per_tok_s") return m.prefill_per_tok_s;
  return 0.0;
}

/// One term of a pass time: the coefficient's field and the seconds it adds at the largest multiplier.
struct pass_term {
  std::string_view field;
  double s;
};

/// Throws unless the terms sum to <= bounds::max_pass_s, naming the field of the largest term.
template <std::size_t N, class Where>
void check_pass(const pass_term (&terms)[N], const std::string& what, const device_model& m, Where&& where) {
  double total = 0.0;
  const pass_term* top = &terms[0];
  for (const pass_term& t : terms) {
    total += t.s;
    if (t.s > top->s) top = &t;
  }
  if (!(total <= bounds::max_pass_s))
    joulesched::detail::fail(where(top->field), top->field, m_value(m, top->field),
                             what + " would take " + joulesched::detail::shortest(total) + " s: must be <= " +
                                 joulesched::detail::shortest(bounds::max_pass_s) + " s (bounds::max_pass_s)");
}

/// validate() with a per-field location: `where(field)` names where that field came from.
template <class Where>
void validate_fields(const device_model& m, Where&& where) {
  using joulesched::detail::fail;
  using joulesched::detail::require_non_negative;
  using joulesched::detail::require_positive;
  // Names are printed in tables and JSON: bounded, and free of control bytes (UTF-8 is fine).
  const auto check_name = [&](const std::string& name, const char* field) {
    if (name.empty()) fail(where(field), field, "\"\"", "must not be empty");
    if (name.size() > bounds::max_name_bytes)
      fail(where(field), field, name, "must be at most " + std::to_string(bounds::max_name_bytes) + " bytes");
    if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
      fail(where(field), field, name, "must not hold control characters");
  };
  check_name(m.gpu, "gpu");
  check_name(m.serving_model, "serving_model");
  using joulesched::detail::shortest;
  const std::string max_power = shortest(bounds::max_power_w) + " W (bounds::max_power_w)";
  require_positive(m.tdp_w, where("tdp_w"), "tdp_w");
  if (m.tdp_w > bounds::max_power_w) fail(where("tdp_w"), "tdp_w", m.tdp_w, "must be <= " + max_power);
  require_non_negative(m.idle_power_w, where("idle_power_w"), "idle_power_w");
  require_non_negative(m.busy_power_base_w, where("busy_power_base_w"), "busy_power_base_w");
  joulesched::detail::require_finite(m.prefill_power_w, where("prefill_power_w"), "prefill_power_w");
  if (m.prefill_power_w > bounds::max_power_w)
    fail(where("prefill_power_w"), "prefill_power_w", m.prefill_power_w, "must be <= " + max_power);
  if (m.prefill_power_w < m.idle_power_w)
    fail(where("prefill_power_w"), "prefill_power_w", m.prefill_power_w,
         "must be >= idle_power_w (" + std::to_string(m.idle_power_w) + ")");
  if (m.prefill_power_w > m.tdp_w)
    fail(where("prefill_power_w"), "prefill_power_w", m.prefill_power_w,
         "must be <= tdp_w (" + std::to_string(m.tdp_w) + ")");
  joulesched::detail::require_finite(m.busy_power_per_seq_w, where("busy_power_per_seq_w"), "busy_power_per_seq_w");
  if (std::abs(m.busy_power_per_seq_w) > bounds::max_power_w)
    fail(where("busy_power_per_seq_w"), "busy_power_per_seq_w", m.busy_power_per_seq_w,
         "its magnitude must be <= " + max_power);
  if (m.idle_power_w > m.busy_power_base_w)
    fail(where("idle_power_w"), "idle_power_w", m.idle_power_w,
         "must be <= busy_power_base_w (" + std::to_string(m.busy_power_base_w) + ")");
  if (m.busy_power_base_w > m.tdp_w)
    fail(where("busy_power_base_w"), "busy_power_base_w", m.busy_power_base_w,
         "must be <= tdp_w (" + std::to_string(m.tdp_w) + ")");
  require_positive(m.decode_step_base_s, where("decode_step_base_s"), "decode_step_base_s");
  require_non_negative(m.decode_step_per_seq_s, where("decode_step_per_seq_s"), "decode_step_per_seq_s");
  require_non_negative(m.decode_step_per_ctx_tok_s, where("decode_step_per_ctx_tok_s"), "decode_step_per_ctx_tok_s");
  require_non_negative(m.prefill_base_s, where("prefill_base_s"), "prefill_base_s");
  require_non_negative(m.prefill_per_tok_s, where("prefill_per_tok_s"), "prefill_per_tok_s");
  if (!(m.prefill_base_s + m.prefill_per_tok_s > 0.0))
    fail(where("prefill_per_tok_s"), "prefill_per_tok_s", m.prefill_per_tok_s,
         "prefill of a one-token prompt must take > 0 s");
  if (m.max_batch < 1) fail(where("max_batch"), "max_batch", m.max_batch, "must be >= 1");
  if (m.max_batch > bounds::max_batch)
    fail(where("max_batch"), "max_batch", m.max_batch,
         "must be <= " + std::to_string(bounds::max_batch) + " (bounds::max_batch)");
  // The slope may be negative (measured power can fall as throughput saturates), but never below idle.
  if (m.busy_power_base_w + m.busy_power_per_seq_w * static_cast<double>(m.max_batch) < m.idle_power_w)
    fail(where("busy_power_per_seq_w"), "busy_power_per_seq_w", m.busy_power_per_seq_w,
         "busy power at max_batch (" + std::to_string(m.max_batch) + ") must be >= idle_power_w (" +
             std::to_string(m.idle_power_w) + ")");
  if (m.kv_capacity_tok < 1) fail(where("kv_capacity_tok"), "kv_capacity_tok", m.kv_capacity_tok, "must be >= 1");
  if (m.kv_capacity_tok > bounds::max_kv_capacity_tok)
    fail(where("kv_capacity_tok"), "kv_capacity_tok", m.kv_capacity_tok,
         "must be <= " + std::to_string(bounds::max_kv_capacity_tok) + " (bounds::max_kv_capacity_tok)");
  // The longest passes the model can imply; the error names the term that contributes most.
  const double kv = static_cast<double>(m.kv_capacity_tok);
  const pass_term decode[] = {{"decode_step_base_s", m.decode_step_base_s},
                              {"decode_step_per_seq_s", m.decode_step_per_seq_s * static_cast<double>(m.max_batch)},
                              {"decode_step_per_ctx_tok_s", m.decode_step_per_ctx_tok_s * kv}};
  check_pass(decode,
             "a decode step at max_batch (" + std::to_string(m.max_batch) + ") holding kv_capacity_tok (" +
                 std::to_string(m.kv_capacity_tok) + ") tokens of context",
             m, where);
  const pass_term prefill[] = {{"prefill_base_s", m.prefill_base_s}, {"prefill_per_tok_s", m.prefill_per_tok_s * kv}};
  check_pass(prefill, "a prefill of kv_capacity_tok (" + std::to_string(m.kv_capacity_tok) + ") tokens", m, where);
}

}  // namespace detail

/// @brief Checks every field: names non-empty; all numbers finite; tdp_w > 0; 0 <= idle_power_w <=
/// busy_power_base_w <= tdp_w; idle_power_w <= prefill_power_w <= tdp_w; busy power at max_batch >= idle_power_w
/// (busy_power_per_seq_w may be negative: measured power can fall slightly as throughput saturates); time terms >= 0;
/// decode_step_base_s > 0; a one-token prefill takes > 0 s; max_batch >= 1; kv_capacity_tok >= 1.
/// @throws config_error naming `source`, the field and its value.
inline void validate(const device_model& m, std::string_view source) {
  detail::validate_fields(m, [&](std::string_view) { return source; });
}

/// @brief Reads a device model from `in`: a header line `parameter,value,unit,source`, then one line per
/// parameter (the names of device_model's fields, each exactly once). The CSV syntax is that of
/// detail/csv.hpp (blank and `#` lines skipped, quoted fields, CRLF, a UTF-8 BOM, lines of at most
/// bounds::max_line_bytes). Numbers are in the grammar of detail/number.hpp (`+294.629` is fine; inf, nan and
/// hex are not). Unit and source are documentation and are not interpreted.
/// @param source the name used in error messages (usually the file name).
/// @throws config_error naming `source:line` and the field: bad header, unknown, duplicate or missing
/// parameter, a value that is not a number (or not a whole number for max_batch and kv_capacity_tok), or
/// any check of validate() failing (bounds included).
[[nodiscard]] inline device_model parse_device_model(std::istream& in, std::string_view source) {
  using joulesched::detail::fail;
  using joulesched::detail::quoted;
  device_model m;
  joulesched::detail::csv_reader csv(in, std::string(source));
  const std::string& src = csv.source();
  auto where = [&](std::size_t line_no) { return src + ":" + std::to_string(line_no); };

  static constexpr std::string_view header[] = {"parameter", "value", "unit", "source"};
  const auto cols = csv.columns();
  if (!std::equal(cols.begin(), cols.end(), std::begin(header), std::end(header))) {
    std::string got;
    for (const auto& c : cols) got += (got.empty() ? "" : ",") + c;
    fail(where(csv.header_line()), "header", got, "must be parameter,value,unit,source");
  }

  struct field_ref {
    const char* name;
    double* d;
    std::uint32_t* u32;
    std::uint64_t* u64;
    std::string* s;
  };
  const std::vector<field_ref> fields{
      {"gpu", nullptr, nullptr, nullptr, &m.gpu},
      {"serving_model", nullptr, nullptr, nullptr, &m.serving_model},
      {"tdp_w", &m.tdp_w, nullptr, nullptr, nullptr},
      {"idle_power_w", &m.idle_power_w, nullptr, nullptr, nullptr},
      {"busy_power_base_w", &m.busy_power_base_w, nullptr, nullptr, nullptr},
      {"busy_power_per_seq_w", &m.busy_power_per_seq_w, nullptr, nullptr, nullptr},
      {"prefill_power_w", &m.prefill_power_w, nullptr, nullptr, nullptr},
      {"decode_step_base_s", &m.decode_step_base_s, nullptr, nullptr, nullptr},
      {"decode_step_per_seq_s", &m.decode_step_per_seq_s, nullptr, nullptr, nullptr},
      {"decode_step_per_ctx_tok_s", &m.decode_step_per_ctx_tok_s, nullptr, nullptr, nullptr},
      {"prefill_base_s", &m.prefill_base_s, nullptr, nullptr, nullptr},
      {"prefill_per_tok_s", &m.prefill_per_tok_s, nullptr, nullptr, nullptr},
      {"max_batch", nullptr, &m.max_batch, nullptr, nullptr},
      {"kv_capacity_tok", nullptr, nullptr, &m.kv_capacity_tok, nullptr},
  };

  std::map<std::string, std::size_t, std::less<>> line_of;  // parameter -> line it was read from
  std::size_t last_line = csv.header_line();
  while (csv.next()) {
    const joulesched::detail::csv_row& row = csv.row();
    last_line = row.line();
    const std::string_view name = row.text(0);
    const std::string_view value = row.text(1);
    const auto f = std::find_if(fields.begin(), fields.end(), [&](const field_ref& r) { return name == r.name; });
    if (f == fields.end()) fail(row.where(), joulesched::detail::echo(name), quoted{value}, "unknown parameter");
    if (const auto prev = line_of.find(name); prev != line_of.end())
      fail(row.where(), name, quoted{value},
           "duplicate parameter (first on line " + std::to_string(prev->second) + ")");
    line_of.emplace(name, row.line());
    if (f->s != nullptr) {
      *f->s = value;
    } else if (f->d != nullptr) {
      const std::optional<double> x = joulesched::detail::parse_decimal(value);
      if (!x) fail(row.where(), name, quoted{value}, "not a finite number");
      *f->d = *x;
    } else {
      const std::optional<std::uint64_t> v = joulesched::detail::parse_unsigned(value);
      if (!v) fail(row.where(), name, quoted{value}, "not a whole number >= 0");
      if (f->u32 != nullptr) {
        if (*v > 0xFFFFFFFFull) fail(row.where(), name, quoted{value}, "too large");
        *f->u32 = static_cast<std::uint32_t>(*v);
      } else {
        *f->u64 = *v;
      }
    }
  }
  for (const auto& f : fields)
    if (!line_of.contains(f.name)) fail(where(last_line), f.name, "(absent)", "missing parameter");
  detail::validate_fields(m, [&](std::string_view field) { return where(line_of.find(field)->second); });
  return m;
}

/// @brief Reads a device model file (see parse_device_model for the format).
/// @throws config_error if the file cannot be opened (naming its absolute path and the reason; a directory
/// says so) or its contents are bad.
[[nodiscard]] inline device_model load_device_model(const std::filesystem::path& path) {
  std::ifstream in = joulesched::detail::open_input(path);
  return parse_device_model(in, path.string());
}

}  // namespace joulesched::sim
