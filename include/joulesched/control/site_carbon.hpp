/// @file site_carbon.hpp
/// @brief Grams of CO2 per joule at each site, now: the value a carbon-aware cost reads for a device's site, set by
/// one thread (a controller following the grid's hourly intensity) and read lock-free by any number of routers.
///
/// g/J = PUE x intensity (gCO2/kWh) / j_per_kwh (3.6e6). Every change bumps `epoch()`, so that a router that orders its
/// classes by their carbon floor (argmin_router over carbon_cost) re-orders them at its next decision.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

class site_carbon {
 public:
  static_assert(std::atomic<double>::is_always_lock_free, "site_carbon must be readable lock-free");

  /// @brief `pue.size()` sites, each at 0 g/kWh until set. @throws config_error naming the site unless every PUE is
  /// finite and >= 1, or when there is no site.
  explicit site_carbon(const std::vector<double>& pue) : pue_(pue), g_per_j_(new std::atomic<double>[pue.size()]) {
    if (pue_.empty()) detail::fail("site_carbon", "pue.size()", 0, "must be >= 1 (one per site)");
    for (std::size_t s = 0; s < pue_.size(); ++s) {
      if (!(std::isfinite(pue_[s]) && pue_[s] >= 1.0))
        detail::fail("site_carbon", "pue[" + std::to_string(s) + "]", pue_[s], "must be finite and >= 1");
      g_per_j_[s].store(0.0, std::memory_order_relaxed);
    }
  }
  site_carbon(const site_carbon&) = delete;
  site_carbon& operator=(const site_carbon&) = delete;

  [[nodiscard]] std::size_t sites() const noexcept { return pue_.size(); }

  /// @brief Grams of CO2 per joule a device at `site` draws now. Any thread; never blocks.
  /// Precondition: site < sites() (asserted; a site beyond reads as the last one).
  [[nodiscard]] double g_per_j(site_id site) const noexcept {
    assert(site < pue_.size());
    return g_per_j_[std::min<std::size_t>(site, pue_.size() - 1)].load(std::memory_order_relaxed);
  }
  /// @brief The least g/J over the sites now (kept by the writer: O(1) for a router). Any thread.
  [[nodiscard]] double min_g_per_j() const noexcept { return min_g_per_j_.load(std::memory_order_relaxed); }
  /// @brief Changes whenever a value may have changed. Any thread.
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }

  /// @brief Sets the grid intensity at `site`, gCO2/kWh; the site's g/J becomes PUE x that / j_per_kwh. One writer.
  /// @throws config_error naming the site when it is out of range or the intensity is negative, NaN or infinite.
  void set_intensity(site_id site, double g_per_kwh) {
    if (site >= pue_.size()) detail::fail("site_carbon", "site", site, "must be < sites()");
    detail::require_non_negative(g_per_kwh, "site_carbon", "g_per_kwh");
    const double v = pue_[site] * g_per_kwh / j_per_kwh;
    if (g_per_j_[site].load(std::memory_order_relaxed) == v) return;
    g_per_j_[site].store(v, std::memory_order_relaxed);
    double least = v;
    for (std::size_t s = 0; s < pue_.size(); ++s) least = std::min(least, g_per_j(static_cast<site_id>(s)));
    min_g_per_j_.store(least, std::memory_order_relaxed);
    epoch_.fetch_add(1, std::memory_order_release);
  }

 private:
  std::vector<double> pue_;
  std::unique_ptr<std::atomic<double>[]> g_per_j_;
  std::atomic<double> min_g_per_j_{0.0};
  std::atomic<std::uint64_t> epoch_{1};
};

}  // namespace joulesched
