/// @file normal.hpp
/// @brief (detail) A standard normal deviate from two uniforms (Box-Muller, one of the pair), for the length
/// estimators' noise and the simulator's workload.
#pragma once

#include <cmath>
#include <numbers>

namespace joulesched::detail {

/// Precondition: u1 in (0, 1], u2 in [0, 1).
[[nodiscard]] inline double box_muller(double u1, double u2) noexcept {
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace joulesched::detail
