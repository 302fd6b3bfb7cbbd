/// @file fleet_setup.hpp
/// @brief What a policy builds its routing fleet from (`fleet_setup`): every device's routing parameters, and,
/// when the devices have operating points (GPU clocks, sim/dvfs.hpp), the tables they move within. And
/// `clocked_fleet`, which gives every device of a fleet file the clock points of a measured curve.
///
/// When to use: the policies of sim/policies.hpp take a fleet_setup; a plain vector of device_params converts
/// to one (no operating points). To let a controller change clocks (`joulesched-sim --dvfs FILE`), build the
/// simulated devices and the setup together with clocked_fleet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/fleet.hpp"
#include "joulesched/sim/dvfs.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/sim_devices.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief The routing state a policy starts from (see the file note).
struct fleet_setup {
  std::vector<device_params> params;     ///< per device id, at its starting point
  std::vector<operating_points> tables;  ///< empty: the devices have no operating points
  std::vector<device_point> points;      ///< per device id when `tables` is not empty: its table and start

  fleet_setup() = default;
  /// Devices without operating points (implicit: a policy can be given the parameters alone).
  fleet_setup(std::vector<device_params> ps) : params(std::move(ps)) {}  // NOLINT(google-explicit-constructor)

  /// @brief The routing fleet: with operating points when there are tables.
  /// @throws config_error as fleet's constructors do.
  [[nodiscard]] fleet make(std::string_view source = "simulated fleet") const {
    return tables.empty() ? fleet(params, source) : fleet(tables, points, source);
  }
};

/// @brief Gives every device of `spec` the clock points of `curve` (dvfs_table, by clock fraction; one curve
/// for every GPU type is an ASSUMPTION the caller states), starting at the top clock: fills
/// `devices.point_tables` (one table per fleet-file row, so a row's site and network stay its own) and
/// `devices.point_clock_fractions`, points `devices.model` into the tables, and returns the routing setup whose
/// tables are the points' nominal_params at `op`, as routing_params gives a row's.
/// @throws config_error as dvfs_table and nominal_params do.
[[nodiscard]] inline fleet_setup clocked_fleet(const fleet_spec& spec, sim_devices& devices, const dvfs_curve& curve,
                                               const dvfs_config& config, const operating_point& op) {
  fleet_setup setup;
  devices.point_tables.clear();
  devices.point_clock_fractions.clear();
  std::vector<double> fractions;
  for (const dvfs_point& p : curve.points)
    if (p.clock_fraction >= config.min_clock_fraction) fractions.push_back(p.clock_fraction);
  for (const fleet_row& r : spec.rows) {
    devices.point_tables.push_back(dvfs_table(r.model, curve, config));
    devices.point_clock_fractions.push_back(fractions);
    operating_points& ps = setup.tables.emplace_back();
    for (const device_model& m : devices.point_tables.back()) {
      device_params p = nominal_params(m, r.site, op);
      if (r.site < spec.site_network_s.size()) p.network_s = spec.site_network_s[r.site];
      ps.push_back(checked(p, r.where));
    }
  }
  std::size_t i = 0;
  for (std::uint32_t row = 0; row < spec.rows.size(); ++row)
    for (std::uint32_t k = 0; k < spec.rows[row].count; ++k, ++i) {
      devices.model[i] = &devices.point_tables[row][0];
      setup.points.push_back({row, 0});
      setup.params.push_back(setup.tables[row][0]);
    }
  return setup;
}

}  // namespace joulesched::sim
