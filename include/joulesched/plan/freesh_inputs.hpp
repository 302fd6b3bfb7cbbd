/// @file freesh_inputs.hpp
/// @brief Readers for the four input tables of FREESH's pool-level planner (He et al., arXiv 2511.00807; the
/// authors' data in data/freesh/): the sites and their GPUs, the (class, mode) profiles, the demand per class
/// and the emission coefficient per site, one row per 5-minute step.
///
/// When to use: to load the FREESH inputs (data/freesh/README.md describes them) for plan/freesh_planner.hpp.
///
/// Formats (read with detail::csv_reader: quoting, `#` comments, blank lines, CRLF as described there):
/// - `sites.csv`: `site` (a name, distinct), then one column per GPU type (`A100`, `H100`, ...) holding the GPUs
///   installed at that site, a whole number in [0, 1000000].
/// - `profiles_partition_<p>.csv`: `request_class, mode, gpu_type, gpus, instance_power_w, max_qps,
///   e2e_latency_s, tbt_ms, ttft_ms`. A class name starts with `S` (short prompt) or `L` (long prompt), as
///   FREESH's SS, SL, LS, LL. `gpu_type` must be a GPU column of sites.csv; `gpus` in [1, 1000000]; a mode has
///   the same gpu_type and gpus in every class. `instance_power_w` > 0; `max_qps` >= 0 (0: the mode cannot
///   serve the class); the latencies >= 0. Every class has a row for every mode, and no (class, mode) twice.
/// - `demand_qps_partition_<p>.csv`: `step, start_s`, then one column per class of the profiles (and no
///   other), requests/s >= 0.
/// - `emission_coefficient_3sites.csv`: `step, start_s`, then one column per site of sites.csv (and no other),
///   any finite number (the authors' coefficients are sometimes negative).
/// - In both series, row k has step k (from 0, no gap, no repeat) and start_s = k x 300 (freesh_step_s);
///   the two series have the same number of steps.
///
/// Every error is a config_error naming `file:line`, the field and its value (NaN and inf are not numbers in
/// detail/number.hpp's grammar, so they are refused as such). Design: each table is read into a plain struct
/// in the order of its file; the series are reordered to the profiles' classes and the sites' order.
/// Cost: O(rows x columns) per table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"

namespace joulesched::plan {

/// The length of one step of the FREESH series, seconds. Source: FREESH's code and data (5-minute steps,
/// data/freesh/README.md); the series' start_s column must agree.
inline constexpr double freesh_step_s = 300.0;

/// The most GPUs per site and type, and per instance, a table may name. ASSUMPTION: a million, far above any
/// data centre; it keeps every count exact in a double.
inline constexpr std::uint32_t freesh_max_gpus = 1'000'000;

/// @brief sites.csv: per site, the GPUs installed of each type.
struct freesh_sites {
  std::vector<std::string> names;        ///< the sites, in file order
  std::vector<std::string> gpu_types;    ///< the GPU columns, in file order
  std::vector<std::uint32_t> installed;  ///< [site * gpu_types.size() + type]
  std::string source;                    ///< the file name, for messages

  /// The GPUs of type `type` installed at site `site`.
  [[nodiscard]] std::uint32_t at(std::size_t site, std::size_t type) const {
    return installed[site * gpu_types.size() + type];
  }
};

/// @brief One row of the profiles: one instance of `mode` serving one class.
struct freesh_profile {
  std::size_t gpu_type = 0;    ///< index into freesh_sites::gpu_types
  std::uint32_t gpus = 0;      ///< GPUs of that type per instance
  double power_w = 0.0;        ///< power of the whole instance, W
  double max_qps = 0.0;        ///< highest sustainable requests/s of the class on one instance (0: cannot serve)
  double e2e_latency_s = 0.0;  ///< end-to-end latency, s
  double tbt_ms = 0.0;         ///< time between tokens, ms
  double ttft_ms = 0.0;        ///< time to first token, ms
  std::size_t line = 0;        ///< its line in the file
};

/// @brief The profile table: every (class, mode) pair.
struct freesh_profiles {
  std::vector<std::string> classes;  ///< the request classes, in order of first appearance
  std::vector<std::string> modes;    ///< the modes, in order of first appearance
  std::vector<freesh_profile> rows;  ///< [class * modes.size() + mode]
  std::string source;                ///< the file name, for messages

  /// The profile of class `cls` on mode `mode`.
  [[nodiscard]] const freesh_profile& at(std::size_t cls, std::size_t mode) const {
    return rows[cls * modes.size() + mode];
  }
  /// Whether class `cls` has a short prompt (its name starts with 'S'), else a long one ('L').
  [[nodiscard]] bool short_prompt(std::size_t cls) const { return classes[cls].front() == 'S'; }
};

/// @brief A per-step series (demand per class, or emission coefficient per site).
struct freesh_series {
  std::vector<std::string> columns;  ///< the value columns, in the order asked for (classes, or sites)
  std::vector<double> values;        ///< [step * columns.size() + column]
  std::size_t steps = 0;             ///< rows read
  std::size_t last_line = 0;         ///< the line of the last row (0: none)
  std::string source;                ///< the file name, for messages

  /// The value of column `col` at step `step`.
  [[nodiscard]] double at(std::size_t step, std::size_t col) const { return values[step * columns.size() + col]; }
};

/// @brief Everything the planner reads.
struct freesh_inputs {
  freesh_sites sites;        ///< sites.csv
  freesh_profiles profiles;  ///< profiles_partition_<p>.csv
  freesh_series demand_qps;  ///< demand per class (columns = profiles.classes), requests/s
  freesh_series emission;    ///< coefficient per site (columns = sites.names)
};

/// @brief Reads sites.csv (see the file note); `source` names it in messages. @throws config_error.
[[nodiscard]] inline freesh_sites read_freesh_sites(std::istream& in, std::string_view source) {
  detail::csv_reader csv(in, std::string(source));
  const std::size_t site = csv.require_column("site");
  freesh_sites s;
  s.source = source;
  std::vector<std::size_t> type_cols;
  for (std::size_t c = 0; c < csv.columns().size(); ++c) {
    if (c == site) continue;
    s.gpu_types.push_back(csv.columns()[c]);
    type_cols.push_back(c);
  }
  if (type_cols.empty()) throw config_error(s.source + ": no GPU-type column beside 'site'");
  while (csv.next()) {
    const detail::csv_row& row = csv.row();
    std::string name = row.as_nonempty_string(site);
    for (const std::string& other : s.names)
      if (other == name) row.fail(site, "appears twice (site names must be distinct)");
    s.names.push_back(std::move(name));
    for (const std::size_t c : type_cols) s.installed.push_back(row.as_unsigned<std::uint32_t>(c, 0, freesh_max_gpus));
  }
  if (s.names.empty()) throw config_error(s.source + ": no site row");
  return s;
}

/// @brief Reads a profile table (see the file note) against the sites' GPU types; `source` names it in
/// messages. @throws config_error.
[[nodiscard]] inline freesh_profiles read_freesh_profiles(std::istream& in, std::string_view source,
                                                          const freesh_sites& sites) {
  detail::csv_reader csv(in, std::string(source));
  const std::size_t cls = csv.require_column("request_class"), mode = csv.require_column("mode"),
                    type = csv.require_column("gpu_type"), gpus = csv.require_column("gpus"),
                    power = csv.require_column("instance_power_w"), qps = csv.require_column("max_qps"),
                    e2e = csv.require_column("e2e_latency_s"), tbt = csv.require_column("tbt_ms"),
                    ttft = csv.require_column("ttft_ms");
  freesh_profiles p;
  p.source = source;
  struct entry {
    std::size_t cls, mode;
    freesh_profile profile;
  };
  std::vector<entry> entries;
  std::vector<std::size_t> first_line_of_class;
  const auto index_of = [](std::vector<std::string>& names, std::string_view name) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return i;
    names.emplace_back(name);
    return names.size() - 1;
  };
  while (csv.next()) {
    const detail::csv_row& row = csv.row();
    const std::string_view c = row.text(cls);
    if (c.empty() || (c.front() != 'S' && c.front() != 'L'))
      row.fail(cls, "must start with S (short prompt) or L (long prompt), as FREESH's classes SS, SL, LS, LL");
    if (row.empty(mode)) row.fail(mode, "must not be empty");
    const std::size_t ci = index_of(p.classes, c), mi = index_of(p.modes, row.text(mode));
    if (ci == first_line_of_class.size()) first_line_of_class.push_back(row.line());
    freesh_profile f;
    f.line = row.line();
    f.gpu_type = sites.gpu_types.size();
    for (std::size_t t = 0; t < sites.gpu_types.size(); ++t)
      if (sites.gpu_types[t] == row.text(type)) f.gpu_type = t;
    if (f.gpu_type == sites.gpu_types.size())
      row.fail(type, "unknown GPU type: " + sites.source + " has no column for it");
    f.gpus = row.as_unsigned<std::uint32_t>(gpus, 1, freesh_max_gpus);
    f.power_w = row.as_positive(power);
    f.max_qps = row.as_non_negative(qps);
    f.e2e_latency_s = row.as_non_negative(e2e);
    f.tbt_ms = row.as_non_negative(tbt);
    f.ttft_ms = row.as_non_negative(ttft);
    for (const entry& e : entries) {
      if (e.cls == ci && e.mode == mi)
        row.fail(mode, "given twice for class '" + detail::echo(c) + "' (first on line " +
                           std::to_string(e.profile.line) + ")");
      if (e.mode == mi && e.profile.gpu_type != f.gpu_type)
        row.fail(type, "differs from the mode's gpu_type on line " + std::to_string(e.profile.line));
      if (e.mode == mi && e.profile.gpus != f.gpus)
        row.fail(gpus, "differs from the mode's gpus on line " + std::to_string(e.profile.line));
    }
    entries.push_back(entry{ci, mi, f});
  }
  if (entries.empty()) throw config_error(p.source + ": no profile row");
  // Every class has every mode: a pair left out would silently read as "cannot serve".
  std::vector<const freesh_profile*> table(p.classes.size() * p.modes.size(), nullptr);
  for (const entry& e : entries) table[e.cls * p.modes.size() + e.mode] = &e.profile;
  for (std::size_t ci = 0; ci < p.classes.size(); ++ci)
    for (std::size_t mi = 0; mi < p.modes.size(); ++mi) {
      if (table[ci * p.modes.size() + mi] != nullptr) continue;
      std::size_t has_line = 0;
      for (const entry& e : entries)
        if (e.mode == mi) has_line = e.profile.line;
      detail::fail(p.source + ':' + std::to_string(first_line_of_class[ci]), "field request_class",
                   detail::quoted{p.classes[ci]},
                   "has no row for mode '" + detail::echo(p.modes[mi]) + "' (line " + std::to_string(has_line) +
                       " has it for another class): every class needs a row for every mode");
    }
  p.rows.reserve(table.size());
  for (const freesh_profile* f : table) p.rows.push_back(*f);
  return p;
}

/// @brief Reads a series `step, start_s, <columns>` (see the file note) whose value columns must be exactly
/// `columns` (in any order; the result is in the order given). Values must be >= 0 unless `allow_negative`.
/// `what` names the columns in messages ("class of profiles.csv"). @throws config_error.
[[nodiscard]] inline freesh_series read_freesh_series(std::istream& in, std::string_view source,
                                                      const std::vector<std::string>& columns, bool allow_negative,
                                                      std::string_view what) {
  detail::csv_reader csv(in, std::string(source));
  const std::size_t step = csv.require_column("step"), start = csv.require_column("start_s");
  freesh_series s;
  s.source = source;
  s.columns = columns;
  std::vector<std::size_t> cols;
  cols.reserve(columns.size());
  for (const std::string& c : columns) cols.push_back(csv.require_column(c));
  for (std::size_t c = 0; c < csv.columns().size(); ++c) {
    bool known = c == step || c == start;
    for (const std::string& name : columns) known = known || csv.columns()[c] == name;
    if (!known)
      throw config_error(s.source + ':' + std::to_string(csv.header_line()) + ": column '" +
                         detail::echo(csv.columns()[c]) + "' is not a " + std::string(what));
  }
  while (csv.next()) {
    const detail::csv_row& row = csv.row();
    if (row.as_unsigned<std::uint64_t>(step) != s.steps)
      row.fail(step, "must be " + std::to_string(s.steps) +
                         ": steps start at 0 and go up by 1 (a gap, a repeated step or a row out of order)");
    const double expected = static_cast<double>(s.steps) * freesh_step_s;
    if (row.as_non_negative(start) != expected)
      row.fail(start, "must be step x 300 s = " + detail::shortest(expected) + " (freesh_step_s)");
    for (const std::size_t c : cols) s.values.push_back(allow_negative ? row.as_finite(c) : row.as_non_negative(c));
    ++s.steps;
    s.last_line = row.line();
  }
  if (s.steps == 0) throw config_error(s.source + ": no data row");
  return s;
}

/// @brief Puts the four tables together: the demand's and the emission's steps must agree.
/// @throws config_error naming both files and the last row of the shorter one.
[[nodiscard]] inline freesh_inputs make_freesh_inputs(freesh_sites sites, freesh_profiles profiles,
                                                      freesh_series demand_qps, freesh_series emission) {
  if (demand_qps.steps != emission.steps) {
    const freesh_series& shorter = demand_qps.steps < emission.steps ? demand_qps : emission;
    const freesh_series& longer = demand_qps.steps < emission.steps ? emission : demand_qps;
    detail::fail(shorter.source + ':' + std::to_string(shorter.last_line), "field step", shorter.steps - 1,
                 "the table ends here, after " + std::to_string(shorter.steps) + " steps, but " + longer.source +
                     " has " + std::to_string(longer.steps) + ": demand and emission must cover the same steps");
  }
  return freesh_inputs{std::move(sites), std::move(profiles), std::move(demand_qps), std::move(emission)};
}

/// @brief Reads the four tables from one stream each; the names are used in messages.
/// @throws config_error as the readers and make_freesh_inputs.
[[nodiscard]] inline freesh_inputs read_freesh_inputs(std::istream& sites_in, std::string_view sites_source,
                                                      std::istream& profiles_in, std::string_view profiles_source,
                                                      std::istream& demand_in, std::string_view demand_source,
                                                      std::istream& emission_in, std::string_view emission_source) {
  freesh_sites sites = read_freesh_sites(sites_in, sites_source);
  freesh_profiles profiles = read_freesh_profiles(profiles_in, profiles_source, sites);
  freesh_series demand =
      read_freesh_series(demand_in, demand_source, profiles.classes, false, "class of " + profiles.source);
  freesh_series emission =
      read_freesh_series(emission_in, emission_source, sites.names, true, "site of " + sites.source);
  return make_freesh_inputs(std::move(sites), std::move(profiles), std::move(demand), std::move(emission));
}

/// @brief Loads the FREESH inputs of partition `partition` ("a" or "b" for the authors' data) from folder
/// `dir`: sites.csv, profiles_partition_<p>.csv, demand_qps_partition_<p>.csv, emission_coefficient_3sites.csv
/// (the authors' names). @throws config_error naming the absolute path when a file cannot be opened, and as
/// the readers otherwise.
[[nodiscard]] inline freesh_inputs load_freesh_inputs(const std::filesystem::path& dir, std::string_view partition) {
  const std::string p(partition);
  const std::filesystem::path sites = dir / "sites.csv", profiles = dir / ("profiles_partition_" + p + ".csv"),
                              demand = dir / ("demand_qps_partition_" + p + ".csv"),
                              emission = dir / "emission_coefficient_3sites.csv";
  std::ifstream sites_in = detail::open_input(sites), profiles_in = detail::open_input(profiles),
                demand_in = detail::open_input(demand), emission_in = detail::open_input(emission);
  return read_freesh_inputs(sites_in, sites.string(), profiles_in, profiles.string(), demand_in, demand.string(),
                            emission_in, emission.string());
}

}  // namespace joulesched::plan
