/// @file timer_queue.hpp
/// @brief The simulator's typed timers, beside the device event heap: control ticks, wake-ups of devices being
/// powered on, and whatever later kinds a controller needs (price changes, migrations).
///
/// When to use: an event loop that must fire a few kinds of scheduled actions, at most one pending per (kind,
/// device), and dispatch each by its kind. A new kind is a new enumerator and a case in the loop's dispatch;
/// the loop's structure does not change.
///
/// Design: an event_heap whose ids are (kind, device) laid out kind by kind: a fleet-wide kind holds one id,
/// a per-device kind holds one per device. Simultaneous timers fire in id order, that is in the order of their
/// kinds, then of their devices, so a run is deterministic.
/// Cost: schedule / cancel O(log n); top O(1); no allocation after construction.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>

#include "joulesched/sim/event_queue.hpp"
#include "joulesched/types.hpp"

namespace joulesched::sim {

/// @brief The kinds of timer, in the order simultaneous ones fire.
enum class timer_kind : std::uint8_t {
  control_tick,  ///< the controller's periodic tick (one for the fleet)
  wake,          ///< a device powered on finishes waking (one per device)
  rerank,        ///< queue_discipline::preemptive_llf's periodic re-rank (one for the fleet)
};
inline constexpr std::size_t timer_kind_count = 3;

/// @brief A fired or pending timer: its kind and, for a per-device kind, its device (0 otherwise).
struct timer {
  timer_kind kind = timer_kind::control_tick;
  device_id device = 0;
};

/// @brief Pending timers of a fleet of `devices` devices, at most one per (kind, device) (see the file note).
class timer_queue {
 public:
  explicit timer_queue(std::size_t devices) : heap_(layout(devices)) {}

  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  /// The time of the earliest timer, or +infinity when none is pending.
  [[nodiscard]] double top_time_s() const noexcept { return heap_.top_time_s(); }
  /// The earliest timer. Precondition: !empty().
  [[nodiscard]] timer top() const noexcept { return decode(heap_.top()); }
  /// Removes the earliest timer and returns it. Precondition: !empty().
  timer pop() noexcept { return decode(heap_.pop()); }

  /// Sets the pending time of a timer, replacing any earlier one. Precondition: t_s finite.
  void schedule(timer t, double t_s) noexcept { heap_.schedule(encode(t), t_s); }
  void cancel(timer t) noexcept { heap_.cancel(encode(t)); }
  /// The pending time of a timer, or +infinity when it is not scheduled.
  [[nodiscard]] double time_of(timer t) const noexcept { return heap_.time_of(encode(t)); }

 private:
  static constexpr std::array<bool, timer_kind_count> per_device{false, true, false};

  std::size_t layout(std::size_t devices) {
    std::uint32_t next = 0;
    for (std::size_t k = 0; k < timer_kind_count; ++k) {
      base_[k] = next;
      next += per_device[k] ? static_cast<std::uint32_t>(devices) : 1u;
    }
    base_[timer_kind_count] = next;
    return next;
  }
  [[nodiscard]] event_heap::id_type encode(timer t) const noexcept {
    const auto k = static_cast<std::size_t>(t.kind);
    assert(per_device[k] ? base_[k] + t.device < base_[k + 1] : t.device == 0);
    return base_[k] + (per_device[k] ? t.device : 0u);
  }
  [[nodiscard]] timer decode(event_heap::id_type id) const noexcept {
    std::size_t k = 0;
    while (id >= base_[k + 1]) ++k;
    return {static_cast<timer_kind>(k), id - base_[k]};
  }

  std::array<std::uint32_t, timer_kind_count + 1> base_{};
  event_heap heap_;
};

}  // namespace joulesched::sim
