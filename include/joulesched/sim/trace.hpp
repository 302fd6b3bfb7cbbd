/// @file trace.hpp
/// @brief Readers for request traces: the Azure LLM inference trace (CSV) and the Mooncake trace (JSON
/// lines), into one in-memory form of (arrival, input tokens, output tokens) rows.
///
/// When to use: to replay a production arrival process (see `trace_source` in workload.hpp), or to take
/// empirical token-length pairs for a synthetic mix (`default_mix`). Not for traces that do not fit in
/// memory: a row is 16 bytes, so 10 M rows are 160 MB.
///
/// Design: read the whole file, validate every field, then sort stably by timestamp (see below), then make
/// arrivals relative to the earliest row. Every malformed line throws `joulesched::config_error` naming
/// `source:line: field NAME = 'value': requirement`; with `trace_options::lenient` the line is skipped and
/// counted in `trace::skipped` instead, and the first `trace_max_skipped_examples` messages are kept.
/// Blank lines (only whitespace) are not data and are ignored in both modes. Problems that are not about
/// one line (a missing header column, a file with no valid row, a file that cannot be opened) always throw.
///
/// Out-of-order timestamps: real traces are sorted (the Azure 2023 conversation trace is; checked on all
/// 19,366 rows), but a merged or hand-edited file may not be. Such rows are not errors: the rows are
/// sorted stably by timestamp, `arrival_s` is relative to the earliest timestamp, and `trace::reordered`
/// counts rows whose timestamp was smaller than that of the row before them in the file, so a caller who
/// cares can reject the trace.
///
/// Cost: one pass over the file, O(n) (plus O(n log n) for a sort when rows are out of order); about
/// 0.2 us per Azure row (g++ -O2).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <istream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"

namespace joulesched::sim {

/// @brief One request of a trace.
struct trace_row {
  double arrival_s = 0;          ///< seconds after the earliest row of the trace
  std::uint32_t input_tok = 0;   ///< prompt tokens
  std::uint32_t output_tok = 0;  ///< generated tokens
};

/// @brief A whole trace in arrival order (`rows[i].arrival_s` non-decreasing, `rows.front().arrival_s == 0`).
struct trace {
  std::string source;                         ///< the file name or stream name it was read from
  std::vector<trace_row> rows;                ///< valid rows, sorted by arrival
  std::size_t skipped = 0;                    ///< malformed lines skipped (lenient mode only; else 0)
  std::vector<std::string> skipped_examples;  ///< messages of the first few skipped lines
  std::size_t reordered = 0;                  ///< rows whose timestamp was below the previous row's in the file
};

/// @brief How to read a trace.
struct trace_options {
  /// false: the first malformed line throws config_error. true: malformed lines are skipped and counted.
  bool lenient = false;
};

/// How many skipped-line messages a lenient read keeps in `trace::skipped_examples` (the count is exact).
inline constexpr std::size_t trace_max_skipped_examples = 5;

/// @brief Reads an Azure LLM inference trace (2023 format): CSV with a header naming the columns
/// `TIMESTAMP`, `ContextTokens`, `GeneratedTokens` (any order; other columns ignored).
///
/// TIMESTAMP is `YYYY-MM-DD HH:MM:SS[.fraction]` (up to 9 fractional digits; e.g.
/// `2023-11-16 18:15:46.6805900`), optionally followed by `Z` or a UTC offset `+HH:MM`/`-HH:MM` (the 2024
/// Azure traces carry `+00:00`); without one the time is taken as UTC. Times are kept to the nanosecond in
/// integers, so arrivals are exact to well under a microsecond. Token counts are integers in [0, 2^32).
/// The CSV syntax is that of joulesched/detail/csv.hpp (quoted fields, `#` comment lines, CRLF and a BOM
/// are accepted; a row must have as many fields as the header).
/// @throws config_error on a bad header, or (unless lenient) on a malformed line; also when no row is valid.
[[nodiscard]] trace read_azure_trace(std::istream& in, std::string_view source_name, trace_options opts = {});
/// @brief Opens `path` and reads it with the stream overload; the source name is `path.string()`.
/// @throws config_error also when the file cannot be opened.
[[nodiscard]] trace read_azure_trace(const std::filesystem::path& path, trace_options opts = {});

/// @brief Reads a Mooncake trace: one JSON object per line with number fields `timestamp` (milliseconds),
/// `input_length` and `output_length` (tokens, integers >= 0); every other key (e.g. `hash_ids`) is
/// skipped whatever its value.
///
/// Not a general JSON parser: each non-blank line must be one flat object; values may be numbers,
/// strings, true/false/null or arrays/objects (skipped by bracket matching, strings respected). A key given
/// twice, a missing required key or trailing text is an error of that line.
/// @throws config_error as read_azure_trace.
[[nodiscard]] trace read_mooncake_trace(std::istream& in, std::string_view source_name, trace_options opts = {});
/// @brief Opens `path` and reads it with the stream overload.
[[nodiscard]] trace read_mooncake_trace(const std::filesystem::path& path, trace_options opts = {});

/// @brief Which reader a trace needs.
enum class trace_format : std::uint8_t { azure_csv, mooncake_jsonl };

/// @brief Guesses a format from content: the first non-blank character `{` means Mooncake JSON lines,
/// anything else Azure CSV. Reads up to the first non-blank character and puts it back.
[[nodiscard]] trace_format sniff_trace_format(std::istream& in);

/// @brief Reads either format. The extension decides first: `.csv` is Azure; `.jsonl`, `.json` and
/// `.ndjson` are Mooncake; any other extension (or none) is decided by `sniff_trace_format`.
[[nodiscard]] trace read_trace(const std::filesystem::path& path, trace_options opts = {});
/// @brief Reads either format from a stream, decided by `sniff_trace_format`.
[[nodiscard]] trace read_trace(std::istream& in, std::string_view source_name, trace_options opts = {});

// ---------------------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------------------
namespace trace_detail {

/// Thrown inside a reader for an error of one line; caught there to throw or skip.
struct line_error {
  std::string message;
};

inline std::string_view trim(std::string_view s) noexcept {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string where(std::string_view source, std::size_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

[[noreturn]] inline void line_fail(std::string_view source, std::size_t line, std::string_view field,
                                   std::string_view value, std::string_view requirement) {
  throw line_error{joulesched::detail::describe(where(source, line), "field " + std::string(field),
                                                "'" + std::string(value) + "'", requirement)};
}

/// Parses a token count: a decimal integer in [0, 2^32).
inline std::uint32_t parse_tok(std::string_view text, std::string_view source, std::size_t line,
                               std::string_view field) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') {
    // "-0" is also refused: a count is written without a sign.
    line_fail(source, line, field, s, "must be >= 0");
  }
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || p != s.data() + s.size()) {
    line_fail(source, line, field, s, "must be a non-negative integer");
  }
  if (ec == std::errc::result_out_of_range || v > std::numeric_limits<std::uint32_t>::max()) {
    line_fail(source, line, field, s, "must be <= 4294967295");
  }
  return static_cast<std::uint32_t>(v);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29u : days[m - 1];
}

/// Parses `YYYY-MM-DD HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM]` into nanoseconds since the Unix epoch (UTC).
/// Returns nullopt on any deviation (the caller names the field).
inline std::optional<std::int64_t> parse_timestamp_ns(std::string_view s) noexcept {
  std::size_t i = 0;
  const auto digits = [&](std::size_t n, unsigned& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<unsigned>(c - '0');
    }
    i += n;
    return true;
  };
  const auto lit = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!(digits(4, y) && lit('-') && digits(2, mo) && lit('-') && digits(2, d) && (lit(' ') || lit('T')) &&
        digits(2, h) && lit(':') && digits(2, mi) && lit(':') && digits(2, se))) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59) return std::nullopt;
  std::int64_t frac_ns = 0;
  if (lit('.')) {
    std::size_t n = 0;
    std::int64_t f = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (++n > 9) return std::nullopt;
      f = f * 10 + (s[i] - '0');
      ++i;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) f *= 10;
    frac_ns = f;
  }
  std::int64_t offset_s = 0;
  if (lit('Z')) {
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i] == '-';
    ++i;
    unsigned oh = 0, om = 0;
    if (!(digits(2, oh) && lit(':') && digits(2, om)) || oh > 23 || om > 59) return std::nullopt;
    offset_s = (neg ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

/// A row before arrivals are made relative: an absolute time in integer units.
struct raw_row {
  std::int64_t t = 0;
  std::uint32_t input_tok = 0;
  std::uint32_t output_tok = 0;
};

/// Records a line error: throws config_error unless lenient, else counts it.
inline void on_line_error(trace& out, const trace_options& opts, line_error&& e) {
  if (!opts.lenient) throw config_error(std::move(e.message));
  ++out.skipped;
  if (out.skipped_examples.size() < trace_max_skipped_examples) out.skipped_examples.push_back(std::move(e.message));
}

/// Sorts stably, counts reorderings, and converts times to seconds after the earliest.
inline void finish_trace(trace& out, std::vector<raw_row>& raw, double seconds_per_unit) {
  if (raw.empty()) {
    joulesched::detail::fail(out.source, "rows", out.skipped == 0 ? "none" : "none valid",
                             "the trace must hold at least one valid row (" + std::to_string(out.skipped) +
                                 " malformed lines skipped)");
  }
  for (std::size_t k = 1; k < raw.size(); ++k) out.reordered += raw[k].t < raw[k - 1].t ? 1u : 0u;
  if (out.reordered != 0) {
    std::stable_sort(raw.begin(), raw.end(), [](const raw_row& a, const raw_row& b) { return a.t < b.t; });
  }
  const std::int64_t t0 = raw.front().t;
  out.rows.reserve(raw.size());
  for (const raw_row& r : raw) {
    out.rows.push_back(trace_row{static_cast<double>(r.t - t0) * seconds_per_unit, r.input_tok, r.output_tok});
  }
}

inline std::ifstream open_trace(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) joulesched::detail::fail(path.string(), "file", std::quoted(path.string(), '\''), "cannot be opened");
  return in;
}

inline bool is_blank(std::string_view s) noexcept { return trim(s).empty(); }

// ---- Mooncake: a minimal scanner for one flat JSON object per line ----

struct json_cursor {
  std::string_view s;
  std::size_t i = 0;
  void ws() noexcept {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  }
  [[nodiscard]] bool eat(char c) noexcept {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  /// Reads a string (escapes kept raw; keys of interest have none). Cursor on the opening quote.
  [[nodiscard]] std::optional<std::string_view> string() {
    ws();
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    const std::size_t start = ++i;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    if (i >= s.size()) return std::nullopt;
    return s.substr(start, i++ - start);
  }
  /// Skips one value of any kind; returns its text, or nullopt when malformed.
  [[nodiscard]] std::optional<std::string_view> value() {
    ws();
    if (i >= s.size()) return std::nullopt;
    const std::size_t start = i;
    if (s[i] == '"') {
      if (!string()) return std::nullopt;
      return s.substr(start, i - start);
    }
    if (s[i] == '[' || s[i] == '{') {
      std::string closers;  // the brackets still open, innermost last
      while (i < s.size()) {
        const char c = s[i];
        if (c == '"') {
          if (!string()) return std::nullopt;
          continue;
        }
        if (c == '[' || c == '{') closers.push_back(c == '[' ? ']' : '}');
        if (c == ']' || c == '}') {
          if (closers.empty() || closers.back() != c) return std::nullopt;  // mismatched bracket
          closers.pop_back();
          if (closers.empty()) {
            ++i;
            return s.substr(start, i - start);
          }
        }
        ++i;
      }
      return std::nullopt;
    }
    // number or literal: up to the next delimiter
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\r') {
      ++i;
    }
    if (i == start) return std::nullopt;
    return s.substr(start, i - start);
  }
};

/// Parses a Mooncake timestamp in milliseconds: a non-negative JSON number. Returns microseconds (an
/// integer, so that sorting and differences are exact; a fraction below 1 us is rounded to nearest).
inline std::int64_t parse_timestamp_ms_to_us(std::string_view text, std::string_view source, std::size_t line) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') line_fail(source, line, "timestamp", s, "must be >= 0");
  std::uint64_t whole = 0;
  const char* const end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, whole);
  bool ok = !s.empty() && ec == std::errc{} && whole <= 9'000'000'000'000ull;  // < 285 years in ms
  std::int64_t us = static_cast<std::int64_t>(whole) * 1000;
  const char* q = p;
  if (ok && q != end && *q == '.') {
    ++q;
    std::int64_t scale = 100;
    const char* const digits_start = q;
    std::int64_t frac_us = 0;
    bool round_up = false;
    for (; q != end && *q >= '0' && *q <= '9'; ++q) {
      if (scale >= 1) {
        frac_us += (*q - '0') * scale;
        scale /= 10;
      } else if (scale == 0) {
        round_up = *q >= '5';
        scale = -1;
      }
    }
    ok = q != digits_start;
    us += frac_us + (round_up ? 1 : 0);
  }
  if (!ok || q != end) {
    line_fail(source, line, "timestamp", s, "must be a non-negative number of milliseconds (no exponent)");
  }
  return us;
}

}  // namespace trace_detail

inline trace read_azure_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  trace out;
  out.source = std::string(source_name);
  joulesched::detail::csv_reader csv(in, out.source);  // throws on a missing or malformed header
  const std::size_t c_time = csv.require_column("TIMESTAMP");
  const std::size_t c_in = csv.require_column("ContextTokens");
  const std::size_t c_out = csv.require_column("GeneratedTokens");
  const auto tok = [](const joulesched::detail::csv_row& row, std::size_t col) {
    if (row.text(col).starts_with('-')) row.fail(col, "must be >= 0");
    return row.as_unsigned<std::uint32_t>(col);
  };
  std::vector<trace_detail::raw_row> raw;
  for (;;) {
    try {
      if (!csv.next()) break;  // throws for a row with the wrong number of fields or a bad quote
      const joulesched::detail::csv_row& row = csv.row();
      const auto t = trace_detail::parse_timestamp_ns(row.text(c_time));
      if (!t) row.fail(c_time, "must be a time 'YYYY-MM-DD HH:MM:SS[.fraction]' (optionally Z or +HH:MM)");
      const std::uint32_t in_tok = tok(row, c_in);
      const std::uint32_t out_tok = tok(row, c_out);
      raw.push_back({*t, in_tok, out_tok});
    } catch (config_error& e) {
      if (in.bad()) throw;  // a read error is not a malformed line
      trace_detail::on_line_error(out, opts, trace_detail::line_error{e.what()});
    }
  }
  trace_detail::finish_trace(out, raw, 1e-9);
  return out;
}

inline trace read_azure_trace(const std::filesystem::path& path, trace_options opts) {
  std::ifstream in = trace_detail::open_trace(path);
  return read_azure_trace(in, path.string(), opts);
}

inline trace read_mooncake_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  trace out;
  out.source = std::string(source_name);
  std::string line;
  std::size_t line_no = 0;
  std::vector<trace_detail::raw_row> raw;
  while (std::getline(in, line)) {
    ++line_no;
    if (trace_detail::is_blank(line)) continue;
    try {
      const auto bad_line = [&](std::string_view why) {
        throw trace_detail::line_error{trace_detail::where(out.source, line_no) + ": " + std::string(why)};
      };
      trace_detail::json_cursor cur{line};
      if (!cur.eat('{')) bad_line("expected a JSON object starting with '{'");
      std::optional<std::string_view> ts, il, ol;
      if (!cur.eat('}')) {
        for (;;) {
          const auto key = cur.string();
          if (!key) bad_line("expected a quoted key");
          if (!cur.eat(':')) bad_line("expected ':' after key \"" + std::string(*key) + "\"");
          const auto val = cur.value();
          if (!val) bad_line("malformed value of key \"" + std::string(*key) + "\"");
          std::optional<std::string_view>* slot = *key == "timestamp"       ? &ts
                                                  : *key == "input_length"  ? &il
                                                  : *key == "output_length" ? &ol
                                                                            : nullptr;
          if (slot != nullptr) {
            if (slot->has_value()) {
              trace_detail::line_fail(out.source, line_no, *key, *val, "key given twice in one object");
            }
            *slot = *val;
          }
          if (cur.eat(',')) continue;
          if (cur.eat('}')) break;
          bad_line("expected ',' or '}' after the value of \"" + std::string(*key) + "\"");
        }
      }
      cur.ws();
      if (cur.i != line.size()) bad_line("unexpected text after the closing '}'");
      if (!ts) trace_detail::line_fail(out.source, line_no, "timestamp", "", "missing (required: milliseconds)");
      if (!il) trace_detail::line_fail(out.source, line_no, "input_length", "", "missing (required: tokens)");
      if (!ol) trace_detail::line_fail(out.source, line_no, "output_length", "", "missing (required: tokens)");
      const std::int64_t t_us = trace_detail::parse_timestamp_ms_to_us(*ts, out.source, line_no);
      const std::uint32_t in_tok = trace_detail::parse_tok(*il, out.source, line_no, "input_length");
      const std::uint32_t out_tok = trace_detail::parse_tok(*ol, out.source, line_no, "output_length");
      raw.push_back({t_us, in_tok, out_tok});
    } catch (trace_detail::line_error& e) {
      trace_detail::on_line_error(out, opts, std::move(e));
    }
  }
  trace_detail::finish_trace(out, raw, 1e-6);
  return out;
}

inline trace read_mooncake_trace(const std::filesystem::path& path, trace_options opts) {
  std::ifstream in = trace_detail::open_trace(path);
  return read_mooncake_trace(in, path.string(), opts);
}

inline trace_format sniff_trace_format(std::istream& in) {
  std::istream::sentry skip_ws(in);  // skips leading whitespace, newlines included
  if (!skip_ws) return trace_format::azure_csv;
  const auto c = in.peek();
  return c == '{' ? trace_format::mooncake_jsonl : trace_format::azure_csv;
}

inline trace read_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  return sniff_trace_format(in) == trace_format::mooncake_jsonl ? read_mooncake_trace(in, source_name, opts)
                                                                 : read_azure_trace(in, source_name, opts);
}

inline trace read_trace(const std::filesystem::path& path, trace_options opts) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (ext == ".csv") return read_azure_trace(path, opts);
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return read_mooncake_trace(path, opts);
  std::ifstream in = trace_detail::open_trace(path);
  return sniff_trace_format(in) == trace_format::mooncake_jsonl ? read_mooncake_trace(in, path.string(), opts)
                                                                 : read_azure_trace(in, path.string(), opts);
}

}  // namespace joulesched::sim
