/// @file miad_governor.hpp
/// @brief FREESH's GPU clock governor for one serving instance: multiplicative increase, additive decrease of
/// the SM clock on the instance's TTFT and TBT slack.
///
/// When to use: an engine (or the simulator, sim/clock_governor.hpp) runs one per instance. Feed it every
/// finished request's TTFT and mean TBT with their budgets (observe), call update() once a period, and set the
/// instance's clock to the point it returns. It does not read clocks or NVML itself: the engine measures, the
/// governor decides. Every constant is a miad_config field.
///
/// The rule (FREESH; its constants are not published, so every default below is DESIGN-NOTES' reading of it,
/// an ASSUMPTION): at each update, take the `quantile` (p90) of this period's TTFT / TTFT budget and of its
/// TBT / TBT target. If either is at least 1 - near_slo (within 10% of its SLO, or past it), raise the clock by
/// `increase` (x 1.25) and snap up to the next point of the instance's table; else lower it by `decrease`
/// (30 MHz of an A100's 1410 MHz top clock, two 15 MHz steps) and snap down; never below min_fraction (0.5) of
/// the top clock. A period without an observation lowers the clock (no evidence of pressure).
/// Design: the table's clock fractions are copied at construction; the period's ratios go into two buffers of
/// fixed capacity (the most recent `max_samples` are kept), and the quantile is nth_element in place, so
/// observe() and update() never allocate. Cost: observe O(1), update O(samples).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/error.hpp"

namespace joulesched {

/// @brief The settings of a miad_governor (the sources are in the file note).
struct miad_config {
  double period_s = 1.0;           ///< seconds between updates (the caller keeps the time); ASSUMPTION, FREESH: 1 s
  double quantile = 0.9;           ///< the latency quantile compared with the SLO, in (0, 1]
  double near_slo = 0.10;          ///< raise when the quantile is within this fraction of the SLO, in [0, 1)
  double increase = 1.25;          ///< the multiplicative increase of the clock (> 1)
  double decrease = 30.0 / 1410;   ///< the additive decrease, as a fraction of the top clock (in (0, 1))
  double min_fraction = 0.5;       ///< the lowest clock the governor sets, as a fraction of the top (in (0, 1])
  std::size_t max_samples = 1024;  ///< most observations kept per period (>= 1); older ones are overwritten

  /// @throws config_error naming `where`, the field and its value.
  void validate(std::string_view where) const {
    using joulesched::detail::fail;
    if (!(std::isfinite(period_s) && period_s > 0.0)) fail(where, "period_s", period_s, "must be finite and > 0");
    if (!(quantile > 0.0 && quantile <= 1.0)) fail(where, "quantile", quantile, "must be in (0, 1]");
    if (!(near_slo >= 0.0 && near_slo < 1.0)) fail(where, "near_slo", near_slo, "must be in [0, 1)");
    if (!(std::isfinite(increase) && increase > 1.0)) fail(where, "increase", increase, "must be finite and > 1");
    if (!(decrease > 0.0 && decrease < 1.0)) fail(where, "decrease", decrease, "must be in (0, 1)");
    if (!(min_fraction > 0.0 && min_fraction <= 1.0)) fail(where, "min_fraction", min_fraction, "must be in (0, 1]");
    if (max_samples < 1) fail(where, "max_samples", max_samples, "must be >= 1");
  }
};

/// @brief The governor of one instance (see the file note).
class miad_governor {
 public:
  /// @param fractions the clock of each point of the instance's table as a fraction of the top clock, in table
  /// order (any order; one of them 1); @param start the point it runs at now.
  /// @throws config_error for a bad config, an empty table, a fraction outside (0, 1], or start out of range.
  miad_governor(std::span<const double> fractions, std::size_t start, const miad_config& config = {})
      : config_(config), fractions_(fractions.begin(), fractions.end()), point_(start) {
    config_.validate("miad_config");
    if (fractions_.empty()) joulesched::detail::fail("miad_governor", "fractions", 0, "must not be empty");
    for (const double f : fractions_)
      if (!(f > 0.0 && f <= 1.0)) joulesched::detail::fail("miad_governor", "fraction", f, "must be in (0, 1]");
    if (start >= fractions_.size())
      joulesched::detail::fail("miad_governor", "start", start, "must be < the number of points");
    ttft_.reserve(config_.max_samples);
    tbt_.reserve(config_.max_samples);
  }

  /// @brief One finished request: its TTFT and budget, and its mean TBT and target (a budget <= 0 or a
  /// non-finite value: that kind is not observed). No allocation.
  void observe(double ttft_s, double ttft_budget_s, double tbt_s, double tbt_target_s) noexcept {
    if (ttft_budget_s > 0.0 && std::isfinite(ttft_s))
      push(ttft_, ttft_next_, config_.max_samples, ttft_s / ttft_budget_s);
    if (tbt_target_s > 0.0 && std::isfinite(tbt_s) && tbt_s >= 0.0)
      push(tbt_, tbt_next_, config_.max_samples, tbt_s / tbt_target_s);
  }

  /// @brief Applies the rule to this period's observations, forgets them, and returns the point to run at.
  std::size_t update() noexcept {
    const double threshold = 1.0 - config_.near_slo;
    const bool pressed = quantile_of(ttft_) >= threshold || quantile_of(tbt_) >= threshold;
    ttft_.clear();
    tbt_.clear();
    ttft_next_ = tbt_next_ = 0;
    const double f = fractions_[point_];
    point_ = pressed ? snap_up(std::min(1.0, f * config_.increase))
                     : snap_down(std::max(config_.min_fraction, f - config_.decrease));
    return point_;
  }

  /// The point it runs at (as last returned by update(), or the start).
  [[nodiscard]] std::size_t point() const noexcept { return point_; }
  /// Where the instance is, when something else moved it (it then governs from there).
  void set_point(std::size_t p) noexcept {
    if (p < fractions_.size()) point_ = p;
  }
  [[nodiscard]] const miad_config& config() const noexcept { return config_; }

 private:
  // Keeps the most recent `cap` samples (v's capacity was reserved at construction).
  static void push(std::vector<double>& v, std::size_t& next, std::size_t cap, double x) noexcept {
    if (v.size() < cap) {
      v.push_back(x);
    } else {
      v[next] = x;
      next = (next + 1) % v.size();
    }
  }

  // The quantile of the samples (nearest rank); -1 when there are none.
  [[nodiscard]] double quantile_of(std::vector<double>& v) const noexcept {
    if (v.empty()) return -1.0;
    const auto rank = static_cast<std::size_t>(std::ceil(config_.quantile * static_cast<double>(v.size()))) - 1;
    const auto k = v.begin() + static_cast<std::ptrdiff_t>(std::min(rank, v.size() - 1));
    std::nth_element(v.begin(), k, v.end());
    return *k;
  }

  // The point of the lowest clock >= f (the top clock when none is; then the fastest point).
  [[nodiscard]] std::size_t snap_up(double f) const noexcept {
    std::size_t best = fastest();
    for (std::size_t i = 0; i < fractions_.size(); ++i)
      if (fractions_[i] >= f - 1e-12 && fractions_[i] < fractions_[best]) best = i;
    return best;
  }

  // The point of the highest clock <= f that is >= min_fraction (the slowest such point when none is <= f; the
  // current point when every point is below min_fraction).
  [[nodiscard]] std::size_t snap_down(double f) const noexcept {
    std::size_t best = point_;
    bool found = false;
    for (std::size_t i = 0; i < fractions_.size(); ++i) {
      const double fi = fractions_[i];
      if (fi > f + 1e-12 || fi < config_.min_fraction - 1e-12) continue;
      if (!found || fi > fractions_[best]) best = i;
      found = true;
    }
    if (found) return best;
    // Nothing at or below f within bounds: the slowest allowed point at or below the current clock.
    for (std::size_t i = 0; i < fractions_.size(); ++i) {
      const double fi = fractions_[i];
      if (fi >= config_.min_fraction - 1e-12 && fi < fractions_[best]) best = i;
    }
    return best;
  }

  [[nodiscard]] std::size_t fastest() const noexcept {
    return static_cast<std::size_t>(std::max_element(fractions_.begin(), fractions_.end()) - fractions_.begin());
  }

  miad_config config_;
  std::vector<double> fractions_;
  std::size_t point_;
  std::vector<double> ttft_, tbt_;
  std::size_t ttft_next_ = 0, tbt_next_ = 0;
};

}  // namespace joulesched
