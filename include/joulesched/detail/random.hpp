/// @file random.hpp
/// @brief (detail) Uniform, exponential, normal and gamma deviates written out here, never taken from std::
/// distributions (whose algorithms differ between standard libraries), so that one seed gives one sequence with
/// libstdc++ and libc++ alike. std::mt19937_64's output is fixed by the C++ standard; the results are
/// bit-identical across platforms wherever std::log, std::sqrt, std::cos and std::pow are correctly rounded.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace joulesched::detail {

/// Uniform in [0, 1) from the top 53 of 64 random bits.
[[nodiscard]] constexpr double uniform01_from_bits(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}
/// Uniform in (0, 1] from the top 53 of 64 random bits (safe for log).
[[nodiscard]] constexpr double uniform01_open0_from_bits(std::uint64_t bits) noexcept {
  return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;
}
/// A standard normal deviate from two uniforms (Box-Muller, one of the pair). Precondition: u1 in (0, 1],
/// u2 in [0, 1).
[[nodiscard]] inline double box_muller(double u1, double u2) noexcept {
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Uniform in [0, 1), 53 random bits.
[[nodiscard]] inline double uniform01(std::mt19937_64& g) noexcept { return uniform01_from_bits(g()); }
/// Uniform in (0, 1], 53 random bits (safe for log).
[[nodiscard]] inline double uniform01_open0(std::mt19937_64& g) noexcept { return uniform01_open0_from_bits(g()); }
/// Uniform integer in [0, n), n >= 1, unbiased (rejection of the short last block).
[[nodiscard]] inline std::uint64_t uniform_index(std::mt19937_64& g, std::uint64_t n) noexcept {
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t x = g();
    if (x >= threshold) return x % n;
  }
}
/// Unit-mean exponential.
[[nodiscard]] inline double exponential1(std::mt19937_64& g) noexcept { return -std::log(uniform01_open0(g)); }
/// Standard normal (Box-Muller, one of the pair).
[[nodiscard]] inline double normal01(std::mt19937_64& g) noexcept {
  const double u1 = uniform01_open0(g);
  const double u2 = uniform01(g);
  return box_muller(u1, u2);
}
/// Gamma(shape a, scale 1), Marsaglia & Tsang (2000); for a < 1 the boost Gamma(a+1) * U^(1/a).
[[nodiscard]] inline double gamma_unit_scale(std::mt19937_64& g, double a) noexcept {
  if (a < 1.0) {
    const double x = gamma_unit_scale(g, a + 1.0);
    return x * std::pow(uniform01_open0(g), 1.0 / a);
  }
  const double d = a - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0;
    double v = 0;
    do {
      x = normal01(g);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform01_open0(g);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace joulesched::detail
