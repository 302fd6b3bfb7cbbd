/// @file splitmix64.hpp
/// @brief SplitMix64 (Steele, Lea and Flood 2014): a bijective 64-bit mix whose outputs pass BigCrush. Used to
/// derive independent seeds from one seed and to hash request fields into reproducible noise.
#pragma once

#include <cstdint>

namespace joulesched::detail {

[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace joulesched::detail
