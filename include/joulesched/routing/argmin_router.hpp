/// @file argmin_router.hpp
/// @brief The exact router: the available device of least cost (ties: fewer queued tokens, then lower id).
///
/// Two paths, chosen at compile time from the cost model:
/// - class-indexed (cost monotone in load): devices of equal parameters form a class whose best device is
///   its least-loaded one, which the fleet keeps on top of a per-class heap. A decision reads one top per
///   class and updates one heap entry: O(classes + log n). Use it for fleets of a few device types.
/// - scan (any cost): one tight pass over all devices, O(n). Fine for small fleets; the only exact path for
///   costs that are not monotone in load (e.g. energy per token that falls with batch size).
/// Both return exactly what a brute-force argmin over the same order returns. Not thread-safe.
#pragma once

#include <cassert>
#include <cmath>
#include <optional>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"

namespace joulesched {

/// Which path an argmin_router takes.
enum class argmin_path { automatic, scan };

template <CostModel Cost, argmin_path Path = argmin_path::automatic>
class argmin_router {
 public:
  /// True when decisions take the class-indexed path.
  static constexpr bool class_indexed = Path == argmin_path::automatic && Cost::monotone_in_load;

  /// @throws config_error when the path is class-indexed and the fleet keeps no class heaps
  ///         (fleet_index::none).
  explicit argmin_router(fleet& f)
    requires std::default_initializable<Cost>
      : argmin_router(f, Cost{}) {}
  /// @throws config_error as above.
  argmin_router(fleet& f, Cost cost) : fleet_(&f), cost_(std::move(cost)) {
    if (class_indexed && f.index() != fleet_index::by_class)
      throw config_error("argmin_router: the class-indexed path needs a fleet with class heaps "
                         "(fleet_index::by_class); this fleet was built with fleet_index::none");
  }

  /// @brief The device this router would choose, without reserving anything.
  /// Complexity: O(classes) on the class-indexed path, O(n) on the scan. Throws: nothing. No allocation.
  [[nodiscard]] std::optional<device_id> pick(const request_view& v) const noexcept {
    const fleet& f = *fleet_;
    best_candidate best;
    // Written out here rather than through evaluate(): GCC 12 did not inline that call in the scan, and a call
    // per device cost as much as the cost itself.
    const auto consider = [&](const device_params& p, const device_load& l, device_id id) {
      const candidate c{static_cast<double>(cost_(p, l, v)), l.queued_tok, id};
      assert(!std::isnan(c.cost) && "a cost model returned NaN");
      best.offer(c);
    };
    if constexpr (class_indexed) {
      // One contiguous entry per class (its top and that top's load) and the class's shared parameters.
      const auto tops = f.class_tops();
      const auto params = f.class_params();
      for (std::size_t c = 0; c < tops.size(); ++c)
        if (tops[c].id != fleet::no_device) consider(params[c], tops[c].load(), tops[c].id);
    } else {
      const auto params = f.all_params();
      const auto loads = f.loads();
      const auto n = static_cast<device_id>(f.size());
      for (device_id id = 0; id < n; ++id)
        if (f.available(id)) consider(params[id], loads[id], id);
    }
    return best.id();
  }

  /// @brief Chooses a device and reserves the request's work on it.
  /// Effects: the chosen device's load grows by v.work_tok tokens and one request.
  /// Returns: the assignment, or empty when no device is available. Complexity: pick + O(log n).
  [[nodiscard]] std::optional<assignment> route(const request_view& v) noexcept {
    return assign(*fleet_, pick(v), v);
  }

  /// @brief Gives back the work of an assignment. Complexity: O(log n).
  void release(const assignment& a) noexcept { fleet_->release(a); }

  [[nodiscard]] Cost& cost() noexcept { return cost_; }
  [[nodiscard]] const Cost& cost() const noexcept { return cost_; }
  [[nodiscard]] fleet& state() const noexcept { return *fleet_; }

 private:
  fleet* fleet_;
  Cost cost_{};
};

/// The exact router forced onto the scan path (the reference the class-indexed path is tested against).
template <CostModel Cost>
using scan_router = argmin_router<Cost, argmin_path::scan>;

}  // namespace joulesched
