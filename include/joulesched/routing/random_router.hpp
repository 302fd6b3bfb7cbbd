/// @file random_router.hpp
/// @brief Random baseline: a device drawn uniformly from the available ones. O(1). Not thread-safe.
///
/// The draw is `engine() % available`, whose bias is below available / 2^64 with a 64-bit engine; it is
/// used instead of std::uniform_int_distribution so that a seed gives the same choices with every standard
/// library.
#pragma once

#include <cstdint>
#include <optional>
#include <random>

#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

template <class Engine = std::mt19937_64>
class random_router {
 public:
  random_router(fleet& f, std::uint64_t seed) : fleet_(&f), engine_(seed) {}

  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    const auto ids = fleet_->available_ids();
    if (ids.empty()) return std::nullopt;
    // A uniform draw among the available devices; when it does not serve the request's model, the next one
    // that does (uniform only among devices that all serve it, the usual case).
    const auto start = static_cast<std::size_t>(engine_() % ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const device_id id = ids[(start + k) % ids.size()];
      if (serves(fleet_->params(id), v)) return assign(*fleet_, id, v);
    }
    return std::nullopt;
  }

  /// Gives back the work of an assignment. Returns: fleet::release's answer (false: refused, see fleet.hpp).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }
  [[nodiscard]] fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const fleet& state() const noexcept { return *fleet_; }

 private:
  fleet* fleet_;
  Engine engine_;
};

}  // namespace joulesched
