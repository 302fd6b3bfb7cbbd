/// @file intensity_file.hpp
/// @brief Reads an hourly carbon-intensity series (intensity_series.hpp) from the wide CSV format of Electricity
/// Maps exports: a column `datetime_utc` and one column per grid zone, gCO2/kWh.
///
/// @code
/// datetime_utc,DE-LU,FR,US-CAL-CISO
/// 2021-01-01 00:00:00,449.07,62.1,238.71
/// 2021-01-01 01:00:00,455.08,60.4,248.48
/// @endcode
/// - `datetime_utc` is `YYYY-MM-DD HH:MM:SS` (a `T` between date and time, a `Z` or `+HH:MM` suffix are read
///   too), whole seconds; each row is exactly one hour after the one before: a gap, a repeated hour or a row out
///   of order is an error naming the line, not a silent hole.
/// - Every other column is a zone; its values are numbers (detail/number.hpp), finite and >= 0. An empty field,
///   `nan` or a negative value is an error naming file:line, the zone and the text.
/// - Blank and `#` comment lines are skipped; the CSV rules are detail/csv.hpp's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/detail/civil_time.hpp"
#include "joulesched/detail/csv.hpp"
#include "joulesched/error.hpp"

namespace joulesched {

/// @brief A UTC time `YYYY-MM-DD HH:MM:SS` (as in the series' `datetime_utc`), in whole seconds since the epoch.
/// @throws config_error naming `where` and the text when it is not such a time.
[[nodiscard]] inline std::int64_t parse_utc_time(std::string_view text, std::string_view where) {
  const std::optional<detail::utc_time> t = detail::parse_timestamp(text);
  if (!t || t->frac_ns != 0)
    detail::fail(where, "time", "'" + std::string(text) + "'", "must be a UTC time YYYY-MM-DD HH:MM:SS");
  return t->secs;
}

/// @brief Reads a series in the format of the file note; `source` names it in messages (usually its path).
/// Complexity: O(rows x zones). @throws config_error naming source:line:field and the text for a bad row, the
/// source for a missing `datetime_utc` column, no zone column, or no row.
[[nodiscard]] inline intensity_series read_intensity_series(std::istream& in, std::string_view source) {
  detail::csv_reader csv(in, std::string(source));
  const std::size_t time_col = csv.require_column("datetime_utc");
  std::vector<std::string> zones;
  std::vector<std::size_t> zone_cols;
  const auto columns = csv.columns();
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (c == time_col) continue;
    zones.push_back(columns[c]);
    zone_cols.push_back(c);
  }
  if (zones.empty()) throw config_error(std::string(source) + ": no zone column beside datetime_utc");
  std::vector<double> values;
  std::optional<std::int64_t> start, previous;
  while (csv.next()) {
    const detail::csv_row& row = csv.row();
    const std::optional<detail::utc_time> t = detail::parse_timestamp(row.text(time_col));
    if (!t || t->frac_ns != 0) row.fail(time_col, "must be a UTC time YYYY-MM-DD HH:MM:SS");
    if (previous && t->secs != *previous + static_cast<std::int64_t>(intensity_series::hour_s))
      row.fail(time_col, "must be one hour after the row before (a gap, a repeated hour or a row out of order)");
    if (!start) start = t->secs;
    previous = t->secs;
    for (const std::size_t c : zone_cols) values.push_back(row.as_non_negative(c));
  }
  if (!start) throw config_error(std::string(source) + ": no data row");
  return intensity_series(*start, std::move(zones), std::move(values), source);
}

/// @brief Opens `path` and reads it with read_intensity_series. @throws config_error naming the absolute path and
/// the reason when it cannot be opened, and as read_intensity_series otherwise.
[[nodiscard]] inline intensity_series load_intensity_series(const std::filesystem::path& path) {
  std::ifstream in = detail::open_input(path);
  return read_intensity_series(in, path.string());
}

}  // namespace joulesched
