/// @file lambda_controller.hpp
/// @brief A PI controller that tunes lambda, the price of lateness in the JouleSched cost, to hold the
/// measured deadline-miss rate at a target.
///
/// Use it when a router weighs energy against lateness with one price (JouleSched's
/// `eps_n * t_r + lambda * max(0, ETA - D_r)`, where lambda is in J/s) and the price should follow the load:
/// more misses than the target raise lambda, fewer lower it, and so energy is saved only while the SLO holds.
/// Do not use it where a fixed price is fine, or to regulate anything other than a rate measured over a
/// window (the gains are per update, not per second).
///
/// Design: a positional PI law with the integral clamped and frozen while the output is saturated, over a
/// miss window chosen at compile time (control/miss_window.hpp). Cost: observe() is the window's record()
/// (O(1)); update() is one window query (O(1) for count_window, O(B) for time_window) plus a few flops; no
/// allocation, no exceptions, no clock reads (times are passed in, so runs are reproducible).
///
/// Why not the form in the design notes. They write the accumulating law
///   lambda_{t+1} = lambda_t + Kp e_t + Ki sum_{tau<=t} e_tau,
/// which adds the whole history of errors to lambda at every step: it integrates twice, so any bias in e
/// makes lambda drift without bound, and after a long stretch of saturation the accumulated sum keeps lambda
/// pinned long after the misses stop (integral windup). This controller uses the standard positional form
///   e = rho - rho*,   I <- clamp(I + e, I_min, I_max),   lambda = clamp(lambda_0 + Kp e + Ki I, lambda_min,
///   lambda_max)
/// with two anti-windup measures: I is clamped, and I is not integrated while the output would be saturated
/// in the direction the error pushes (conditional integration). After saturation, recovery therefore takes
/// the same number of updates however long the saturation lasted.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "joulesched/concepts.hpp"
#include "joulesched/control/miss_window.hpp"
#include "joulesched/error.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief The settings of a lambda_controller.
///
/// lambda is in the units in which the cost model prices lateness (J/s for the JouleSched cost, so that
/// lambda times seconds late is joules); kp and ki are in those units per unit of miss rate. The defaults
/// are a starting point for JouleSched-scale costs (0.1-0.3 J/token, requests of hundreds of tokens, so
/// energy differences of tens of joules per request); tune them for your fleet.
struct lambda_controller_config {
  double target_miss_rate = 0.01;  ///< rho*: the miss rate to hold, in [0, 1)
  double kp = 1000.0;              ///< proportional gain: lambda per unit of miss rate (finite, >= 0)
  double ki = 100.0;               ///< integral gain: lambda per unit of miss rate per update (finite, >= 0)
  double lambda_min = 0.0;         ///< lower bound on lambda (finite, >= 0)
  double lambda_max = 10000.0;     ///< upper bound on lambda (finite, >= lambda_min)
  double lambda_initial = 100.0;   ///< lambda_0: the value before the first update and the PI law's offset
  /// Bounds on the integral I (a sum of miss-rate errors; I starts at 0, so integral_min <= 0 <= integral_max;
  /// infinite is allowed). Whatever is set here, I is also kept within the range over which Ki*I alone moves
  /// lambda from lambda_0 to either bound: a larger I could only prolong saturation.
  double integral_min = -std::numeric_limits<double>::infinity();
  double integral_max = std::numeric_limits<double>::infinity();
  /// Calls to update() less than this many seconds after the last effective one change nothing, so a caller
  /// may call update() on every request and still have the gains act per interval. 0: every call updates.
  double min_update_interval_s = 0.0;
};

/// @brief Checks a lambda_controller_config.
/// @throws config_error naming the field and its value when one is out of range.
inline const lambda_controller_config& validate(const lambda_controller_config& c) {
  constexpr const char* where = "lambda_controller";
  if (!(c.target_miss_rate >= 0.0 && c.target_miss_rate < 1.0))
    detail::fail(where, "target_miss_rate", c.target_miss_rate, "must be in [0, 1)");
  detail::require_non_negative(c.kp, where, "kp");
  detail::require_non_negative(c.ki, where, "ki");
  detail::require_non_negative(c.lambda_min, where, "lambda_min");
  detail::require_finite(c.lambda_max, where, "lambda_max");
  if (!(c.lambda_max >= c.lambda_min))
    detail::fail(where, "lambda_max", c.lambda_max, "must be >= lambda_min = " + std::to_string(c.lambda_min));
  detail::require_finite(c.lambda_initial, where, "lambda_initial");
  if (!(c.lambda_initial >= c.lambda_min && c.lambda_initial <= c.lambda_max))
    detail::fail(where, "lambda_initial", c.lambda_initial, "must be within [lambda_min, lambda_max]");
  if (!(c.integral_min <= 0.0)) detail::fail(where, "integral_min", c.integral_min, "must be <= 0 (not NaN)");
  if (!(c.integral_max >= 0.0)) detail::fail(where, "integral_max", c.integral_max, "must be >= 0 (not NaN)");
  detail::require_non_negative(c.min_update_interval_s, where, "min_update_interval_s");
  return c;
}

/// @brief Tunes lambda from observed deadline outcomes with a PI law and anti-windup (see the file note).
/// @tparam Window where outcomes are kept and the miss rate measured: count_window or time_window.
///
/// @code
/// lambda_controller ctl(lambda_controller_config{.kp = 500, .ki = 50}, count_window(2000));
/// ctl.observe(now_s, finished_s > deadline_s);  // per completed request
/// double lambda = ctl.update(now_s);            // periodically, e.g. once a second
/// @endcode
/// Thread safety: none; one thread observes and updates.
template <MissWindow Window = count_window>
class lambda_controller {
 public:
  using window_type = Window;

  /// @brief A controller at lambda_initial with an empty integral.
  /// Complexity: O(1) plus the window's move. @throws config_error naming the field that is out of range.
  lambda_controller(const lambda_controller_config& config, Window window)
      : cfg_(validate(config)), window_(std::move(window)), lambda_(config.lambda_initial) {
    if (cfg_.ki > 0.0) {
      // The range over which Ki*I alone moves lambda from lambda_0 to either bound.
      integral_lo_ = std::max(cfg_.integral_min, (cfg_.lambda_min - cfg_.lambda_initial) / cfg_.ki);
      integral_hi_ = std::min(cfg_.integral_max, (cfg_.lambda_max - cfg_.lambda_initial) / cfg_.ki);
    }
  }

  /// @brief Records one request's deadline outcome at time `now_s` (seconds, caller's clock, finite).
  /// Effects: the outcome enters the window; lambda does not change until update(). Complexity: the window's
  /// record(), O(1). Precondition: now_s is finite. Throws: nothing (checked mode: usage_error when now_s is
  /// not finite). No allocation.
  void observe(double now_s, bool missed) JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(std::isfinite(now_s), "lambda_controller::observe", "now_s", now_s, "must be finite");
    window_.record(now_s, missed);
  }

  /// @brief Measures the miss rate at `now_s` and moves lambda.
  ///
  /// Effects: if less than min_update_interval_s has passed since the last effective update, nothing.
  /// Otherwise rho = the window's miss rate (kept for miss_rate()); if the window is empty there is no
  /// evidence and lambda and the integral hold; else e = rho - rho*, I += e unless lambda would be saturated
  /// in the direction of e (then I holds), I is clamped, and lambda = clamp(lambda_0 + Kp e + Ki I).
  /// Precondition: now_s is finite. Complexity: one window query. Throws: nothing (checked mode: usage_error
  /// when now_s is not finite). No allocation.
  /// @returns the new lambda (value()).
  double update(double now_s) JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(std::isfinite(now_s), "lambda_controller::update", "now_s", now_s, "must be finite");
    if (cfg_.min_update_interval_s > 0.0 && has_updated_ && now_s - last_update_s_ < cfg_.min_update_interval_s)
      return lambda_;
    has_updated_ = true;
    last_update_s_ = now_s;

    miss_rate_ = window_.miss_rate(now_s);
    if (window_.samples(now_s) == 0) return lambda_;

    const double e = miss_rate_ - cfg_.target_miss_rate;
    const double before = cfg_.lambda_initial + cfg_.kp * e + cfg_.ki * integral_;
    const bool pushing_past_max = before >= cfg_.lambda_max && e > 0.0;
    const bool pushing_past_min = before <= cfg_.lambda_min && e < 0.0;
    if (cfg_.ki > 0.0 && !pushing_past_max && !pushing_past_min)
      integral_ = std::clamp(integral_ + e, integral_lo_, integral_hi_);
    lambda_ = std::clamp(cfg_.lambda_initial + cfg_.kp * e + cfg_.ki * integral_, cfg_.lambda_min, cfg_.lambda_max);
    return lambda_;
  }

  /// @brief The current lambda, within [lambda_min, lambda_max]. Complexity: O(1).
  [[nodiscard]] double value() const noexcept { return lambda_; }

  /// @brief The miss rate measured at the last effective update (0 before the first, and while the window
  /// was empty). Complexity: O(1).
  [[nodiscard]] double miss_rate() const noexcept { return miss_rate_; }

  /// @brief The integral I: the sum of the errors integrated so far, after clamping.
  [[nodiscard]] double integral() const noexcept { return integral_; }

  [[nodiscard]] const lambda_controller_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const Window& window() const noexcept { return window_; }

 private:
  lambda_controller_config cfg_;
  Window window_;
  double lambda_;
  double integral_ = 0.0;
  double integral_lo_ = 0.0;  // effective integral bounds; both 0 when ki == 0 (I is then never used)
  double integral_hi_ = 0.0;
  double miss_rate_ = 0.0;
  double last_update_s_ = 0.0;
  bool has_updated_ = false;
};
static_assert(Controller<lambda_controller<count_window>>);
static_assert(Controller<lambda_controller<time_window>>);

}  // namespace joulesched
