/// @file plan_router.hpp
/// @brief FREESH's request-level layer: serve each request class on the instances a pool plan gave it, in
/// proportion to their planned capacity, least loaded within; and FREESH's request classes (short or long
/// prompt x short or long predicted answer).
///
/// When to use: under a pool planner (plan/freesh_planner.hpp) that says, per window, how many instances of each
/// mode at each site serve each class. The engine turns that into groups of devices per class (a group: the
/// instances of one mode at one site, with its planned capacity, instances x max_qps) and calls set_plan() at
/// each window; route() does the rest. Not for a fleet without a plan: use argmin_router or least_loaded_router.
///
/// Behaviour:
/// - a request's class is `classify(view)` (freesh_request_classes, or any callable to an index < classes);
/// - among its class's groups, the next is chosen by smooth weighted round-robin on the planned capacities
///   (nginx's: every group gains its weight, the largest is taken and loses the total), so that over any run of
///   decisions each group gets its share of the class's requests to within one; deterministic;
/// - within the group, the available device (fleet::available, serving the request's model) with the least
///   reserved work (ties: the lower id); a group with none available is passed over for the next;
/// - a request whose class has no planned group, or whose groups have no device available, goes to the least
///   loaded available device of the whole fleet and is counted (fallbacks()): a plan that missed a class must not
///   lose requests. None available anywhere: no assignment.
/// Cost: route() is O(groups of the class + devices of the chosen group) (O(groups^2 + their devices) while
/// groups are unavailable), O(devices) on a fallback; no
/// allocation. set_plan() is O(planned devices) and allocates. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

/// @brief FREESH's four request classes: SS, SL, LS, LL (short/long prompt x short/long predicted answer), in
/// that order, as the planner's inputs (data/freesh) number them.
struct freesh_request_classes {
  /// A prompt of more than this many tokens is long. No default: FREESH's inputs do not state the prompt cut, so
  /// the caller states its own (the planner's profiles must have been measured with the same cut).
  std::uint32_t prompt_cut_tok;
  /// A predicted answer of more than this many tokens is long. SOURCE: FREESH cuts long answers at 444 predicted
  /// tokens (the issue, from the FREESH paper).
  std::uint32_t output_cut_tok = 444;

  static constexpr std::size_t count = 4;
  [[nodiscard]] constexpr std::size_t operator()(const request_view& v) const noexcept {
    return (v.input_tok > prompt_cut_tok ? 2u : 0u) + (v.work_tok > output_cut_tok ? 1u : 0u);
  }
};

/// @brief Every request in one class (a plan_router that shares a fleet by capacity, without request classes).
struct single_class {
  static constexpr std::size_t count = 1;
  [[nodiscard]] constexpr std::size_t operator()(const request_view&) const noexcept { return 0; }
};

/// @brief One group of a class's plan: instances of one mode at one site, and what the plan expects them to
/// serve of the class (requests/s: instances x the mode's max_qps for the class).
struct plan_group {
  std::vector<device_id> devices;
  double capacity_rps = 0.0;
};

/// @brief The plan of a window: per class, its groups (a class may have none).
using pool_plan = std::vector<std::vector<plan_group>>;

template <class Classify = freesh_request_classes>
class plan_router {
 public:
  /// @param classes the number of request classes; `classify` maps a view to one of them.
  plan_router(fleet& f, std::size_t classes, Classify classify)
      : fleet_(&f), classify_(std::move(classify)), classes_(classes) {
    if (classes == 0) detail::fail("plan_router", "classes", 0, "must be >= 1");
    set_plan(pool_plan(classes));
  }

  /// @brief Replaces the plan (at each planning window). Assignments made under the old plan are released as
  /// usual. @throws config_error naming the class, the group and the value: a plan without one entry per class, a
  /// device id out of range, an empty group, a capacity that is not finite and >= 0.
  void set_plan(pool_plan plan) {
    if (plan.size() != classes_)
      detail::fail("plan_router::set_plan", "classes", plan.size(), "must be " + std::to_string(classes_));
    for (std::size_t c = 0; c < plan.size(); ++c)
      for (std::size_t g = 0; g < plan[c].size(); ++g) {
        const std::string where = "plan_router::set_plan: class " + std::to_string(c) + " group " + std::to_string(g);
        const plan_group& grp = plan[c][g];
        if (grp.devices.empty()) detail::fail(where, "devices", 0, "must not be empty");
        if (!(grp.capacity_rps >= 0.0 && grp.capacity_rps < std::numeric_limits<double>::infinity()))
          detail::fail(where, "capacity_rps", grp.capacity_rps, "must be finite and >= 0");
        for (const device_id d : grp.devices)
          if (d >= fleet_->size())
            detail::fail(where, "device", d, "must be < the fleet's " + std::to_string(fleet_->size()) + " devices");
      }
    plan_ = std::move(plan);
    credit_.assign(plan_.size(), {});
    std::size_t most = 0;
    for (std::size_t c = 0; c < plan_.size(); ++c) {
      credit_[c].assign(plan_[c].size(), 0.0);
      most = std::max(most, plan_[c].size());
    }
    tried_.assign(most, 0);
  }

  [[nodiscard]] std::optional<assignment> route(const request_view& v) noexcept {
    const std::size_t c = classify_(v);
    if (c < plan_.size() && !plan_[c].empty()) {
      const std::vector<plan_group>& groups = plan_[c];
      std::vector<double>& credit = credit_[c];
      double total = 0.0;
      for (std::size_t g = 0; g < groups.size(); ++g) {
        credit[g] += groups[g].capacity_rps;
        total += groups[g].capacity_rps;
        tried_[g] = 0;
      }
      // Smooth weighted round-robin; a group with no device available now is passed over for the next best.
      for (std::size_t tries = 0; tries < groups.size() && total > 0.0; ++tries) {
        std::size_t best = groups.size();
        for (std::size_t g = 0; g < groups.size(); ++g)
          if (groups[g].capacity_rps > 0.0 && !tried_[g] && (best == groups.size() || credit[g] > credit[best]))
            best = g;
        if (best == groups.size()) break;
        if (const std::optional<device_id> d = least_loaded_in(groups[best].devices, v)) {
          credit[best] -= total;
          return assign(*fleet_, d, v);
        }
        tried_[best] = 1;
      }
      // Nothing of the plan is available: the credits gained this time are not spent.
      for (std::size_t g = 0; g < groups.size(); ++g) credit[g] -= groups[g].capacity_rps;
    }
    ++fallbacks_;
    return assign(*fleet_, least_loaded_all(v), v);
  }

  bool release(const assignment& a) noexcept { return fleet_->release(a); }

  /// Requests routed outside the plan (their class had no planned group available).
  [[nodiscard]] std::uint64_t fallbacks() const noexcept { return fallbacks_; }
  [[nodiscard]] const pool_plan& plan() const noexcept { return plan_; }
  [[nodiscard]] fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const fleet& state() const noexcept { return *fleet_; }

 private:
  template <class Ids>
  [[nodiscard]] std::optional<device_id> least_loaded_in(const Ids& ids, const request_view& v) const noexcept {
    std::optional<device_id> best;
    for (const device_id d : ids) {
      if (!fleet_->available(d) || !serves(fleet_->params(d), v)) continue;
      if (!best || fleet_->load(d).reserved_ns < fleet_->load(*best).reserved_ns ||
          (fleet_->load(d).reserved_ns == fleet_->load(*best).reserved_ns && d < *best))
        best = d;
    }
    return best;
  }
  [[nodiscard]] std::optional<device_id> least_loaded_all(const request_view& v) const noexcept {
    struct all_ids {
      device_id n;
      struct iterator {
        device_id i;
        device_id operator*() const noexcept { return i; }
        iterator& operator++() noexcept {
          ++i;
          return *this;
        }
        bool operator!=(const iterator& o) const noexcept { return i != o.i; }
      };
      [[nodiscard]] iterator begin() const noexcept { return {0}; }
      [[nodiscard]] iterator end() const noexcept { return {n}; }
    };
    return least_loaded_in(all_ids{static_cast<device_id>(fleet_->size())}, v);
  }

  fleet* fleet_;
  Classify classify_;
  std::size_t classes_;
  pool_plan plan_;
  std::vector<std::vector<double>> credit_;
  std::uint64_t fallbacks_ = 0;
  std::vector<char> tried_;  // per group of the class being routed (sized by set_plan: no allocation in route)
};

}  // namespace joulesched
