// A clock that tests move by hand.
#pragma once

#include "joulesched/concepts.hpp"

namespace joulesched::test {

struct manual_clock {
  double t_s = 0.0;
  [[nodiscard]] double now_s() const noexcept { return t_s; }
  void advance(double dt_s) noexcept { t_s += dt_s; }
};
static_assert(Clock<manual_clock>);

}  // namespace joulesched::test
