/// @file event_queue.hpp
/// @brief The simulator's timer wheel for devices: at most one pending event per device, kept in an indexed
/// 4-ary min-heap on (time, device id), so that a device's next event can be moved earlier or later in place.
///
/// When to use: a discrete-event loop where each of n entities has at most one pending wake-up that is often
/// re-planned (a device whose decode plan is cut short by an arrival). Not a general event queue: an id holds one
/// time, and scheduling it again replaces the old time.
///
/// Design: the heap holds (time, id) pairs inline (comparisons touch no other array); pos_[id] locates an id in
/// the heap. Ties in time break towards the lower id, so the order of simultaneous events is deterministic.
/// Cost: schedule / cancel O(log_4 n); top O(1); no allocation after construction (the heap has room for every
/// id from the start).
#pragma once

#include <cassert>
#include <cstdint>
#include <limits>
#include <vector>

#include "joulesched/detail/dary_heap.hpp"

namespace joulesched::sim {

/// @brief An indexed min-heap of (time_s, id) with one entry per id (see the file note).
class event_heap {
 public:
  using id_type = std::uint32_t;
  static constexpr double never = std::numeric_limits<double>::infinity();

  /// @brief An empty heap for ids 0..n-1. Complexity: O(n). Allocates once.
  explicit event_heap(std::size_t n) : pos_(n, npos) { heap_.reserve(n); }

  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }

  /// @brief The id of the earliest event. Precondition: !empty(). Complexity: O(1).
  [[nodiscard]] id_type top() const noexcept {
    assert(!empty());
    return heap_.front().id;
  }
  /// @brief The time of the earliest event, or +infinity when empty. Complexity: O(1).
  [[nodiscard]] double top_time_s() const noexcept { return heap_.empty() ? never : heap_.front().t_s; }

  /// @brief The pending time of `id`, or +infinity when it has none. Complexity: O(1).
  [[nodiscard]] double time_of(id_type id) const noexcept { return pos_[id] == npos ? never : heap_[pos_[id]].t_s; }
  [[nodiscard]] bool scheduled(id_type id) const noexcept { return pos_[id] != npos; }

  /// @brief Sets id's pending event to `t_s`, replacing any earlier one. Complexity: O(log n). No allocation.
  /// Re-scheduling the top to a later time (the usual step of an event loop that does not pop) is one sift.
  void schedule(id_type id, double t_s) noexcept {
    assert(id < pos_.size());
    assert(t_s == t_s && t_s < never);
    const std::uint32_t p = pos_[id];
    if (p == npos) {
      pos_[id] = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back({t_s, id});  // capacity reserved for every id: no allocation
      sift_up(pos_[id], {t_s, id});
    } else if (t_s < heap_[p].t_s) {
      sift_up(p, {t_s, id});
    } else {
      sift_down(p, {t_s, id});
    }
  }

  /// @brief Removes id's pending event, if any. Complexity: O(log n).
  void cancel(id_type id) noexcept {
    const std::uint32_t p = pos_[id];
    if (p == npos) return;
    pos_[id] = npos;
    const entry last = heap_.back();
    heap_.pop_back();
    if (p == heap_.size()) return;
    if (before(last, heap_[p])) sift_up(p, last);
    else sift_down(p, last);
  }

  /// @brief Removes the earliest event and returns its id. Precondition: !empty(). Complexity: O(log n).
  id_type pop() noexcept {
    const id_type id = top();
    cancel(id);
    return id;
  }

 private:
  static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

  struct entry {
    double t_s;
    id_type id;
  };

  static constexpr auto before = [](const entry& a, const entry& b) noexcept {
    return a.t_s < b.t_s || (a.t_s == b.t_s && a.id < b.id);
  };

  void place(std::uint32_t p, const entry& e) noexcept {
    heap_[p] = e;
    pos_[e.id] = p;
  }

  // Moves e (destined for slot p) up to its place.
  void sift_up(std::uint32_t p, entry e) noexcept {
    joulesched::detail::heap_sift_up(heap_.data(), p, e, before,
                                     [this](std::uint32_t i, const entry& x) { place(i, x); });
  }

  // Moves e (destined for slot p) down to its place.
  void sift_down(std::uint32_t p, entry e) noexcept {
    joulesched::detail::heap_sift_down(heap_.data(), static_cast<std::uint32_t>(heap_.size()), p, e, before,
                                       [this](std::uint32_t i, const entry& x) { place(i, x); });
  }

  std::vector<std::uint32_t> pos_;  // slot of each id in heap_, npos when none
  std::vector<entry> heap_;
};

}  // namespace joulesched::sim
