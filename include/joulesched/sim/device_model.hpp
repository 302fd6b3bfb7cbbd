/// @file device_model.hpp
/// @brief Time and power of one GPU type serving one model, as the simulator needs them: how long a decode
/// iteration and a prefill take, and what the device draws while busy and while idle.
///
/// When to use: to drive the discrete-event simulator (sim/), or to build energy profiles for routers from
/// calibrated numbers. Not a cycle model: it is a handful of linear terms fitted to real measurements
/// (ML.ENERGY v2, Splitwise); data/devices/*.csv give every value with its source or stated assumption, and
/// scripts/fit_device_models.py re-fits them.
///
/// Design: a plain aggregate of doubles with the formulas as const member functions.
///   decode step (b running requests, contexts totalling C tokens) = base + per_seq*b + per_ctx_tok*C  seconds,
///     producing one token per running request;
///   prefill of n prompt tokens = prefill_base + prefill_per_tok*n  seconds;
///   busy power = min(tdp, busy_base + busy_per_seq*b)  watts, for b <= max_batch; idle power otherwise.
/// Decode and prefill are separate: energy_j_per_tok() and rate_tok_s() are steady decode only. To reproduce a
/// measured serving run (ML.ENERGY), charge each request's prefill_s() at busy power as well: the calibration
/// fitted b/throughput = decode_step_s + b * prefill_s(mean input) / mean output (see data/README.md).
/// Cost: every query is a few flops, no allocation, noexcept. Loading parses a ~20-line file.
#pragma once

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "joulesched/error.hpp"

namespace joulesched::sim {

/// @brief Parameters of one GPU type serving one model (see data/devices/*.csv for sources).
///
/// Preconditions of the queries: `batch >= 1` where a batch is taken (asserted in debug builds; a batch of
/// 0 is computed as 1 in release builds). The model does not enforce max_batch or kv_capacity_tok: the
/// scheduler that forms batches must respect them.
struct device_model {
  std::string gpu;            ///< GPU type, e.g. "A100-SXM4-40GB"
  std::string serving_model;  ///< served model, e.g. "Llama-3.1-8B-Instruct"
  double tdp_w = 0;                 ///< board power limit (spec); busy power never exceeds it
  double idle_power_w = 0;          ///< draw while no request is running
  double busy_power_base_w = 0;     ///< busy draw, intercept of the linear fit in batch size
  double busy_power_per_seq_w = 0;  ///< busy draw added per running request (may be < 0, see validate())
  double decode_step_base_s = 0;      ///< decode iteration time, fixed part (weights read once per step)
  double decode_step_per_seq_s = 0;   ///< decode iteration time per running request
  double decode_step_per_ctx_tok_s = 0;  ///< decode iteration time per token of context held (KV read)
  double prefill_base_s = 0;     ///< prefill time, fixed part
  double prefill_per_tok_s = 0;  ///< prefill time per prompt token
  std::uint32_t max_batch = 0;        ///< most requests running at once (>= 1)
  std::uint64_t kv_capacity_tok = 0;  ///< most context tokens the running requests may hold in total (>= 1)

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

/// validate() with a per-field location: `where(field)` names where that field came from.
template <class Where>
void validate_fields(const device_model& m, Where&& where) {
  using joulesched::detail::fail;
  using joulesched::detail::require_non_negative;
  using joulesched::detail::require_positive;
  if (m.gpu.empty()) fail(where("gpu"), "gpu", "\"\"", "must not be empty");
  if (m.serving_model.empty()) fail(where("serving_model"), "serving_model", "\"\"", "must not be empty");
  require_positive(m.tdp_w, where("tdp_w"), "tdp_w");
  require_non_negative(m.idle_power_w, where("idle_power_w"), "idle_power_w");
  require_non_negative(m.busy_power_base_w, where("busy_power_base_w"), "busy_power_base_w");
  joulesched::detail::require_finite(m.busy_power_per_seq_w, where("busy_power_per_seq_w"), "busy_power_per_seq_w");
  if (m.idle_power_w > m.busy_power_base_w)
    fail(where("idle_power_w"), "idle_power_w", m.idle_power_w,
         "must be <= busy_power_base_w (" + std::to_string(m.busy_power_base_w) + ")");
  if (m.busy_power_base_w > m.tdp_w)
    fail(where("busy_power_base_w"), "busy_power_base_w", m.busy_power_base_w,
         "must be <= tdp_w (" + std::to_string(m.tdp_w) + ")");
  require_positive(m.decode_step_base_s, where("decode_step_base_s"), "decode_step_base_s");
  require_non_negative(m.decode_step_per_seq_s, where("decode_step_per_seq_s"), "decode_step_per_seq_s");
  require_non_negative(m.decode_step_per_ctx_tok_s, where("decode_step_per_ctx_tok_s"),
                       "decode_step_per_ctx_tok_s");
  require_non_negative(m.prefill_base_s, where("prefill_base_s"), "prefill_base_s");
  require_non_negative(m.prefill_per_tok_s, where("prefill_per_tok_s"), "prefill_per_tok_s");
  if (!(m.prefill_base_s + m.prefill_per_tok_s > 0.0))
    fail(where("prefill_per_tok_s"), "prefill_per_tok_s", m.prefill_per_tok_s,
         "prefill of a one-token prompt must take > 0 s");
  if (m.max_batch < 1) fail(where("max_batch"), "max_batch", m.max_batch, "must be >= 1");
  // The slope may be negative (measured power can fall as throughput saturates), but never below idle.
  if (m.busy_power_base_w + m.busy_power_per_seq_w * static_cast<double>(m.max_batch) < m.idle_power_w)
    fail(where("busy_power_per_seq_w"), "busy_power_per_seq_w", m.busy_power_per_seq_w,
         "busy power at max_batch (" + std::to_string(m.max_batch) + ") must be >= idle_power_w (" +
             std::to_string(m.idle_power_w) + ")");
  if (m.kv_capacity_tok < 1) fail(where("kv_capacity_tok"), "kv_capacity_tok", m.kv_capacity_tok, "must be >= 1");
}

}  // namespace detail

/// @brief Checks every field: names non-empty; all numbers finite; tdp_w > 0; 0 <= idle_power_w <=
/// busy_power_base_w <= tdp_w; busy power at max_batch >= idle_power_w (busy_power_per_seq_w may be negative:
/// measured power can fall slightly as throughput saturates); time terms >= 0; decode_step_base_s > 0;
/// a one-token prefill takes > 0 s; max_batch >= 1; kv_capacity_tok >= 1.
/// @throws config_error naming `source`, the field and its value.
inline void validate(const device_model& m, std::string_view source) {
  detail::validate_fields(m, [&](std::string_view) { return source; });
}

namespace detail {

/// Splits one CSV line into fields; a field in double quotes may hold commas, "" is a literal quote.
/// Returns false on an unterminated quote.
inline bool split_csv_line(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(std::move(field));
  return !quoted;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace detail

/// @brief Reads a device model from `in`: a header line `parameter,value,unit,source`, then one line per
/// parameter (the names of device_model's fields, each exactly once). Blank lines and lines starting with
/// `#` are skipped. Unit and source are documentation and are not interpreted.
/// @param source the name used in error messages (usually the file name).
/// @throws config_error naming `source:line` and the field: bad header, unknown, duplicate or missing
/// parameter, a value that is not a number (or not a whole number for max_batch and kv_capacity_tok), or
/// any check of validate() failing.
[[nodiscard]] inline device_model parse_device_model(std::istream& in, std::string_view source) {
  using joulesched::detail::fail;
  device_model m;
  const std::string src(source);
  auto where = [&](std::size_t line_no) { return src + ":" + std::to_string(line_no); };

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
      {"decode_step_base_s", &m.decode_step_base_s, nullptr, nullptr, nullptr},
      {"decode_step_per_seq_s", &m.decode_step_per_seq_s, nullptr, nullptr, nullptr},
      {"decode_step_per_ctx_tok_s", &m.decode_step_per_ctx_tok_s, nullptr, nullptr, nullptr},
      {"prefill_base_s", &m.prefill_base_s, nullptr, nullptr, nullptr},
      {"prefill_per_tok_s", &m.prefill_per_tok_s, nullptr, nullptr, nullptr},
      {"max_batch", nullptr, &m.max_batch, nullptr, nullptr},
      {"kv_capacity_tok", nullptr, nullptr, &m.kv_capacity_tok, nullptr},
  };

  std::map<std::string, std::size_t, std::less<>> line_of;  // parameter -> line it was read from
  std::vector<std::string> cols;
  std::string line;
  std::size_t line_no = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view t = detail::trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (!detail::split_csv_line(t, cols)) fail(where(line_no), "line", t, "unterminated quote");
    for (auto& c : cols) c = std::string(detail::trim(c));
    if (!header_seen) {
      if (cols.size() != 4 || cols[0] != "parameter" || cols[1] != "value" || cols[2] != "unit" ||
          cols[3] != "source")
        fail(where(line_no), "header", t, "must be parameter,value,unit,source");
      header_seen = true;
      continue;
    }
    if (cols.size() != 4) fail(where(line_no), "line", t, "must have 4 fields: parameter,value,unit,source");
    const std::string& name = cols[0];
    const std::string& value = cols[1];
    const auto f = std::find_if(fields.begin(), fields.end(), [&](const field_ref& r) { return name == r.name; });
    if (f == fields.end()) fail(where(line_no), name, value, "unknown parameter");
    if (const auto prev = line_of.find(name); prev != line_of.end())
      fail(where(line_no), name, value, "duplicate parameter (first on line " + std::to_string(prev->second) + ")");
    line_of.emplace(name, line_no);
    const char* first = value.data();
    const char* last = value.data() + value.size();
    if (f->s != nullptr) {
      *f->s = value;
    } else if (f->d != nullptr) {
      const auto r = std::from_chars(first, last, *f->d);
      if (value.empty() || r.ec != std::errc{} || r.ptr != last || !std::isfinite(*f->d))
        fail(where(line_no), name, "\"" + value + "\"", "not a finite number");
    } else {
      std::uint64_t v = 0;
      const auto r = std::from_chars(first, last, v);
      if (value.empty() || r.ec != std::errc{} || r.ptr != last)
        fail(where(line_no), name, "\"" + value + "\"", "not a whole number >= 0");
      if (f->u32 != nullptr) {
        if (v > 0xFFFFFFFFull) fail(where(line_no), name, value, "too large");
        *f->u32 = static_cast<std::uint32_t>(v);
      } else {
        *f->u64 = v;
      }
    }
  }
  if (!header_seen) fail(src, "header", "(none)", "missing: expected parameter,value,unit,source");
  for (const auto& f : fields)
    if (line_of.count(f.name) == 0) fail(src + ":" + std::to_string(line_no), f.name, "(absent)", "missing parameter");
  detail::validate_fields(m, [&](std::string_view field) { return where(line_of.find(field)->second); });
  return m;
}

/// @brief Reads a device model file (see parse_device_model for the format).
/// @throws config_error if the file cannot be opened or its contents are bad.
[[nodiscard]] inline device_model load_device_model(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) joulesched::detail::fail(path.string(), "file", path.string(), "cannot open");
  return parse_device_model(in, path.string());
}

}  // namespace joulesched::sim
