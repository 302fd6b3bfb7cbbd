// The reference every exact router is checked against: evaluate every available device, take the least
// (cost, queued tokens, id). Deliberately the most obvious code possible.
#pragma once

#include <optional>
#include <tuple>

#include "joulesched/fleet.hpp"

namespace joulesched::test {

template <class Cost>
std::optional<device_id> brute_force_argmin(const fleet& f, const Cost& cost, const request_view& v) {
  std::optional<std::tuple<double, std::uint64_t, device_id>> best;
  for (device_id id = 0; id < f.size(); ++id) {
    if (!f.available(id)) continue;
    const std::tuple<double, std::uint64_t, device_id> key{cost(f.params(id), f.load(id), v), f.load(id).queued_tok, id};
    if (!best || key < *best) best = key;
  }
  if (!best) return std::nullopt;
  return std::get<2>(*best);
}

}  // namespace joulesched::test
