// Random fleets and requests for router tests: fleets drawn from a few device types, so classes hold several
// devices and ties happen; requests with zero work, late deadlines and loose ones.
#pragma once

#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include "joulesched/types.hpp"

namespace joulesched::test {

inline constexpr device_params palette[] = {
    {1000.0, 0.20}, {2000.0, 0.12}, {2000.0, 0.12, 1}, {300.0, 0.10}, {1000.0, 0.12}, {4000.0, 0.30},
};

/// n devices, each of one of the first k palette types (k drawn at random).
inline std::vector<device_params> random_fleet(std::mt19937_64& rng, std::size_t n) {
  const std::size_t types = 1 + rng() % std::size(palette);
  std::vector<device_params> ps(n);
  for (auto& p : ps) p = palette[rng() % types];
  return ps;
}

/// A quarter with no work; budgets from -5 s (already late) to 35 s.
inline request_view random_request(std::mt19937_64& rng) {
  request_view v;
  v.work_tok = rng() % 4 == 0 ? 0u : static_cast<std::uint32_t>(1 + rng() % 800);
  v.input_tok = static_cast<std::uint32_t>(rng() % 2000);
  v.budget_s = static_cast<double>(static_cast<std::int64_t>(rng() % 4000) - 500) / 100.0;
  return v;
}

}  // namespace joulesched::test
