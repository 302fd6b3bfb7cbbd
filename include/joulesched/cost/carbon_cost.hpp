/// @file carbon_cost.hpp
/// @brief The carbon-aware JouleSched cost: carbon(n, r) + lambda x lateness(n, r), where carbon is the request's
/// predicted joules on the device (prefill and decode, cost/service.hpp) times the grams of CO2 per joule at the
/// device's site now (control/site_carbon.hpp), and lateness is joulesched_cost's.
///
/// lambda is in grams per second of lateness. Monotone in load, with a floor: grams per joule at the site times
/// the energy floor (eps_n times the decode tokens). The floor's order follows the sites' intensities, which change
/// hourly: carbon_cost announces each change by floor_epoch(), and argmin_router re-orders its classes then, so the
/// class-indexed argmin stays exact (tests/cost/carbon_cost_test.cpp against the brute force).
#pragma once

#include <cstdint>

#include "joulesched/concepts.hpp"
#include "joulesched/control/shared_price.hpp"
#include "joulesched/control/site_carbon.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/terms.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

class carbon_cost {
 public:
  static constexpr bool monotone_in_load = true;

  /// A cost of a fixed lambda (g/s). `carbon` must outlive the cost and its copies.
  /// @throws config_error when lambda_g_per_s is negative, NaN or infinite.
  explicit carbon_cost(const site_carbon& carbon, double lambda_g_per_s = 0.0)
      : carbon_(&carbon), lambda_(detail::require_non_negative(lambda_g_per_s, "carbon_cost", "lambda_g_per_s")) {}
  /// A cost whose lambda follows `lambda` (a PI loop sets it). Both must outlive the cost and its copies.
  carbon_cost(const site_carbon& carbon, const shared_price& lambda) : carbon_(&carbon), price_(&lambda) {}

  /// carbon + lambda x lateness, with the request's service predicted once for both.
  [[nodiscard]] double operator()(const device_params& d, const device_load& l, const request_view& r) const noexcept {
    const service_estimate e = predict_behind(d, r, l.reserved_s());
    return carbon_->g_per_j(d.site) * e.energy_j + lambda() * detail::slo_lateness(e, r, d.pacing_s);
  }

  /// The carbon floor: g/J at the site times eps_n times the decode tokens (the energy floor, energy_term).
  [[nodiscard]] double floor(const device_params& d, const request_view& r) const noexcept {
    return carbon_->g_per_j(d.site) * energy_term{}.floor(d, r);
  }
  /// g/J at the site times eps_n: the floor over the decode tokens, the same factor for every request.
  [[nodiscard]] double floor_key(const device_params& d) const noexcept {
    return carbon_->g_per_j(d.site) * energy_term{}.floor_key(d);
  }
  /// The rest of the energy at the classes' least parameters (energy_term::floor_offset) times the least g/J of
  /// any site: at most what any class adds to its floor.
  [[nodiscard]] double floor_offset(const device_params& least, const request_view& r) const noexcept {
    return carbon_->min_g_per_j() * energy_term{}.floor_offset(least, r);
  }
  /// Changes whenever a site's g/J may have changed (site_carbon::epoch).
  [[nodiscard]] std::uint64_t floor_epoch() const noexcept { return carbon_->epoch(); }

  [[nodiscard]] double lambda() const noexcept { return price_ != nullptr ? price_->get() : lambda_; }
  [[nodiscard]] const site_carbon& carbon() const noexcept { return *carbon_; }

 private:
  const site_carbon* carbon_;
  const shared_price* price_ = nullptr;
  double lambda_ = 0.0;
};

static_assert(CostModel<carbon_cost> && carbon_cost::monotone_in_load && FlooredCostModel<carbon_cost>);

}  // namespace joulesched
