/// @file tiered_router.hpp
/// @brief Routes each tier with its own router and cost: interactive requests to meet deadlines, bulk
/// requests aggressively to the most energy-efficient devices.
///
/// Both routers must share one fleet, so each sees the load the other reserved. Cost: one classifier call
/// plus the chosen router's decision. Not thread-safe.
#pragma once

#include <optional>
#include <utility>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

template <TierClassifier Classifier, FleetRouter Interactive, FleetRouter Bulk>
class tiered_router {
 public:
  /// @throws config_error when the two routers route over different fleets.
  tiered_router(Classifier classify, Interactive interactive, Bulk bulk)
      : classify_(std::move(classify)), interactive_(std::move(interactive)), bulk_(std::move(bulk)) {
    if (&interactive_.state() != &bulk_.state())
      throw config_error("tiered_router: the interactive and bulk routers must share one fleet");
  }

  /// @brief Classifies the request, stamps the tier on the view, and routes it with that tier's router.
  [[nodiscard]] std::optional<assignment> route(request_view v) JOULESCHED_HOT_NOEXCEPT {
    v.tier = classify_(v);
    return v.tier == tier::bulk ? bulk_.route(v) : interactive_.route(v);
  }

  /// Gives back an assignment of either tier (both share the fleet). Returns: fleet::release's answer.
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return interactive_.state().release(a); }

  [[nodiscard]] Interactive& interactive() noexcept { return interactive_; }
  [[nodiscard]] const Interactive& interactive() const noexcept { return interactive_; }
  [[nodiscard]] Bulk& bulk() noexcept { return bulk_; }
  [[nodiscard]] const Bulk& bulk() const noexcept { return bulk_; }
  [[nodiscard]] const Classifier& classifier() const noexcept { return classify_; }
  [[nodiscard]] fleet& state() noexcept { return interactive_.state(); }
  [[nodiscard]] const fleet& state() const noexcept { return interactive_.state(); }

 private:
  Classifier classify_;
  Interactive interactive_;
  Bulk bulk_;
};

}  // namespace joulesched
