// What the two trace harnesses check on every input, strict and lenient (trace.hpp's promises):
// - each mode either returns or throws config_error;
// - a trace read has rows, in arrival order, the first at 0, all finite; a strict read skipped nothing;
// - a lenient read keeps at most trace_max_skipped_examples messages, all when fewer lines were skipped;
// - lenient accepts whatever strict accepts, with the same rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <istream>
#include <string>

#include "joulesched/sim/trace.hpp"
#include "support.hpp"

namespace fuzz {

inline void check_trace(const joulesched::sim::trace& t) {
  using joulesched::sim::trace_row;
  require(!t.rows.empty(), "a trace read has at least one row");
  require(t.rows.front().arrival_s == 0.0, "the first arrival is 0");
  require(std::all_of(t.rows.begin(), t.rows.end(), [](const trace_row& r) { return std::isfinite(r.arrival_s); }),
          "arrivals are finite");
  require(std::is_sorted(t.rows.begin(), t.rows.end(),
                         [](const trace_row& a, const trace_row& b) { return a.arrival_s < b.arrival_s; }),
          "rows are in arrival order");
  require(t.skipped_examples.size() == std::min(t.skipped, joulesched::sim::trace_max_skipped_examples),
          "skipped_examples holds the first min(skipped, max) messages");
}

/// `read(stream, options)` is read_azure_trace or read_mooncake_trace with a fixed source name.
template <class Read>
void check_trace_reader(const std::string& bytes, Read&& read) {
  using joulesched::sim::trace;
  trace strict, lenient;
  const bool strict_ok = read_accepts(bytes, [&](std::istream& in) { strict = read(in, {.lenient = false}); });
  const bool lenient_ok = read_accepts(bytes, [&](std::istream& in) { lenient = read(in, {.lenient = true}); });
  if (strict_ok) {
    check_trace(strict);
    require(strict.skipped == 0, "a strict read skips nothing");
  }
  if (lenient_ok) check_trace(lenient);
  if (!strict_ok) return;
  require(lenient_ok, "lenient accepts what strict accepts");
  require(lenient.skipped == 0 && lenient.reordered == strict.reordered, "lenient agrees with strict");
  require(std::equal(strict.rows.begin(), strict.rows.end(), lenient.rows.begin(), lenient.rows.end(),
                     [](const auto& a, const auto& b) {
                       return a.arrival_s == b.arrival_s && a.input_tok == b.input_tok && a.output_tok == b.output_tok;
                     }),
          "lenient reads the same rows as strict");
}

}  // namespace fuzz
