/// @file trace.hpp
/// @brief Readers for request traces: the Azure LLM inference trace (CSV) and the Mooncake trace (JSON
/// lines), into one in-memory form of (arrival, input tokens, output tokens) rows.
///
/// When to use: to replay a production arrival process (see `trace_source` in trace_source.hpp), or to take
/// empirical token-length pairs for a synthetic mix (`default_mix`). Not for traces that do not fit in
/// memory: a row is 16 bytes, so 10 M rows are 160 MB.
///
/// Design: read the whole file, validate every field, then sort stably by timestamp (see below), then make
/// arrivals relative to the earliest row. Every malformed line throws `joulesched::config_error` naming
/// `source:line: field NAME = 'value': requirement` (the value echoed, bounded and escaped: error.hpp);
/// with `trace_options::lenient` the line is skipped and counted in `trace::skipped` instead, and the first
/// `trace_max_skipped_examples` messages are kept. Blank lines (only whitespace) are not data and are
/// ignored in both modes. Problems that are not about one line always throw: a missing header column, a
/// file with no valid row, a file that cannot be opened or is a directory, a line longer than
/// `bounds::max_line_bytes` (its end may be unbounded, as on /dev/zero), a span above the bound.
///
/// Bounds (sim/input_bounds.hpp), each a malformed line when broken: input tokens <= `max_input_tok`,
/// output tokens <= `max_output_tok`; Azure times in [azure_min_year-01-01, azure_max_year+1-01-01) UTC;
/// Mooncake timestamps in [0, max_mooncake_timestamp_ms]. After sorting, a gap above `max_arrival_gap_s`
/// between consecutive arrivals splits the trace into parts: strict, that is an error naming the row on
/// the far side of the gap (the row of the smaller part nearest the gap, file:line, its timestamp); lenient,
/// the part with the most rows is kept (the earliest of equal parts), every row of the others is skipped
/// and counted, and a warning says so. A span (last arrival - first) above `max_trace_span_s` always
/// throws. One outlier row so cannot stretch the span and squeeze the real rows into a burst.
///
/// Warnings: `trace::warnings` holds one sentence per thing a caller should know that is no error: rows
/// reordered, parts skipped for a gap, a format guessed from content (read_trace). The program prints them.
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
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/civil_time.hpp"
#include "joulesched/detail/csv.hpp"
#include "joulesched/detail/json_line.hpp"
#include "joulesched/detail/number.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/input_bounds.hpp"

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
  std::size_t skipped = 0;                    ///< lines skipped (lenient only): malformed, beyond a bound, past a gap
  std::vector<std::string> skipped_examples;  ///< messages of the first few skipped lines
  std::size_t reordered = 0;                  ///< rows whose timestamp was below the previous row's in the file
  std::vector<std::string> warnings;          ///< sentences for the user: reordering, skipped parts, guessed format
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
/// integers, so arrivals are exact to well under a microsecond. Token counts are whole numbers (a leading
/// `+` accepted) within the bounds above.
/// The CSV syntax is that of joulesched/detail/csv.hpp (quoted fields, `#` comment lines, CRLF and a BOM
/// are accepted; a row must have as many fields as the header).
/// @throws config_error on a bad header, or (unless lenient) on a malformed line; also when no row is valid.
[[nodiscard]] trace read_azure_trace(std::istream& in, std::string_view source_name, trace_options opts = {});
/// @brief Opens `path` and reads it with the stream overload; the source name is `path.string()`.
/// @throws config_error also when the file cannot be opened.
[[nodiscard]] trace read_azure_trace(const std::filesystem::path& path, trace_options opts = {});

/// @brief Reads a Mooncake trace: one JSON object per line with number fields `timestamp` (milliseconds,
/// in the decimal grammar of detail/number.hpp, rounded to the microsecond), `input_length` and
/// `output_length` (tokens, integers >= 0); every other key (e.g. `hash_ids`) is skipped whatever its value.
/// A UTF-8 byte-order mark and CRLF line ends are accepted.
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
/// anything else Azure CSV. Reads up to the first non-blank character (past a UTF-8 byte-order mark) and puts
/// it back; the whitespace it passes is consumed (so line numbers of a later read count from there:
/// read_trace does not use it).
[[nodiscard]] trace_format sniff_trace_format(std::istream& in);

/// @brief Reads either format, decided by the content: the first non-blank line starting with `{` (after a
/// BOM and blanks) is Mooncake JSON lines, anything else Azure CSV.
///
/// Extension and content: `.csv` says Azure; `.jsonl`, `.json` and `.ndjson` say Mooncake; other
/// extensions say nothing. When the extension says one format and the content shows the other (a `.csv`
/// whose first non-blank character is `{`, a `.jsonl` whose is not), the content wins: the trace is read in
/// the format the content shows, `trace::warnings` gets a sentence saying the format was guessed from the
/// content and why, and an error of that read ends with the same explanation.
[[nodiscard]] trace read_trace(const std::filesystem::path& path, trace_options opts = {});
/// @brief Reads either format from a stream, decided by the content as above (no extension to disagree).
[[nodiscard]] trace read_trace(std::istream& in, std::string_view source_name, trace_options opts = {});

// ---------------------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------------------
namespace trace_detail {

using joulesched::detail::civil_date;
using joulesched::detail::civil_from_days;
using joulesched::detail::days_from_civil;
using joulesched::detail::describe;
using joulesched::detail::echo;
using joulesched::detail::format_time_ns;
using joulesched::detail::is_blank;
using joulesched::detail::is_json_ws;
using joulesched::detail::json_cursor;
using joulesched::detail::parse_timestamp;
using joulesched::detail::quoted;
using joulesched::detail::utc_time;

/// Thrown inside a reader for an error of one line; caught there to throw or skip.
struct line_error {
  std::string message;
};

inline std::string where(std::string_view source, std::size_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

[[noreturn]] inline void line_fail(std::string_view source, std::size_t line, std::string_view field,
                                   std::string_view value, std::string_view requirement) {
  throw line_error{describe(where(source, line), "field " + std::string(field), quoted{value}, requirement)};
}

/// "must be <= N (bounds::NAME)" for a token bound.
inline std::string tok_bound_text(std::uint64_t bound, std::string_view name) {
  return "must be <= " + std::to_string(bound) + " (bounds::" + std::string(name) + ", sim/input_bounds.hpp)";
}

/// Parses a Mooncake token count: a whole number in [0, bound].
inline std::uint32_t parse_tok(std::string_view s, std::string_view source, std::size_t line, std::string_view field,
                               std::uint64_t bound, std::string_view bound_name) {
  // "-0" is also refused: a count is written without a sign.
  if (s.starts_with('-')) line_fail(source, line, field, s, "must be >= 0, written without a sign");
  const std::optional<std::uint64_t> v = joulesched::detail::parse_unsigned(s);
  if (!v) line_fail(source, line, field, s, "must be a non-negative integer");
  if (*v > bound) line_fail(source, line, field, s, tok_bound_text(bound, bound_name));
  return static_cast<std::uint32_t>(*v);
}

/// The Azure bounds in seconds since the epoch: [first, end).
inline constexpr std::int64_t azure_first_s = days_from_civil(bounds::azure_min_year, 1, 1) * 86400;
inline constexpr std::int64_t azure_end_s = days_from_civil(bounds::azure_max_year + 1, 1, 1) * 86400;

/// Microseconds as milliseconds with three decimals (a Mooncake timestamp's value, as read).
inline std::string format_time_us(std::int64_t us) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(us / 1000), static_cast<long long>(us % 1000));
  return buf;
}

/// Parses a Mooncake timestamp in milliseconds: a decimal number (detail/number.hpp) in
/// [0, bounds::max_mooncake_timestamp_ms]. Returns microseconds (an integer, so that sorting and
/// differences are exact), rounded to nearest.
inline std::int64_t parse_timestamp_ms_to_us(std::string_view s, std::string_view source, std::size_t line) {
  if (s.starts_with('-')) line_fail(source, line, "timestamp", s, "must be >= 0, written without a sign");
  const std::optional<double> ms = joulesched::detail::parse_decimal(s);
  if (!ms) line_fail(source, line, "timestamp", s, "must be a non-negative number of milliseconds");
  if (*ms > bounds::max_mooncake_timestamp_ms) {
    line_fail(source, line, "timestamp", s,
              "must be <= " + std::to_string(static_cast<std::int64_t>(bounds::max_mooncake_timestamp_ms)) +
                  " ms (a year from the trace's start: bounds::max_mooncake_timestamp_ms, sim/input_bounds.hpp)");
  }
  return std::llround(*ms * 1000.0);  // <= 3.2e13, exact in a double and an int64
}

/// A row before arrivals are made relative: an absolute time in integer units, and its file line.
struct raw_row {
  std::int64_t t = 0;
  std::uint32_t input_tok = 0;
  std::uint32_t output_tok = 0;
  std::size_t line = 0;
};

/// Records a line error: throws config_error unless lenient, else counts it.
inline void on_line_error(trace& out, const trace_options& opts, line_error&& e) {
  if (!opts.lenient) throw config_error(e.message);
  ++out.skipped;
  if (out.skipped_examples.size() < trace_max_skipped_examples) out.skipped_examples.push_back(std::move(e.message));
}

/// How a reader's times are kept: units per second, the field's name, and how to print a time.
struct time_unit {
  std::int64_t per_s;
  std::string_view field;
  std::string (*format)(std::int64_t);
};

/// Applies the gap bound to rows sorted by time: keeps the part with the most rows (the earliest of equal
/// parts) of those that gaps above bounds::max_arrival_gap_s separate. Strict: throws naming the row of
/// the neighbouring part nearest the kept one. Lenient: skips the other parts' rows, counts them, warns.
inline void cut_at_gaps(trace& out, std::vector<raw_row>& raw, const time_unit& u, const trace_options& opts) {
  const auto max_gap = static_cast<std::int64_t>(bounds::max_arrival_gap_s) * u.per_s;
  std::size_t best_begin = 0, best_end = 0, begin = 0, parts = 0;
  for (std::size_t k = 1; k <= raw.size(); ++k) {
    if (k < raw.size() && raw[k].t - raw[k - 1].t <= max_gap) continue;
    if (k - begin > best_end - best_begin) best_begin = begin, best_end = k;
    ++parts;
    begin = k;
  }
  if (parts == 1) return;
  const auto gap_requirement = [&](std::size_t far, std::size_t near) {
    const double gap_s = static_cast<double>(far > near ? raw[far].t - raw[near].t : raw[near].t - raw[far].t) /
                         static_cast<double>(u.per_s);
    char gap[32];
    std::snprintf(gap, sizeof gap, "%.0f", gap_s);
    return std::string("lies ") + gap + " s " + (far > near ? "after" : "before") + " the arrival on line " +
           std::to_string(raw[near].line) + ", a gap above " +
           std::to_string(static_cast<std::int64_t>(bounds::max_arrival_gap_s)) +
           " s (bounds::max_arrival_gap_s): a wrong date, or two traces joined; the main part has " +
           std::to_string(best_end - best_begin) + " rows";
  };
  const auto row_message = [&](std::size_t far, std::size_t near) {
    return describe(where(out.source, raw[far].line), "field " + std::string(u.field), quoted{u.format(raw[far].t)},
                    gap_requirement(far, near));
  };
  if (!opts.lenient) {
    if (best_begin > 0) throw config_error(row_message(best_begin - 1, best_begin));
    throw config_error(row_message(best_end, best_end - 1));
  }
  const std::size_t cut = raw.size() - (best_end - best_begin);
  for (std::size_t k = 0; k < raw.size(); ++k) {
    if (k >= best_begin && k < best_end) continue;
    ++out.skipped;
    if (out.skipped_examples.size() < trace_max_skipped_examples)
      out.skipped_examples.push_back(row_message(k, k < best_begin ? best_begin : best_end - 1));
  }
  out.warnings.push_back(out.source + ": skipped " + std::to_string(cut) + " rows in " + std::to_string(parts - 1) +
                         " parts of the trace that gaps above " +
                         std::to_string(static_cast<std::int64_t>(bounds::max_arrival_gap_s)) +
                         " s (bounds::max_arrival_gap_s) separate from its main part of " +
                         std::to_string(best_end - best_begin) + " rows");
  raw.erase(raw.begin() + static_cast<std::ptrdiff_t>(best_end), raw.end());
  raw.erase(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(best_begin));
}

/// Sorts stably, counts reorderings, applies the gap and span bounds, and converts times to seconds after
/// the earliest.
inline void finish_trace(trace& out, std::vector<raw_row>& raw, const time_unit& u, const trace_options& opts) {
  if (raw.empty()) {
    joulesched::detail::fail(
        out.source, "rows", out.skipped == 0 ? "none" : "none valid",
        "the trace must hold at least one valid row (" + std::to_string(out.skipped) + " malformed lines skipped)");
  }
  for (std::size_t k = 1; k < raw.size(); ++k) out.reordered += raw[k].t < raw[k - 1].t ? 1u : 0u;
  if (out.reordered != 0) {
    std::stable_sort(raw.begin(), raw.end(), [](const raw_row& a, const raw_row& b) { return a.t < b.t; });
    out.warnings.push_back(out.source + ": " + std::to_string(out.reordered) +
                           " rows have a timestamp below that of the row before them in the file; the rows were " +
                           "sorted by timestamp");
  }
  cut_at_gaps(out, raw, u, opts);
  const std::int64_t t0 = raw.front().t;
  const double span_s = static_cast<double>(raw.back().t - t0) / static_cast<double>(u.per_s);
  if (span_s > bounds::max_trace_span_s) {
    joulesched::detail::fail(
        where(out.source, raw.back().line), "field " + std::string(u.field), quoted{u.format(raw.back().t)},
        "ends a trace spanning " + std::to_string(static_cast<std::int64_t>(span_s)) + " s, more than " +
            std::to_string(static_cast<std::int64_t>(bounds::max_trace_span_s)) + " s (bounds::max_trace_span_s)");
  }
  out.rows.reserve(raw.size());
  // A division, not a multiplication by 1e-9: correctly rounded, so a whole number of seconds stays exact
  // (a span of exactly the bound must not come out an ulp above it).
  const auto per_s = static_cast<double>(u.per_s);
  for (const raw_row& r : raw) {
    out.rows.push_back(trace_row{static_cast<double>(r.t - t0) / per_s, r.input_tok, r.output_tok});
  }
}

inline constexpr time_unit azure_unit{1'000'000'000, "TIMESTAMP", &format_time_ns};
inline constexpr time_unit mooncake_unit{1'000'000, "timestamp", &format_time_us};

inline trace read_azure(joulesched::detail::line_reader& lines, trace_options opts) {
  trace out;
  out.source = lines.source();
  joulesched::detail::csv_reader csv(lines);  // throws on a missing or malformed header
  const std::size_t c_time = csv.require_column("TIMESTAMP");
  const std::size_t c_in = csv.require_column("ContextTokens");
  const std::size_t c_out = csv.require_column("GeneratedTokens");
  const auto tok = [](const joulesched::detail::csv_row& row, std::size_t col, std::uint64_t bound,
                      std::string_view bound_name) {
    if (row.text(col).starts_with('-')) row.fail(col, "must be >= 0, written without a sign");
    const std::uint64_t v = row.as_unsigned(col);
    if (v > bound) row.fail(col, tok_bound_text(bound, bound_name));
    return static_cast<std::uint32_t>(v);
  };
  std::vector<raw_row> raw;
  for (;;) {
    try {
      if (!csv.next()) break;  // throws for a row with the wrong number of fields or a bad quote
      const joulesched::detail::csv_row& row = csv.row();
      const auto t = parse_timestamp(row.text(c_time));
      if (!t) row.fail(c_time, "must be a time 'YYYY-MM-DD HH:MM:SS[.fraction]' (optionally Z or +HH:MM)");
      if (t->secs < azure_first_s || t->secs >= azure_end_s) {
        row.fail(c_time, "must be from " + std::to_string(bounds::azure_min_year) + "-01-01 to before " +
                             std::to_string(bounds::azure_max_year + 1) +
                             "-01-01 UTC (bounds::azure_min_year, azure_max_year; sim/input_bounds.hpp)");
      }
      const std::uint32_t in_tok = tok(row, c_in, bounds::max_input_tok, "max_input_tok");
      const std::uint32_t out_tok = tok(row, c_out, bounds::max_output_tok, "max_output_tok");
      raw.push_back({t->secs * 1'000'000'000 + t->frac_ns, in_tok, out_tok, row.line()});
    } catch (const joulesched::detail::input_error&) {
      throw;  // a line too long or a read error is not a malformed line
    } catch (config_error& e) {
      on_line_error(out, opts, line_error{e.what()});
    }
  }
  finish_trace(out, raw, azure_unit, opts);
  return out;
}

inline trace read_mooncake(joulesched::detail::line_reader& lines, trace_options opts) {
  trace out;
  out.source = lines.source();
  std::vector<raw_row> raw;
  while (lines.next()) {
    const std::string_view line = lines.line();
    const std::size_t line_no = lines.number();
    if (is_blank(line)) continue;
    try {
      const auto bad_line = [&](std::string_view why) {
        throw line_error{where(out.source, line_no) + ": " + std::string(why)};
      };
      json_cursor cur{line};
      if (!cur.eat('{')) bad_line("expected a JSON object starting with '{'");
      std::optional<std::string_view> ts, il, ol;
      if (!cur.eat('}')) {
        for (;;) {
          const auto key = cur.string();
          if (!key) bad_line("expected a quoted key");
          if (!cur.eat(':')) bad_line("expected ':' after key \"" + echo(*key) + "\"");
          const auto val = cur.value();
          if (!val) bad_line("malformed value of key \"" + echo(*key) + "\"");
          std::optional<std::string_view>* slot = *key == "timestamp"       ? &ts
                                                  : *key == "input_length"  ? &il
                                                  : *key == "output_length" ? &ol
                                                                            : nullptr;
          if (slot != nullptr) {
            if (slot->has_value()) line_fail(out.source, line_no, *key, *val, "key given twice in one object");
            *slot = *val;
          }
          if (cur.eat(',')) continue;
          if (cur.eat('}')) break;
          bad_line("expected ',' or '}' after the value of \"" + echo(*key) + "\"");
        }
      }
      cur.ws();
      if (cur.i != line.size()) bad_line("unexpected text after the closing '}'");
      if (!ts) line_fail(out.source, line_no, "timestamp", "", "missing (required: milliseconds)");
      if (!il) line_fail(out.source, line_no, "input_length", "", "missing (required: tokens)");
      if (!ol) line_fail(out.source, line_no, "output_length", "", "missing (required: tokens)");
      const std::int64_t t_us = parse_timestamp_ms_to_us(*ts, out.source, line_no);
      const std::uint32_t in_tok =
          parse_tok(*il, out.source, line_no, "input_length", bounds::max_input_tok, "max_input_tok");
      const std::uint32_t out_tok =
          parse_tok(*ol, out.source, line_no, "output_length", bounds::max_output_tok, "max_output_tok");
      raw.push_back({t_us, in_tok, out_tok, line_no});
    } catch (line_error& e) {
      on_line_error(out, opts, std::move(e));
    }
  }
  finish_trace(out, raw, mooncake_unit, opts);
  return out;
}

/// The format the content shows: the first non-blank line starting with '{' is Mooncake. Leaves that line
/// to be read again (hold). Nothing for an input of blank lines only.
inline std::optional<trace_format> content_format(joulesched::detail::line_reader& lines) {
  while (lines.next()) {
    const std::string_view l = lines.line();
    const auto* const first = std::find_if_not(l.begin(), l.end(), is_json_ws);
    if (first == l.end()) continue;
    lines.hold();
    return *first == '{' ? trace_format::mooncake_jsonl : trace_format::azure_csv;
  }
  return std::nullopt;
}

inline const char* format_name(trace_format f) noexcept {
  return f == trace_format::mooncake_jsonl ? "Mooncake JSON lines" : "Azure CSV";
}

/// Reads in the format the content shows; `said` is what the extension says, if anything. When they
/// disagree, warns (and explains in any error) that the format was guessed from the content.
inline trace read_by_content(joulesched::detail::line_reader& lines, std::optional<trace_format> said,
                             std::string_view ext, trace_options opts) {
  const std::optional<trace_format> shown = content_format(lines);
  const trace_format f = shown.value_or(said.value_or(trace_format::azure_csv));
  std::string guess;
  if (said && f != *said) {
    guess = "the format was guessed from the content: read as " + std::string(format_name(f)) + ", not as the " +
            format_name(*said) + " its extension '" + echo(ext) + "' says, because its first non-blank line (line " +
            std::to_string(lines.number()) + ") " + (f == trace_format::mooncake_jsonl ? "starts" : "does not start") +
            " with '{'";
  }
  try {
    trace t = f == trace_format::mooncake_jsonl ? read_mooncake(lines, opts) : read_azure(lines, opts);
    if (!guess.empty()) t.warnings.insert(t.warnings.begin(), t.source + ": " + guess);
    return t;
  } catch (const config_error& e) {
    if (guess.empty()) throw;
    throw config_error(std::string(e.what()) + " (" + guess + ")");
  }
}

}  // namespace trace_detail

inline trace read_azure_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  joulesched::detail::line_reader lines(in, std::string(source_name));
  return trace_detail::read_azure(lines, opts);
}

inline trace read_azure_trace(const std::filesystem::path& path, trace_options opts) {
  std::ifstream in = joulesched::detail::open_input(path);
  return read_azure_trace(in, path.string(), opts);
}

inline trace read_mooncake_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  joulesched::detail::line_reader lines(in, std::string(source_name));
  return trace_detail::read_mooncake(lines, opts);
}

inline trace read_mooncake_trace(const std::filesystem::path& path, trace_options opts) {
  std::ifstream in = joulesched::detail::open_input(path);
  return read_mooncake_trace(in, path.string(), opts);
}

inline trace_format sniff_trace_format(std::istream& in) {
  if (in.peek() == 0xEF) {  // a UTF-8 byte-order mark: EF BB BF
    in.get();
    if (in.peek() == 0xBB) in.get();
    if (in.peek() == 0xBF) in.get();
  }
  std::istream::sentry skip_ws(in);  // skips leading whitespace, newlines included
  if (!skip_ws) return trace_format::azure_csv;
  const auto c = in.peek();
  return c == '{' ? trace_format::mooncake_jsonl : trace_format::azure_csv;
}

inline trace read_trace(std::istream& in, std::string_view source_name, trace_options opts) {
  joulesched::detail::line_reader lines(in, std::string(source_name));
  return trace_detail::read_by_content(lines, std::nullopt, "", opts);
}

inline trace read_trace(const std::filesystem::path& path, trace_options opts) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::optional<trace_format> said;
  if (ext == ".csv") said = trace_format::azure_csv;
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") said = trace_format::mooncake_jsonl;
  std::ifstream in = joulesched::detail::open_input(path);
  joulesched::detail::line_reader lines(in, path.string());
  return trace_detail::read_by_content(lines, said, path.extension().string(), opts);
}

}  // namespace joulesched::sim
