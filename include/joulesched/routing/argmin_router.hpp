/// @file argmin_router.hpp
/// @brief The exact router: the available device of least cost (ties: less reserved work, then lower id).
///
/// Two paths, chosen at compile time from the cost model and argmin_path:
/// - class-indexed (cost monotone in load): devices of equal parameters form a class whose best device is
///   its least-loaded one, which the fleet keeps on top of a per-class heap. A decision reads one top per
///   class and updates one heap entry: O(classes + log n). Use it for fleets of a few device types. When the
///   cost has a floor (FlooredCostModel, e.g. joulesched_cost), classes are visited in order of their floor and
///   the visit stops at the first class whose floor (plus what every class's cost adds to it, floor_offset,
///   e.g. the least prefill energy of any class) exceeds the best cost found: the same answer, with fewer cost
///   evaluations when an energy-cheap class wins (with 8 classes or more, the visit goes by blocks of 8 so
///   that a fleet where every device is late, where the early stop rarely comes, decides as fast as without it).
///   argmin_path::every_class evaluates every class instead; benchmarks/RESULTS.md compares the two.
/// - scan (any cost): one tight pass over all devices, O(n). Fine for small fleets; the only exact path for
///   costs that are not monotone in load (e.g. energy per token that falls with batch size).
/// Both return exactly what a brute-force argmin over the same order returns. Not thread-safe.
/// Misuse: release() is the fleet's (a release that would wrap a load is refused and returns false); in checked
/// mode (usage_error.hpp) route() and pick() also throw usage_error for a view whose budget is not finite or a
/// cost that comes out NaN, which otherwise are asserted.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/candidate.hpp"

namespace joulesched {

/// Which path an argmin_router takes.
enum class argmin_path {
  automatic,    ///< class-indexed when the cost is monotone in load (in floor order when it has a floor), else scan
  every_class,  ///< as automatic, but the class-indexed path evaluates every class, in the fleet's class order
  scan,         ///< always the scan
};

namespace detail {
/// The component-wise least of the classes' parameters (a floor_offset reads its prefill, request and context
/// joules); all zero for an empty fleet.
[[nodiscard]] inline device_params least_params(std::span<const device_params> ps) noexcept {
  if (ps.empty()) return device_params{};
  device_params m = ps.front();
  for (const device_params& p : ps) {
    m.rate_tok_s = std::min(m.rate_tok_s, p.rate_tok_s);
    m.energy_j_per_tok = std::min(m.energy_j_per_tok, p.energy_j_per_tok);
    m.prefill_s_per_tok = std::min(m.prefill_s_per_tok, p.prefill_s_per_tok);
    m.prefill_j_per_tok = std::min(m.prefill_j_per_tok, p.prefill_j_per_tok);
    m.request_s = std::min(m.request_s, p.request_s);
    m.request_j = std::min(m.request_j, p.request_j);
    m.ctx_s_per_tok = std::min(m.ctx_s_per_tok, p.ctx_s_per_tok);
    m.ctx_j_per_tok = std::min(m.ctx_j_per_tok, p.ctx_j_per_tok);
    m.batch = std::min(m.batch, p.batch);
  }
  return m;
}
}  // namespace detail

template <CostModel Cost, argmin_path Path = argmin_path::automatic>
class argmin_router {
 public:
  /// True when decisions take the class-indexed path.
  static constexpr bool class_indexed = Path != argmin_path::scan && Cost::monotone_in_load;
  /// True when the class-indexed path visits classes in floor order and stops early.
  static constexpr bool floor_ordered = class_indexed && Path == argmin_path::automatic && FlooredCostModel<Cost>;

  /// The router keeps a pointer to `f`, which must outlive it. On the floor-ordered path it also keeps the
  /// order of f's classes: do not assign another fleet to `f` while the router is in use (asserted).
  /// @throws config_error when the path is class-indexed and the fleet keeps no class heaps
  ///         (fleet_index::none).
  explicit argmin_router(fleet& f)
    requires std::default_initializable<Cost>
      : argmin_router(f, Cost{}) {}
  /// @throws config_error as above.
  argmin_router(fleet& f, Cost cost) : fleet_(&f), cost_(std::move(cost)) {
    if (class_indexed && f.index() != fleet_index::by_class)
      throw config_error(
          "argmin_router: the class-indexed path needs a fleet with class heaps "
          "(fleet_index::by_class); this fleet was built with fleet_index::none");
    if constexpr (floor_ordered) {
      // A fleet's classes never change, so their order by floor_key changes only with the cost's floor_epoch().
      const auto params = f.class_params();
      class_order_.resize(params.size());
      std::iota(class_order_.begin(), class_order_.end(), std::uint32_t{0});
      sort_classes();
      least_ = detail::least_params(params);
    }
  }

  /// @brief The device this router would choose, without reserving anything.
  /// Complexity: O(classes) on the class-indexed path, O(n) on the scan. Throws: nothing (checked mode:
  /// usage_error, see the file comment). No allocation.
  // Always inlined (GCC and Clang; other compilers ignore the attribute): GCC 12 at -O2 otherwise calls it out
  // of line from route(). route_bench `energy`, p50 with / without, on a draft of this change: 74 / 90 ns at 320
  // devices and 3 classes, 98 / 101 ns with 16 classes, 116 / 133-143 ns at 100,000 devices and 3 classes.
  [[nodiscard, gnu::always_inline]] std::optional<device_id> pick(const request_view& v) const JOULESCHED_HOT_NOEXCEPT {
    return choose(v).id();
  }

  /// @brief Chooses a device and reserves the request's work on it.
  /// Effects: the chosen device's backlog grows by the request's predicted work (cost/service.hpp, or the cost's
  /// own when it PredictsWork) and one request.
  /// Returns: the assignment, or empty when no device is available. Complexity: pick + O(log n).
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    return assign_best(*fleet_, choose(v), v, cost_);
  }

  /// @brief Gives back the work of an assignment. Complexity: O(log n). Returns: fleet::release's answer.
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }

  /// @brief Corrects the work an assignment holds (fleet::correct). Complexity: O(log n). No allocation.
  bool correct(assignment& a, std::uint64_t work_ns) JOULESCHED_HOT_NOEXCEPT { return fleet_->correct(a, work_ns); }

  [[nodiscard]] Cost& cost() noexcept { return cost_; }
  [[nodiscard]] const Cost& cost() const noexcept { return cost_; }
  [[nodiscard]] fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const fleet& state() const noexcept { return *fleet_; }

 private:
  // The best candidate, with the parameters it was priced with.
  [[nodiscard, gnu::always_inline]] best_candidate choose(const request_view& v) const JOULESCHED_HOT_NOEXCEPT {
    detail::expect_valid_view(v, "argmin_router::route");
    const fleet& f = *fleet_;
    best_candidate best;
    // Written out here rather than through evaluate(): GCC 12 did not inline that call in the scan, and a call
    // per device cost as much as the cost itself.
    const auto consider = [&](const device_params& p, const device_load& l, device_id id) {
      const candidate c{static_cast<double>(cost_(p, l, v)), l.reserved_ns, id, &p};
      detail::expect_cost(c.cost, "argmin_router::route");
      best.offer(c);
    };
    if constexpr (class_indexed) {
      // One contiguous entry per class (its top and that top's load) and the class's shared parameters.
      const auto tops = f.class_tops();
      const auto params = f.class_params();
      if constexpr (floor_ordered) {
        // Floors rise along class_order_, so once one exceeds the best cost, no later class can win. Strictly:
        // a class whose floor equals the best cost may still tie it and win on load or id.
        assert(class_order_.size() == tops.size() && "the router's fleet was assigned another fleet");
        if constexpr (has_floor_epoch) {
          if (cost_.floor_epoch() != sorted_epoch_) sort_classes();  // e.g. an hourly carbon intensity changed
        }
        const double offset = floor_offset(v);
        if (class_order_.size() >= floor_block) {
          pick_by_blocks(tops, params, v, offset, best);
        } else {
          for (const std::uint32_t c : class_order_) {
            if (best.found && cost_.floor(params[c], v) + offset > best.best.cost) break;
            if (tops[c].id != fleet::no_device && serves(params[c], v)) consider(params[c], tops[c].load(), tops[c].id);
          }
        }
      } else {
        for (std::size_t c = 0; c < tops.size(); ++c)
          if (tops[c].id != fleet::no_device && serves(params[c], v)) consider(params[c], tops[c].load(), tops[c].id);
      }
    } else {
      const auto params = f.all_params();
      const auto loads = f.loads();
      const auto n = static_cast<device_id>(f.size());
      for (device_id id = 0; id < n; ++id)
        if (f.available(id) && serves(params[id], v)) consider(params[id], loads[id], id);
    }
    return best;
  }

  // With this many classes or more, the floor-ordered visit goes by blocks (pick_by_blocks). Visiting class by
  // class, the best class changes at unpredictable points once the SLO penalty decides (every device late), and
  // those branches cost more than the early stop saves: route_bench with ROUTE_BENCH_OVERLOAD=1 at 320 devices
  // and 16 classes, p50 220 ns against 129 ns for every_class. By blocks of 8, that case is as fast as
  // every_class, and the usual case keeps most of the gain (benchmarks/RESULTS.md). Below 8 classes, class by
  // class was faster in both cases.
  static constexpr std::size_t floor_block = 8;

  // The floor-ordered visit by blocks: the stop test once per block; in a block, every class's cost, then the
  // least of them chosen without branching on each comparison, then the usual order among the classes at it.
  [[gnu::always_inline]] void pick_by_blocks(std::span<const fleet::class_top_entry> tops,
                                             std::span<const device_params> params, const request_view& v,
                                             double offset, best_candidate& best) const JOULESCHED_HOT_NOEXCEPT {
    const std::size_t k = class_order_.size();
    for (std::size_t b = 0; b < k; b += floor_block) {
      if (best.found && cost_.floor(params[class_order_[b]], v) + offset > best.best.cost) break;
      const std::size_t m = std::min(floor_block, k - b);
      double costs[floor_block];
      double least = std::numeric_limits<double>::infinity();
      std::size_t at = floor_block;  // the first available class of the block below infinite cost, at the least
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t c = class_order_[b + i];
        costs[i] = static_cast<double>(cost_(params[c], tops[c].load(), v));
        detail::expect_cost(costs[i], "argmin_router::route");
        const double x =
            tops[c].id != fleet::no_device && serves(params[c], v) ? costs[i] : std::numeric_limits<double>::infinity();
        at = x < least ? i : at;
        least = std::min(least, x);
      }
      unsigned ties = 0;
      for (std::size_t i = 0; i < m; ++i) ties += costs[i] == least;
      const auto offer = [&](std::size_t i) {
        const auto& t = tops[class_order_[b + i]];
        const device_params& p = params[class_order_[b + i]];
        if (t.id != fleet::no_device && serves(p, v)) best.offer(candidate{least, t.reserved_ns, t.id, &p});
      };
      if (ties == 1 && at != floor_block) {
        offer(at);
      } else {  // several classes at the least cost, or none available below infinity
        for (std::size_t i = 0; i < m; ++i)
          if (costs[i] == least) offer(i);
      }
    }
  }

  // What may be added to every class's floor for v (weighted_cost::floor_offset; 0 for a cost without one).
  [[nodiscard]] double floor_offset(const request_view& v) const noexcept {
    if constexpr (requires { cost_.floor_offset(least_, v); }) return cost_.floor_offset(least_, v);
    else return 0.0;
  }

  fleet* fleet_;
  Cost cost_{};
  // Whether the cost's floor keys follow run-time state, announced by a change of floor_epoch() (FlooredCostModel).
  static constexpr bool has_floor_epoch = requires(const Cost& c) {
    { c.floor_epoch() } noexcept -> std::convertible_to<std::uint64_t>;
  };
  // Orders the classes by (floor_key, class): a stable order by floor_key, without allocating. O(C log C).
  // const: the order is a cache of the cost's state, refreshed on a const pick too (routers are single-threaded).
  void sort_classes() const noexcept {
    const auto params = fleet_->class_params();
    if constexpr (has_floor_epoch) sorted_epoch_ = cost_.floor_epoch();
    std::ranges::sort(class_order_, [&](std::uint32_t a, std::uint32_t b) {
      const double ka = cost_.floor_key(params[a]), kb = cost_.floor_key(params[b]);
      return ka < kb || (ka == kb && a < b);
    });
  }

  mutable std::vector<std::uint32_t> class_order_;  // classes by ascending floor_key (floor_ordered only)
  mutable std::uint64_t sorted_epoch_ = 0;          // the cost's floor_epoch() when class_order_ was sorted
  device_params least_{};  // the component-wise least parameters of the classes (floor_ordered)
};

/// The exact router forced onto the scan path (the reference the class-indexed path is tested against).
template <CostModel Cost>
using scan_router = argmin_router<Cost, argmin_path::scan>;

}  // namespace joulesched
