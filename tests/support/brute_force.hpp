// The reference every exact router is checked against: evaluate every available device that serves the
// request's model, take the least
// (cost, reserved work, id). Deliberately the most obvious code possible.
#pragma once

#include <optional>
#include <tuple>

#include "joulesched/fleet.hpp"

namespace joulesched::test {

/// Works over any fleet-like state with size(), available(id), params(id) and load(id).
template <class Fleet, class Cost>
std::optional<device_id> brute_force_argmin(const Fleet& f, const Cost& cost, const request_view& v) {
  std::optional<std::tuple<double, std::uint64_t, device_id>> best;
  for (device_id id = 0; id < f.size(); ++id) {
    if (!f.available(id) || !serves(f.params(id), v)) continue;
    const device_load l = f.load(id);
    const std::tuple<double, std::uint64_t, device_id> key{cost(f.params(id), l, v), l.reserved_ns, id};
    if (!best || key < *best) best = key;
  }
  if (!best) return std::nullopt;
  return std::get<2>(*best);
}

}  // namespace joulesched::test
