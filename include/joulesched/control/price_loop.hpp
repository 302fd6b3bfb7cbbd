/// @file price_loop.hpp
/// @brief The lambda loop closed in the library: SLO outcomes in, a shared price out. A lambda_controller (PI)
/// reads the outcomes; each update sets a shared_price that routers on any thread follow.
///
/// When to use: an engine or gateway that reports each request's outcome and ticks a control thread, with one
/// or many routers whose costs were built from the price. The simulator's PI policies use it (sim/policies.hpp).
/// Thread safety: observe() and update() from one thread (the controller's window is not synchronised); the
/// price from any.
#pragma once

#include <utility>

#include "joulesched/control/lambda_controller.hpp"
#include "joulesched/control/shared_price.hpp"

namespace joulesched {

/// @brief A PI controller whose output is a shared_price (see the file note).
template <MissWindow Window = count_window>
class price_loop {
 public:
  /// Sets the price to the controller's initial value. @throws config_error for a bad configuration.
  price_loop(shared_price& price, const lambda_controller_config& cfg, Window window = Window{})
      : price_(&price), ctl_(cfg, std::move(window)) {
    price_->set(ctl_.value());
  }

  /// Records one outcome at time now_s. No allocation; O(1) for count_window.
  void observe(double now_s, bool missed) noexcept { ctl_.observe(now_s, missed); }

  /// Runs the PI law (lambda_controller::update) and publishes the result. Returns the new price.
  double update(double now_s) {
    const double v = ctl_.update(now_s);
    price_->set(v);
    return v;
  }

  [[nodiscard]] double value() const noexcept { return ctl_.value(); }
  [[nodiscard]] double miss_rate() const noexcept { return ctl_.miss_rate(); }
  [[nodiscard]] const lambda_controller<Window>& controller() const noexcept { return ctl_; }
  [[nodiscard]] const shared_price& price() const noexcept { return *price_; }

 private:
  shared_price* price_;
  lambda_controller<Window> ctl_;
};

}  // namespace joulesched
