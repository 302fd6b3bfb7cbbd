/// @file clock.hpp
/// @brief `steady_clock_s`: the default Clock of queues and controllers, std::chrono::steady_clock read as
/// double seconds.
///
/// Use it when deadlines are absolute seconds on the steady clock of this process (the epoch is
/// unspecified, often boot time), so `deadline_s - now_s()` is a budget in seconds. Do not use it in tests or
/// simulations: pass a manual or simulated clock instead (any type with `double now_s() const`). Design: an
/// empty struct, so a queue that stores it costs no space. Cost: one steady_clock::now() per call (tens of ns).
#pragma once

#include <chrono>

#include "joulesched/concepts.hpp"

namespace joulesched {

/// @brief A Clock whose now_s() is std::chrono::steady_clock::now() in seconds since its epoch.
struct steady_clock_s {
  /// @brief Effects: reads the steady clock. Never decreases between calls. Complexity: O(1). Throws: nothing.
  [[nodiscard]] double now_s() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};
static_assert(Clock<steady_clock_s>);

}  // namespace joulesched
