/// @file fleet_file.hpp
/// @brief The simulator's fleet: which device models, how many of each, at which site; read from a small CSV
/// file, and turned into the `joulesched::fleet` that routers share.
///
/// When to use: to describe the GPUs a simulation runs (`joulesched-sim --fleet FILE`). An engine that serves
/// real traffic builds its `joulesched::fleet` from its own devices instead.
///
/// File format (read with detail::csv_reader, so quoting, comments and CRLF work as described there):
/// @code
/// # The JouleSched evaluation fleet: 320 GPUs.
/// device_model,count,site
/// ../devices/A100-SXM4-40GB.csv,160,dc1
/// ../devices/H100-SXM5-80GB.csv,128,dc1
/// ../devices/L4.csv,32,dc1
/// @endcode
/// - `device_model`: a device-model file (sim/device_model.hpp); a relative path is taken relative to the
///   directory of the fleet file. Required.
/// - `count`: how many such devices, a whole number in [1, 1000000]. Required.
/// - `site`: a name for the data centre / grid zone (letters, digits, `-`, `_`, `.`). Optional column; without
///   it every device is at the one site `default`. Sites get ids 0, 1, ... in order of first appearance.
/// - `pue`: the site's power usage effectiveness, facility energy / IT energy, in [1, max_pue]. Optional
///   column; without it every site's is 1 (the IT energy alone).
/// - `latency_ms`: the extra network round trip between the site and its users, milliseconds, in
///   [0, max_latency_ms]: it adds to every request's time to first token and end-to-end latency there, and
///   routers see it (device_params::network_s). Optional column; without it 0.
/// - A site's rows must agree on `pue` and on `latency_ms`.
/// - The fleet holds at most 4,000,000 devices in total; rows expand in file order, so the devices of the first
///   row get ids 0..count-1, and so on.
/// Every error is a config_error naming `file:line`, the field and its value; an error inside a device-model
/// file names that file and is prefixed by the fleet row that named it. The CSV syntax is detail/csv.hpp's
/// (a UTF-8 BOM, CRLF, lines of at most bounds::max_line_bytes); a directory or unreadable file is named with
/// its absolute path and the reason.
/// - Warnings (`fleet_spec::warnings`, for the program to print): a row naming the same device-model file and
///   site as an earlier row (its devices add to that row's: usually a copy-paste slip).
///
/// Design: parse once into a `fleet_spec` (rows, each with its loaded model); `expand()` lists devices.
/// Cost: O((rows + sites) log rows + devices); each distinct model file is read once (a file of a million rows
/// naming one model reads it once, and a million distinct sites are looked up in a map, not a list).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
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
#include "joulesched/fleet.hpp"
#include "joulesched/sim/device_model.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief One row of a fleet file: `count` devices of one model at one site.
struct fleet_row {
  std::string where;                 ///< "file:line" of the row, for messages
  std::filesystem::path model_path;  ///< the device-model file, resolved against the fleet file's directory
  device_model model;                ///< its contents, validated
  std::uint32_t count = 0;           ///< devices of this row (>= 1)
  site_id site = 0;                  ///< index into fleet_spec::sites
};

/// @brief A whole fleet: its rows, and the names of its sites (site id = index).
struct fleet_spec {
  std::string source;  ///< the fleet file (or stream name)
  std::vector<fleet_row> rows;
  std::vector<std::string> sites;
  std::vector<double> site_pue;        ///< per site id: its PUE (1 without a `pue` column; empty: 1 at every site)
  std::vector<double> site_network_s;  ///< per site id: its network round trip, s (latency_ms / 1000; empty: 0)
  std::vector<std::string> warnings;   ///< sentences for the user (see the file note); no error

  /// Total devices. Complexity: O(rows).
  [[nodiscard]] std::size_t device_count() const noexcept {
    std::size_t n = 0;
    for (const auto& r : rows) n += r.count;
    return n;
  }
};

/// Caps that keep a typo (an extra digit) from allocating the machine away; beside their reader rather than in
/// input_bounds.hpp because they bound this file only. ASSUMPTION: a million devices of one model at one
/// site is more than any real fleet row holds.
inline constexpr std::uint32_t max_devices_per_row = 1'000'000;
/// ASSUMPTION: four rows at the per-row cap; the simulator's state grows linearly with the device count.
inline constexpr std::size_t max_fleet_devices = 4'000'000;
/// The largest PUE a fleet file may give. PUE is at least 1 by its definition (The Green Grid, White Paper 49);
/// ASSUMPTION: 3, above any data centre the Uptime Institute's surveys report (industry average 1.58 in 2023),
/// so a larger value is a typo (a percentage, a swapped column).
inline constexpr double max_pue = 3.0;
/// The largest network round trip a fleet file may give, ms. ASSUMPTION: 10 s, far beyond any round trip on
/// Earth (antipodal fibre is about 200-300 ms), so a larger value is a unit slip (microseconds, seconds).
inline constexpr double max_latency_ms = 10'000.0;

namespace detail {
[[nodiscard]] inline bool valid_site_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > sim::bounds::max_name_bytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}
}  // namespace detail

/// @brief Reads a fleet from `in` (see the file note for the format).
/// @param source   the name used in messages (usually the file's path).
/// @param base_dir the directory against which relative device-model paths are resolved.
/// @throws config_error "source:line: field NAME = 'value': problem" for a bad row, a missing column, a model
/// file that cannot be read or is invalid (its own message, after the row's location), an empty fleet, or a
/// fleet over max_fleet_devices.
[[nodiscard]] inline fleet_spec parse_fleet(std::istream& in, std::string source,
                                            const std::filesystem::path& base_dir) {
  fleet_spec spec;
  spec.source = source;
  joulesched::detail::csv_reader csv(in, std::move(source));
  const std::size_t col_model = csv.require_column("device_model");
  const std::size_t col_count = csv.require_column("count");
  const std::optional<std::size_t> col_site = csv.find_column("site");
  const std::optional<std::size_t> col_pue = csv.find_column("pue");
  const std::optional<std::size_t> col_latency = csv.find_column("latency_ms");
  std::vector<std::string> first_of_site;  // per site id: the row that set its PUE and latency
  std::vector<double> latency_ms_of_site;  // per site id: its latency_ms as read
  std::size_t total = 0;
  std::map<std::pair<std::filesystem::path, site_id>, std::string> first_row;  // (model, site) -> its first row
  std::map<std::string, site_id, std::less<>> site_ids;                        // site name -> id
  std::map<std::filesystem::path, device_model> models;                        // model file -> its contents
  while (csv.next()) {
    const joulesched::detail::csv_row& row = csv.row();
    fleet_row r;
    r.where = row.where();
    const std::string model_text = row.as_nonempty_string(col_model);
    r.count = row.as_unsigned<std::uint32_t>(col_count, 1, max_devices_per_row);
    std::string site = "default";
    if (col_site) {
      site = row.as_nonempty_string(*col_site);
      if (!detail::valid_site_name(site))
        row.fail(*col_site, "must be a name of letters, digits, '-', '_' or '.', at most " +
                                std::to_string(bounds::max_name_bytes) + " bytes");
    }
    const auto [known, new_site] = site_ids.try_emplace(site, static_cast<site_id>(spec.sites.size()));
    r.site = known->second;
    const double pue = col_pue ? row.as_finite(*col_pue) : 1.0;
    if (!(pue >= 1.0 && pue <= max_pue)) row.fail(*col_pue, "must be in [1, 3] (facility energy / IT energy)");
    const double latency_ms = col_latency ? row.as_non_negative(*col_latency) : 0.0;
    if (latency_ms > max_latency_ms) row.fail(*col_latency, "must be <= 10000 ms (max_latency_ms)");
    if (new_site) {
      spec.sites.push_back(site);
      spec.site_pue.push_back(pue);
      spec.site_network_s.push_back(latency_ms / 1000.0);
      first_of_site.push_back(r.where);
      latency_ms_of_site.push_back(latency_ms);
    } else {
      const auto agree = [&](std::optional<std::size_t> col, double v, double before, const char* what) {
        if (v != before)
          row.fail(*col, std::string("differs from site '") + site + "''s " + what + " " +
                             joulesched::detail::shortest(before) + " at " + first_of_site[r.site]);
      };
      agree(col_pue, pue, spec.site_pue[r.site], "PUE");
      agree(col_latency, latency_ms, latency_ms_of_site[r.site], "latency_ms");
    }
    std::filesystem::path p(model_text);
    r.model_path = p.is_absolute() ? p : base_dir / p;
    if (const auto [it, fresh] = first_row.try_emplace({r.model_path, r.site}, r.where); !fresh)
      spec.warnings.push_back(r.where + ": repeats the device model '" + joulesched::detail::echo(model_text) +
                              "' at site '" + site + "' of " + it->second + "; the devices of both rows add up");
    if (const auto cached = models.find(r.model_path); cached != models.end()) {
      r.model = cached->second;
    } else {
      try {
        r.model = load_device_model(r.model_path);
      } catch (const config_error& e) {
        row.fail(col_model, std::string("cannot load the device model: ") + e.what());
      }
      models.emplace(r.model_path, r.model);
    }
    total += r.count;
    if (total > max_fleet_devices)
      row.fail(col_count, "makes the fleet larger than " + std::to_string(max_fleet_devices) + " devices");
    spec.rows.push_back(std::move(r));
  }
  if (spec.rows.empty())
    throw config_error(spec.source + ": the fleet has no devices (expected rows of device_model,count,site)");
  return spec;
}

/// @brief Reads a fleet file; relative model paths are resolved against the file's directory.
/// @throws config_error as parse_fleet, or naming the absolute path and the reason when it cannot be opened
/// (a directory says so).
[[nodiscard]] inline fleet_spec load_fleet(const std::filesystem::path& path) {
  std::ifstream in = joulesched::detail::open_input(path);
  return parse_fleet(in, path.string(), path.parent_path());
}

/// @brief The operating point at which a router's fixed device parameters are read from each device model: a
/// stated assumption, since a router that reads one set of numbers per device needs one batch size.
///
/// Nominal batch of a device = max(1, min(round(batch_fraction * max_batch),
///                                        floor(batch_fraction * kv_capacity_tok / request_ctx_tok)))
/// i.e. the device holds `batch_fraction` of what it can hold (by its batch limit or by its KV cache, whichever
/// binds first). params_at_batch gives the parameters at that batch; its capacity (device_params::capacity) is the
/// same formula at batch_fraction 1: all it can hold of requests of the mean size.
struct operating_point {
  double batch_fraction = 0.5;   ///< ASSUMPTION: devices run half full on average (in (0, 1])
  double mean_ctx_tok = 0.0;     ///< mean context during decode (>= 0); not read since contexts are priced per
                                 ///< request (device_params::ctx_s_per_tok), kept so that callers still compile
  double request_ctx_tok = 0.0;  ///< mean KV a request reserves: mean input + mean output (from the workload)
};

/// @brief The nominal batch of `m` at `op` (see operating_point).
[[nodiscard]] inline std::uint32_t nominal_batch(const device_model& m, const operating_point& op) {
  double b = std::round(op.batch_fraction * static_cast<double>(m.max_batch));
  if (op.request_ctx_tok > 0.0)
    b = std::min(b, std::floor(op.batch_fraction * static_cast<double>(m.kv_capacity_tok) / op.request_ctx_tok));
  return static_cast<std::uint32_t>(std::max(1.0, b));
}

/// @brief The router's view of model `m` running `batch` requests: what predict_service (cost/service.hpp) needs
/// to reproduce the device model. A decode step at batch b whose requests hold contexts c_i takes
/// base + per_seq * b + per_ctx * sum(c_i); one request's share of it is (base + per_seq * b) / b + per_ctx * c_i,
/// so rate_tok_s = b / (base + per_seq * b), ctx_s_per_tok = per_ctx, each at busy_power_w(b) for the energies,
/// and step_s = base (so step_s + j x (1 / rate_tok_s - step_s / b) is the step at any batch j).
/// A prefill pass is prefill_base_s + prefill_per_tok_s * n at prefill_power_w. At batch 1 this is the
/// simulator's own arithmetic for a request served alone (tests/cost/service_agreement_test.cpp).
[[nodiscard]] inline device_params params_at_batch(const device_model& m, site_id site, std::uint32_t batch) {
  const std::uint32_t b = std::max<std::uint32_t>(batch, 1);
  const double bd = static_cast<double>(b);
  const double step_s = m.decode_step_base_s + m.decode_step_per_seq_s * bd;  // at zero context
  const double decode_w = m.busy_power_w(b);
  const double prefill_w = m.prefill_power_w;
  device_params p;
  p.rate_tok_s = bd / step_s;
  p.energy_j_per_tok = decode_w * step_s / bd;
  p.site = site;
  p.prefill_s_per_tok = m.prefill_per_tok_s;
  p.prefill_j_per_tok = prefill_w * m.prefill_per_tok_s;
  p.request_s = m.prefill_base_s;
  p.request_j = prefill_w * m.prefill_base_s;
  p.ctx_s_per_tok = m.decode_step_per_ctx_tok_s;
  p.ctx_j_per_tok = decode_w * m.decode_step_per_ctx_tok_s;
  p.batch = bd;
  p.step_s = m.decode_step_base_s;
  return p;
}

/// @brief The router's view of one device model at `op`: params_at_batch at its nominal batch, with the capacity
/// the model's batch limit and KV cache give requests of the operating point's mean size.
/// @throws config_error when op is out of range (batch_fraction outside (0, 1], negative contexts).
[[nodiscard]] inline device_params nominal_params(const device_model& m, site_id site, const operating_point& op) {
  if (!(op.batch_fraction > 0.0 && op.batch_fraction <= 1.0))
    joulesched::detail::fail("operating_point", "batch_fraction", op.batch_fraction, "must be in (0, 1]");
  joulesched::detail::require_non_negative(op.mean_ctx_tok, "operating_point", "mean_ctx_tok");
  joulesched::detail::require_non_negative(op.request_ctx_tok, "operating_point", "request_ctx_tok");
  device_params p = params_at_batch(m, site, nominal_batch(m, op));
  p.capacity = nominal_batch(m, operating_point{1.0, op.mean_ctx_tok, op.request_ctx_tok});
  return p;
}

/// @brief Requests per second one device of model `m` sustains when saturated by requests of mean input
/// `mean_input_tok` and mean output `mean_output_tok`: its batch as full as its batch limit and KV cache allow
/// (nominal_batch at batch_fraction 1), each request costing its own prefill (prefill_s of the mean input,
/// the device exclusively) plus its share of decode (mean output / rate_tok_s at that batch and mean context).
/// This is the denominator of the simulator's `--utilisation`.
[[nodiscard]] inline double saturation_rps(const device_model& m, double mean_input_tok, double mean_output_tok) {
  const operating_point full{1.0, mean_input_tok + mean_output_tok / 2.0, mean_input_tok + mean_output_tok};
  const std::uint32_t b = nominal_batch(m, full);
  const double prefill_s = m.prefill_base_s + m.prefill_per_tok_s * mean_input_tok;
  const double decode_s = mean_output_tok / m.rate_tok_s(b, full.mean_ctx_tok);
  return 1.0 / (prefill_s + decode_s);
}

/// @brief saturation_rps summed over every device of the fleet.
[[nodiscard]] inline double fleet_saturation_rps(const fleet_spec& spec, double mean_input_tok,
                                                 double mean_output_tok) {
  double rps = 0;
  for (const auto& r : spec.rows) rps += r.count * saturation_rps(r.model, mean_input_tok, mean_output_tok);
  return rps;
}

/// @brief One entry per device, in id order: the row it comes from.
[[nodiscard]] inline std::vector<std::uint32_t> expand(const fleet_spec& spec) {
  std::vector<std::uint32_t> row_of;
  row_of.reserve(spec.device_count());
  for (std::uint32_t i = 0; i < spec.rows.size(); ++i) row_of.insert(row_of.end(), spec.rows[i].count, i);
  return row_of;
}

/// @brief The routing state of the fleet: every device's nominal parameters, in id order.
/// @throws config_error when a model gives parameters the fleet refuses (names the row).
[[nodiscard]] inline std::vector<device_params> routing_params(const fleet_spec& spec, const operating_point& op) {
  std::vector<device_params> ps;
  ps.reserve(spec.device_count());
  for (const auto& r : spec.rows) {
    device_params p = nominal_params(r.model, r.site, op);
    if (r.site < spec.site_network_s.size()) p.network_s = spec.site_network_s[r.site];
    p = checked(p, r.where);
    ps.insert(ps.end(), r.count, p);
  }
  return ps;
}

/// @brief The routing fleet's operating-point tables for simulated ones (sim_devices::point_tables): each
/// point's nominal_params at `op`, as routing_params gives a row's.
[[nodiscard]] inline std::vector<operating_points> routing_tables(const std::vector<std::vector<device_model>>& tables,
                                                                  const operating_point& op) {
  std::vector<operating_points> out;
  out.reserve(tables.size());
  for (const auto& t : tables) {
    operating_points& ps = out.emplace_back();
    for (const device_model& m : t) ps.push_back(nominal_params(m, 0, op));
  }
  return out;
}

}  // namespace joulesched::sim
