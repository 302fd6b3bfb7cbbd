/// @file sim_devices.hpp
/// @brief The simulated devices of a fleet (`sim_devices`): per device its model, type and site, and the optional
/// operating-point tables a controller may move devices within.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "joulesched/sim/device_model.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief The simulated devices of a fleet: per device its model and its row/type/site (built from a spec).
struct sim_devices {
  std::vector<const device_model*> model;  ///< per device id; points into the fleet_spec (keep it alive)
  std::vector<std::uint32_t> type;         ///< per device id: index into type_names
  std::vector<site_id> site;               ///< per device id
  /// Per device id: the network round trip between its site and the users, s (fleet_spec::site_network_s),
  /// added to its requests' first and last token as users see them. Empty: 0 for every device.
  std::vector<double> network_s;
  std::vector<std::string> type_names;  ///< device_model::gpu of each type, in order of first appearance
  /// Operating points (optional): tables of models, indexed as the routing fleet's tables (fleet::tables()), one
  /// model per point. When given, device i is at the point the routing fleet says (fleet::point_of(i)), model[i]
  /// must be that point's model, and a controller may move it within its table (actuator::set_point). The
  /// points of a table differ in speed and power, not in memory: they share max_batch and kv_capacity_tok.
  std::vector<std::vector<device_model>> point_tables;
  /// Optional, beside point_tables: each point's SM clock as a fraction of its type's top clock (sim/dvfs.hpp),
  /// for a clock governor (sim/clock_governor.hpp). Empty: the points are not clocks.
  std::vector<std::vector<double>> point_clock_fractions;

  [[nodiscard]] std::size_t size() const noexcept { return model.size(); }

  /// @brief Lists the devices of `spec` (which must outlive the result). Types group rows by GPU name.
  [[nodiscard]] static sim_devices from(const fleet_spec& spec) {
    sim_devices d;
    for (const auto& row : spec.rows) {
      const auto it = std::find(d.type_names.begin(), d.type_names.end(), row.model.gpu);
      const auto t = static_cast<std::uint32_t>(it - d.type_names.begin());
      if (it == d.type_names.end()) d.type_names.push_back(row.model.gpu);
      d.model.insert(d.model.end(), row.count, &row.model);
      d.type.insert(d.type.end(), row.count, t);
      d.site.insert(d.site.end(), row.count, row.site);
      d.network_s.insert(d.network_s.end(), row.count,
                         row.site < spec.site_network_s.size() ? spec.site_network_s[row.site] : 0.0);
    }
    return d;
  }
};

}  // namespace joulesched::sim
