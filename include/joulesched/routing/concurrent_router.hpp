/// @file concurrent_router.hpp
/// @brief Routers that many threads run at once over one concurrent_fleet: an exact one over the published
/// shard tops (concurrent_argmin_router) and a relaxed power-of-d one over the atomic loads.
///
/// Use them when several threads route while completions release load from other threads. Give each router
/// thread its own router object (it holds its cost model, statistics and, for power-of-d, its random engine);
/// all of them share one concurrent_fleet, and any thread may call the fleet's release(). Do not use them from
/// one thread only: argmin_router over a fleet is simpler and faster there, and chooses the same devices.
///
/// Design, in two lines: the exact router reads every shard's published top (load, id), evaluates the cost
/// once per class on the least one, try-locks the best shard (taking the next best if it is busy, never
/// waiting), and under the lock reserves the shard's true least-loaded device and republishes the top.
///
/// Cost: exact route O(shards + classes x cost + log 64) with no allocation, no exception and no blocking
/// lock; power-of-d route O(d^2) expected, flat in the fleet's size.
///
/// Misuse: release() is the fleet's (refused, returning false, when it would wrap a load; see
/// concurrent_fleet.hpp). In checked mode (usage_error.hpp) route() throws usage_error for a view whose budget is
/// not finite or a cost that comes out NaN, which otherwise are asserted.
///
/// Exactness:
/// - exact router: the shard is chosen exactly against the published tops as read during the decision, which
///   may be a few hundred nanoseconds old (another router may have just reserved on one, a release may not be
///   applied yet); within the chosen shard the device is its true least-loaded one at lock time. With one
///   thread (no concurrent releases or writers) the published tops are the true tops, and the result is
///   exactly argmin_router's over a fleet with the same history (tested on thousands of random fleets).
/// - power-of-d router: the best of d devices drawn at random, by their atomic loads read during the decision
///   (relaxed); exact only when d >= the number of available devices and nothing runs concurrently. Use it for
///   huge fleets (its cost does not grow with them) or when routers see stale state: random draws keep them
///   from herding onto one device, as an exact argmin over the same stale tops would.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "joulesched/concepts.hpp"
#include "joulesched/detail/concurrent_shard.hpp"
#include "joulesched/error.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/routing/concurrent/concurrent_fleet.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief What one router object has done: for benchmarks and tuning. Plain counters (the object is per thread).
struct concurrent_route_stats {
  std::uint64_t decisions = 0;      ///< routes that returned a device
  std::uint64_t lock_failures = 0;  ///< try-locks of a chosen shard that found it busy (the router moved on)
  std::uint64_t backoffs = 0;       ///< rounds in which every candidate shard was busy, followed by a pause
};

/// @brief The exact concurrent router: least cost (ties: less reserved work, lower id) over the shard tops.
///
/// @tparam Cost a CostModel monotone in load (checked at compile time): within a class the least-loaded device
///         is then the least costly, which is what lets a shard's top stand for the whole shard.
/// Thread safety: route() and release() on different objects over one fleet may run concurrently; one object
/// is used by one thread at a time (its statistics are plain counters; its cost is not synchronised).
template <CostModel Cost>
class concurrent_argmin_router {
  static_assert(Cost::monotone_in_load,
                "concurrent_argmin_router needs a cost monotone in load: a shard's least-loaded device must be "
                "its least costly. Use concurrent_power_of_d_router for other costs.");

 public:
  /// Shards tried in one round before the router pauses and starts over.
  static constexpr unsigned max_tries_per_round = 8;

  /// @throws config_error when the state is in relaxed mode (its shard heaps do not follow the loads), or when
  /// all of the fleet's reader slots are taken (concurrent_fleet::max_readers routers already read it).
  explicit concurrent_argmin_router(concurrent_fleet& f)
    requires std::default_initializable<Cost>
      : concurrent_argmin_router(f, Cost{}) {}
  /// @throws config_error when the state is in relaxed mode (its shard heaps do not follow the loads), or when
  /// all of the fleet's reader slots are taken (concurrent_fleet::max_readers routers already read it).
  concurrent_argmin_router(concurrent_fleet& f, Cost cost) : fleet_(&f), reader_(f), cost_(std::move(cost)) {
    if (f.mode() != concurrent_mode::exact)
      detail::fail("concurrent_argmin_router", "fleet mode", "relaxed", "must be exact (shard heaps kept up to date)");
  }

  /// @brief Chooses a device and reserves the request's work on it before returning.
  ///
  /// Effects: reads the published top of every shard, evaluates the cost on the least top of each class, and
  /// try-locks the shard of the best; if it is busy, takes the next best (never waits). Under the lock it
  /// applies pending releases, reserves the request's predicted work and one request on the shard's true top
  /// (fetch_add), restores the heap, publishes the new top and unlocks. If every candidate shard is busy, it pauses
  /// briefly (spin, then yield) and starts over: with a single shard (one hot class) that is the only way to proceed.
  /// Returns: the assignment, or empty when no shard has an available device.
  /// Complexity: O(shards + classes) per round, one cost evaluation per class, O(log 64) under the lock.
  /// Throws: nothing (checked mode: usage_error, see the file comment). No allocation. Drain: never a device
  /// whose drain() returned before this call started.
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    detail::expect_valid_view(v, "concurrent_argmin_router::route");
    const concurrent_fleet::snapshot& snap = reader_.read();
    std::array<const detail::concurrent_shard*, max_tries_per_round> tried{};
    unsigned n_tried = 0;
    for (unsigned round = 0;;) {
      device_params chosen_params{};
      detail::concurrent_shard* chosen = best_shard(snap, v, tried, n_tried, chosen_params);
      if (chosen == nullptr) {
        if (n_tried == 0) return std::nullopt;  // every shard is empty: nothing is available
        n_tried = 0;                            // every non-empty shard was busy: pause and start over
        ++stats_.backoffs;
        detail::backoff(round);
        round = std::min(round + 1, 6u);
        continue;
      }
      if (chosen->try_lock()) {
        chosen->apply_pending();
        // The load the cost was evaluated at: the shard's published top.
        const device_load seen{detail::top_word::load_ns(chosen->top()), 0};
        const std::uint64_t work = work_ns_for(cost_, chosen_params, seen, v);
        const std::optional<device_id> id = chosen->reserve_top(work);
        chosen->unlock();
        if (id) {
          ++stats_.decisions;
          return assignment{*id, work};
        }
        // Drained empty since we read its top: fall through and try another.
      } else {
        ++stats_.lock_failures;
      }
      if (n_tried == max_tries_per_round) {
        n_tried = 0;
        ++stats_.backoffs;
        detail::backoff(round);
        round = std::min(round + 1, 6u);
      }
      tried[n_tried++] = chosen;
    }
  }

  /// @brief Gives back the work of an assignment; any thread may call the fleet's release() instead.
  /// Returns: concurrent_fleet::release's answer (false: refused).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }

  [[nodiscard]] Cost& cost() noexcept { return cost_; }
  [[nodiscard]] const Cost& cost() const noexcept { return cost_; }
  [[nodiscard]] concurrent_fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const concurrent_fleet& state() const noexcept { return *fleet_; }
  [[nodiscard]] const concurrent_route_stats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  /// The shard whose top is the least costly (cost, load, id), skipping the tried ones; null when none is left.
  [[nodiscard]] detail::concurrent_shard* best_shard(
      const concurrent_fleet::snapshot& snap, const request_view& v,
      const std::array<const detail::concurrent_shard*, max_tries_per_round>& tried, unsigned n_tried,
      device_params& chosen_params) const JOULESCHED_HOT_NOEXCEPT {
    detail::concurrent_shard* chosen = nullptr;
    candidate best{};
    for (const auto& c : snap.classes) {
      if (!serves(c.params, v)) continue;
      // Within a class the cost is monotone in load, so the least word (load, id) is the class's best device.
      std::uint64_t least = detail::top_word::empty;
      detail::concurrent_shard* least_shard = nullptr;
      for (std::uint32_t i = c.first_shard; i < c.end_shard; ++i) {
        detail::concurrent_shard* s = snap.class_shards[i];
        const std::uint64_t word = s->top();
        if (word < least && std::find(tried.begin(), tried.begin() + n_tried, s) == tried.begin() + n_tried) {
          least = word;
          least_shard = s;
        }
      }
      if (least_shard == nullptr) continue;
      // The cost sees the published load; `requests` is 0: a monotone cost reads nothing but reserved_ns.
      const std::uint64_t load_ns = detail::top_word::load_ns(least);
      const candidate cand{static_cast<double>(cost_(c.params, device_load{load_ns, 0}, v)), load_ns,
                           detail::top_word::id(least)};
      detail::expect_cost(cand.cost, "concurrent_argmin_router::route");
      if (chosen == nullptr || cand.beats(best)) {
        best = cand;
        chosen = least_shard;
        chosen_params = c.params;
      }
    }
    return chosen;
  }

  concurrent_fleet* fleet_;
  concurrent_fleet::reader reader_;  // announces the snapshot a decision reads
  Cost cost_{};
  concurrent_route_stats stats_{};
};

/// @brief The relaxed concurrent router: power-of-d choices over the atomic loads.
///
/// Draws d distinct available devices (from the current snapshot) at random, evaluates the cost on each with
/// its load read now, and reserves on the best with the fleet's reserve() (an atomic add; in exact mode the
/// shard heap learns it without waiting). Any CostModel works, monotone or not. Over a state in relaxed mode
/// routers and completions share nothing but the devices' load lines: the mode for many threads.
/// Thread safety: as concurrent_argmin_router (one object per thread: it owns its random engine).
template <CostModel Cost, class Engine = std::mt19937_64>
class concurrent_power_of_d_router {
 public:
  static constexpr std::uint32_t max_d = 32;

  /// @throws config_error when d is 0 or above max_d, or when all of the fleet's reader slots are taken.
  concurrent_power_of_d_router(concurrent_fleet& f, std::uint32_t d, Cost cost, std::uint64_t seed)
      : fleet_(&f), reader_(f), d_(d), cost_(std::move(cost)), engine_(seed) {
    if (d == 0 || d > max_d)
      detail::fail("concurrent_power_of_d_router", "d", d, "must be in [1, " + std::to_string(max_d) + "]");
  }

  /// @brief Chooses the best of d devices drawn without replacement and reserves the request's work on it.
  /// Returns: the assignment, or empty when no device is available. Complexity: O(d^2) expected (O(available)
  /// when d >= available). Throws: nothing. No allocation, no lock. Drain: never a device whose drain()
  /// returned before this call started (it draws from the snapshot that drain() published).
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    detail::expect_valid_view(v, "concurrent_power_of_d_router::route");
    const concurrent_fleet::snapshot& snap = reader_.read();
    const auto& ids = snap.available_ids;
    best_candidate best;
    detail::offer_serving_draws<max_d>(
        engine_, ids.size(), d_,
        [&](std::size_t i) { return serves(snap.class_params[snap.devices[ids[i]].class_index], v); },
        [&](std::size_t i) { best.offer(evaluate(snap, ids[i], v)); });
    if (!best.found) return std::nullopt;
    const std::uint64_t work =
        work_ns_for(cost_, snap.class_params[snap.devices[best.best.id].class_index], fleet_->load(best.best.id), v);
    fleet_->reserve(best.best.id, work);
    ++stats_.decisions;
    return assignment{best.best.id, work};
  }

  /// @brief Gives back the work of an assignment; any thread may call the fleet's release() instead.
  /// Returns: concurrent_fleet::release's answer (false: refused).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT { return fleet_->release(a); }

  [[nodiscard]] Cost& cost() noexcept { return cost_; }
  [[nodiscard]] const Cost& cost() const noexcept { return cost_; }
  [[nodiscard]] std::uint32_t d() const noexcept { return d_; }
  [[nodiscard]] concurrent_fleet& state() noexcept { return *fleet_; }
  [[nodiscard]] const concurrent_fleet& state() const noexcept { return *fleet_; }
  [[nodiscard]] const concurrent_route_stats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  [[nodiscard]] candidate evaluate(const concurrent_fleet::snapshot& snap, device_id id,
                                   const request_view& v) const JOULESCHED_HOT_NOEXCEPT {
    const device_load l = fleet_->load(id);
    const device_params& p = snap.class_params[snap.devices[id].class_index];
    const candidate c{static_cast<double>(cost_(p, l, v)), l.reserved_ns, id};
    detail::expect_cost(c.cost, "concurrent_power_of_d_router::route");
    return c;
  }

  concurrent_fleet* fleet_;
  concurrent_fleet::reader reader_;  // announces the snapshot a decision reads
  std::uint32_t d_;
  Cost cost_;
  Engine engine_;
  concurrent_route_stats stats_{};
};

}  // namespace joulesched
