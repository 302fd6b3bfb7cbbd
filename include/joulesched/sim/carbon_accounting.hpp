/// @file carbon_accounting.hpp
/// @brief What the simulator needs to account operational carbon (`carbon_accounting`): an hourly intensity
/// series, where the run's time 0 falls in it, and each site's grid zone and PUE. With one in engine_options,
/// every device gets a carbon_meter (carbon/carbon_meter.hpp) beside its energy meter, fed the same power changes.
///
/// A fleet file's `site` names the grid zone: `for_fleet` looks each site up among the series' zones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/fleet_file.hpp"

namespace joulesched::sim {

struct carbon_accounting {
  const intensity_series* series = nullptr;  ///< must outlive the run
  double offset_s = 0.0;                     ///< series time at the run's time 0 (intensity_series::offset_of)
  std::vector<std::size_t> zone_of_site;     ///< per site id (fleet_spec::sites): its zone in the series
  /// Per site id: power usage effectiveness, >= 1 (the fleet file's `pue`; 1, the IT energy alone, without one).
  std::vector<double> pue_of_site;

  /// @brief The accounting of `spec`'s sites (each site named as a zone of `series`, at its PUE) for a run that
  /// starts at `start_utc_s`. @throws config_error naming the fleet file and the site for a zone the series
  /// lacks, and naming `--start` for a start outside the series.
  [[nodiscard]] static carbon_accounting for_fleet(const fleet_spec& spec, const intensity_series& series,
                                                   std::int64_t start_utc_s) {
    carbon_accounting c;
    c.series = &series;
    c.offset_s = series.offset_of(start_utc_s, "--start");
    if (!spec.site_pue.empty() && spec.site_pue.size() != spec.sites.size())
      joulesched::detail::fail(spec.source, "site_pue", spec.site_pue.size(),
                               "must hold one PUE per site (" + std::to_string(spec.sites.size()) + ") or none");
    for (std::size_t s = 0; s < spec.sites.size(); ++s) {
      const std::string& site = spec.sites[s];
      const auto z = series.find_zone(site);
      if (!z) {
        std::string zones;
        for (const std::string& n : series.zones()) zones += (zones.empty() ? "" : ", ") + n;
        joulesched::detail::fail(
            spec.source, "site", "'" + site + "'",
            "is no zone of the carbon intensity series (it has " + joulesched::detail::echo(zones) + ")");
      }
      c.zone_of_site.push_back(*z);
      c.pue_of_site.push_back(spec.site_pue.empty() ? 1.0 : spec.site_pue[s]);
    }
    return c;
  }
};

}  // namespace joulesched::sim
