/// @file round_robin.hpp
/// @brief Round-robin baseline: each decision takes the next available device after the last one chosen.
///
/// Ignores cost and load. Complexity: O(1) when few devices are drained; O(n) worst case (it steps over
/// drained devices). Not thread-safe.
#pragma once

#include <optional>

#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

class round_robin_router {
 public:
  explicit round_robin_router(fleet& f) noexcept : fleet_(&f) {}

  [[nodiscard]] std::optional<device_id> pick(const request_view& v) const noexcept {
    const fleet& f = *fleet_;
    const auto n = static_cast<device_id>(f.size());
    for (device_id k = 0; k < n; ++k) {
      const device_id id = (next_ + k) % n;
      if (f.available(id) && serves(f.params(id), v)) return id;
    }
    return std::nullopt;
  }

  /// Effects: reserves the request's work on the chosen device; the next decision starts after it.
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    const auto id = pick(v);
    if (id) next_ = (*id + 1) % static_cast<device_id>(fleet_->size());
    return assign(*fleet_, id, v);
  }

  /// Gives back the work of an assignment. Returns: fleet::release's answer (false: refused, see fleet.hpp).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }
  [[nodiscard]] fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const fleet& state() const noexcept { return *fleet_; }

 private:
  fleet* fleet_;
  device_id next_ = 0;
};

}  // namespace joulesched
