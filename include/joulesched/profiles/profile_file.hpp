/// @file profile_file.hpp
/// @brief Reads an energy_profile (energy_profile.hpp) from a CSV table: `parse_energy_profile` from a stream,
/// `load_energy_profile` from a file.
///
/// File format (load_energy_profile / parse_energy_profile), read with detail::csv_reader:
/// @code
/// # name: A100-SXM4-40GB/Llama-3.1-8B-Instruct
/// # any other comment lines, e.g. where the numbers come from
/// batch_size,seq_len_tok,energy_j_per_tok,rate_tok_s
/// 1,512,0.9,40
/// 1,2048,1.1,36
/// 8,512,0.35,290
/// 8,2048,0.42,250
/// @endcode
/// - Columns are found by name: their order is free and other columns (e.g. `source`) are ignored.
/// - batch_size: finite, >= 1 (may be fractional: a mean batch). seq_len_tok: tokens, finite, >= 0.
///   energy_j_per_tok: joules per token, finite, >= 0. rate_tok_s: tokens per second, finite, > 0.
///   Numbers are in the grammar of detail/number.hpp (no inf, nan or hex).
/// - Bounds (sim/input_bounds.hpp; a value beyond one is an error naming file:line:field): batch_size <=
///   bounds::max_batch; seq_len_tok <= max_input_tok + max_output_tok (the longest request); energy_j_per_tok
///   <= max_power_w x max_pass_s (a device at its highest power for the longest pass, for one token);
///   rate_tok_s >= 1 / max_pass_s (at least one token per longest pass). See profile_bounds below.
/// - The rows must cover the full grid: every batch size that appears with every seq length that appears,
///   each pair exactly once, in any order. One batch size or one seq length alone is fine (that axis is then
///   constant).
/// - An optional comment `# name: <text>` sets name(); otherwise name() is the file's stem (the source with
///   its directories and extension dropped).
/// - Blank lines and `#` lines are skipped anywhere; fields may be quoted; CRLF, a UTF-8 BOM are fine; a line
///   holds at most bounds::max_line_bytes (see detail/csv.hpp). A directory or unreadable file is named with
///   its absolute path and the reason.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"
#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/sim/input_bounds.hpp"

namespace joulesched {

/// @brief The bounds parse_energy_profile applies, derived from sim/input_bounds.hpp (see the file note).
namespace profile_bounds {
inline constexpr double max_batch = static_cast<double>(sim::bounds::max_batch);
inline constexpr double max_seq_len_tok = static_cast<double>(sim::bounds::max_input_tok + sim::bounds::max_output_tok);
inline constexpr double max_energy_j_per_tok = sim::bounds::max_power_w * sim::bounds::max_pass_s;
inline constexpr double min_rate_tok_s = 1.0 / sim::bounds::max_pass_s;
}  // namespace profile_bounds

/// @brief Reads a profile in the CSV format described at the top of this header.
/// @param in the table; @param source its name in messages (usually the file path); its stem is the default
///        name().
/// Complexity: O(rows log rows).
/// @throws config_error naming source:line:field and the text for a malformed line or number or a value out of
/// range; source:line and the first line for a repeated (batch_size, seq_len_tok) pair; the missing pair for a
/// hole in the grid; the source for a missing column or a table with no rows.
[[nodiscard]] inline energy_profile parse_energy_profile(std::istream& in, std::string_view source) {
  detail::csv_reader csv(in, std::string(source));
  const std::size_t batch_col = csv.require_column("batch_size");
  const std::size_t seq_col = csv.require_column("seq_len_tok");
  const std::size_t energy_col = csv.require_column("energy_j_per_tok");
  const std::size_t rate_col = csv.require_column("rate_tok_s");

  struct measured {
    profile_point value;
    std::size_t line;
  };
  std::map<std::pair<double, double>, measured> points;  // (batch, seq) -> value; grids are small
  while (csv.next()) {
    const detail::csv_row& row = csv.row();
    const double batch = row.as_finite(batch_col);
    if (batch < 1.0) row.fail(batch_col, "must be >= 1");
    if (batch > profile_bounds::max_batch)
      row.fail(batch_col, "must be <= " + detail::shortest(profile_bounds::max_batch) + " (bounds::max_batch)");
    const double seq = row.as_non_negative(seq_col);
    if (seq > profile_bounds::max_seq_len_tok)
      row.fail(seq_col, "must be <= " + detail::shortest(profile_bounds::max_seq_len_tok) +
                            " (bounds::max_input_tok + max_output_tok)");
    const profile_point value{row.as_non_negative(energy_col), row.as_positive(rate_col)};
    if (value.energy_j_per_tok > profile_bounds::max_energy_j_per_tok)
      row.fail(energy_col, "must be <= " + detail::shortest(profile_bounds::max_energy_j_per_tok) +
                               " J (bounds::max_power_w x max_pass_s)");
    if (value.rate_tok_s < profile_bounds::min_rate_tok_s)
      row.fail(rate_col, "must be >= " + detail::shortest(profile_bounds::min_rate_tok_s) +
                             " token/s (one token per bounds::max_pass_s)");
    const auto [it, inserted] = points.try_emplace({batch, seq}, measured{value, row.line()});
    if (!inserted) {
      std::ostringstream os;
      os.precision(17);
      os << row.where() << ": duplicate grid point batch_size = " << batch << ", seq_len_tok = " << seq
         << " (first on line " << it->second.line << ')';
      throw config_error(os.str());
    }
  }
  if (points.empty())
    throw config_error(csv.source() + ':' + std::to_string(csv.header_line()) +
                       ": the table has a header but no data rows");

  std::vector<double> batches, seqs;
  for (const auto& [key, m] : points) {
    batches.push_back(key.first);
    seqs.push_back(key.second);
  }
  // The map is sorted by (batch, seq): batches come out sorted, seqs need sorting.
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());

  // A hole is found within points.size() + 1 cells, so this loop is O(points) even when the grid the axes
  // span is far larger than the rows (reserve only once the grid is known to be full).
  std::vector<double> energy, rate;
  if (points.size() == batches.size() * seqs.size()) {
    energy.reserve(points.size());
    rate.reserve(points.size());
  }
  for (const double b : batches) {
    for (const double s : seqs) {
      const auto it = points.find({b, s});
      if (it == points.end()) {
        std::ostringstream os;
        os.precision(17);
        os << csv.source() << ": hole in the grid: no row for batch_size = " << b << ", seq_len_tok = " << s
           << " (every batch size needs a row for every seq length; the table has " << batches.size()
           << " batch sizes and " << seqs.size() << " seq lengths)";
        throw config_error(os.str());
      }
      energy.push_back(it->second.value.energy_j_per_tok);
      rate.push_back(it->second.value.rate_tok_s);
    }
  }

  std::string name;
  if (const auto named = csv.comment_value("name")) {
    if (named->text.empty())
      throw config_error(csv.source() + ':' + std::to_string(named->line) + ": comment 'name' is empty");
    name = named->text;
  } else {
    name = std::filesystem::path(source).stem().string();
  }
  return energy_profile(std::move(name), std::move(batches), std::move(seqs), energy, rate);
}

/// @brief Reads a profile from a CSV file (format at the top of this header).
/// Complexity: O(rows log rows).
/// @throws config_error naming the absolute path and the reason if it cannot be opened (a directory says so),
/// and as parse_energy_profile otherwise.
[[nodiscard]] inline energy_profile load_energy_profile(const std::filesystem::path& path) {
  std::ifstream in = detail::open_input(path);
  return parse_energy_profile(in, path.string());
}

}  // namespace joulesched
