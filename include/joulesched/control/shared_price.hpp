/// @file shared_price.hpp
/// @brief A price that one thread sets and any number of router threads read, lock-free: lambda, the price
/// of lateness in the JouleSched cost, and later a carbon price.
///
/// When to use: routers on several threads (concurrent_router.hpp, partitioned_router.hpp), or any router whose
/// cost should follow a controller without the controller holding the router. Build the cost from the price
/// (`joulesched_cost(price)`, `profile_cost(price)`); a price_loop (price_loop.hpp) or anything else sets it.
///
/// Design: one std::atomic<double>, read and written relaxed. A price is one number that nothing else is
/// published with, so a reader needs no ordering: it sees the old value or the new one. Cost: a read is a
/// plain load on x86-64 and arm64.
#pragma once

#include <atomic>

#include "joulesched/error.hpp"

namespace joulesched {

/// @brief A non-negative, finite price shared between threads (see the file note).
class shared_price {
 public:
  static_assert(std::atomic<double>::is_always_lock_free, "a shared_price must be readable lock-free");

  /// @throws config_error when `initial` is negative, NaN or infinite.
  explicit shared_price(double initial = 0.0)
      : value_(detail::require_non_negative(initial, "shared_price", "value")) {}
  shared_price(const shared_price&) = delete;
  shared_price& operator=(const shared_price&) = delete;

  /// The price now. Any thread; never blocks.
  [[nodiscard]] double get() const noexcept { return value_.load(std::memory_order_relaxed); }

  /// Sets the price; readers see it at their next read. Any thread.
  /// @throws config_error when `v` is negative, NaN or infinite (the price is unchanged).
  void set(double v) {
    value_.store(detail::require_non_negative(v, "shared_price", "value"), std::memory_order_relaxed);
  }

 private:
  std::atomic<double> value_;
};

}  // namespace joulesched
