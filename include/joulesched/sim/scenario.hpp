/// @file scenario.hpp
/// @brief What every policy of one experiment shares: a fleet and a workload mix, and what follows from them
/// (the simulated devices, the mean request, the nominal operating point, the routers' parameters, the fleet's
/// saturation rate). The program, the tests and the benchmarks build the experiment from it.
///
/// When to use: to run policies on a fleet and mix the same way `joulesched-sim` does. `scenario::bundled` is
/// the default experiment's (data/fleets/default.csv and the default mix). Not copyable: the devices point
/// into the fleet it owns; it moves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "joulesched/sim/dvfs.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/fleet_setup.hpp"
#include "joulesched/sim/workload.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

namespace detail {
/// `ps`, each with the pacing guard `guard_s`.
[[nodiscard]] inline std::vector<device_params> with_pacing_guard(std::vector<device_params> ps, double guard_s) {
  for (device_params& p : ps) p.pacing_s = guard_s;
  return ps;
}
}  // namespace detail

/// @brief A fleet and a workload, with everything a run derives from them (see the file note).
struct scenario {
  fleet_spec fleet;
  sim_devices devices;  ///< points into `fleet`
  workload_mix mix;
  token_means means;  ///< the mean request that sets the operating point and the saturation
  /// The nominal operating point every router prices with: batch fraction 0.5 (an ASSUMPTION, see
  /// operating_point), the mean context halfway through the mean output, and the mean request's KV.
  operating_point op;
  /// The routers' parameters, by device id, at `op`; each device's pacing guard is the mix's (pacing_guard_s):
  /// every device serves every class.
  std::vector<device_params> params;
  double saturation_rps = 0;  ///< requests/s the fleet sustains saturated by the mean request
  /// What the policies start from: `params`, and after use_clocks() the clock points too.
  fleet_setup setup;

  /// @brief From a fleet and a mix, with the mean request `means` (by default the mix's own; a trace's when
  /// replaying one). @throws config_error when a device's parameters are out of range (names the row).
  scenario(fleet_spec f, workload_mix m) : scenario(std::move(f), std::move(m), std::nullopt) {}
  scenario(fleet_spec f, workload_mix m, std::optional<token_means> mean_request)
      : fleet(std::move(f)),
        devices(sim_devices::from(fleet)),
        mix(std::move(m)),
        means(mean_request ? *mean_request : mean_tokens(mix)),  // the mix's only when none is given
        op{0.5, means.input_tok + means.output_tok / 2.0, means.total_tok()},
        params(detail::with_pacing_guard(routing_params(fleet, op), pacing_guard_s(mix))),
        saturation_rps(fleet_saturation_rps(fleet, means.input_tok, means.output_tok)),
        setup(params) {}

  /// @brief Gives every device the clock points of `curve` (clocked_fleet; one curve for every GPU type, by clock
  /// fraction: an ASSUMPTION where a type is not the curve's), each starting at its top clock, with the mix's
  /// pacing guard; a controller may then change clocks (policy_settings::governor). `params` is unchanged.
  /// @throws config_error as clocked_fleet does.
  void use_clocks(const dvfs_curve& curve, const dvfs_config& config = {}) {
    setup = clocked_fleet(fleet, devices, curve, config, op);
    const double guard = pacing_guard_s(mix);
    for (device_params& p : setup.params) p.pacing_s = guard;
    for (operating_points& t : setup.tables)
      for (device_params& p : t) p.pacing_s = guard;
  }

  scenario(const scenario&) = delete;
  scenario& operator=(const scenario&) = delete;
  scenario(scenario&&) noexcept = default;  // the fleet's rows keep their addresses: devices stay valid
  scenario& operator=(scenario&&) noexcept = default;

  /// @brief The default experiment's: data/fleets/default.csv and the default mix, whose chat lengths come
  /// from data/traces/azure_conv_2023_excerpt.csv. @throws config_error naming a file that is missing or bad.
  [[nodiscard]] static scenario bundled(const std::filesystem::path& data_dir) {
    return {load_fleet(data_dir / "fleets" / "default.csv"),
            default_mix(data_dir / "traces" / "azure_conv_2023_excerpt.csv")};
  }

  /// @brief The mix's arrivals at `utilisation` of the saturation rate for `duration_s` seconds.
  [[nodiscard]] mix_source_options load(double utilisation, double duration_s, std::uint64_t seed) const {
    mix_source_options o;
    o.rate_rps = utilisation * saturation_rps;
    o.duration_s = duration_s;
    o.seed = seed;
    return o;
  }
};

}  // namespace joulesched::sim
