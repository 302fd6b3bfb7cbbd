/// @file mpsc_ring.hpp
/// @brief (detail) A bounded multi-producer, single-consumer ring of small values (Vyukov's bounded queue,
/// one consumer): how releases travel to the thread that owns a partition (routing/partitioned_router.hpp).
///
/// Design: every cell carries a sequence number that says whose turn it is; a producer claims a position with
/// a compare-and-swap on the head, writes the value and publishes it by storing the cell's sequence (release);
/// the consumer reads a cell only after it sees that store (acquire) and hands the cell back the same way. Values
/// are copied in and out, so the caller keeps nothing alive. A full ring refuses a push (push returns false)
/// and the consumer sees an empty ring while a producer is between its claim and its publish.
/// Cost: push O(1) (one CAS, retried only when another producer claimed the same position), push_all O(k)
/// with one CAS, pop O(1); no allocation after construction.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>

#include "joulesched/detail/concurrent_shard.hpp"  // cache_line_bytes

namespace joulesched::detail {

template <class T>
  requires std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>
class mpsc_ring {
 public:
  /// A ring of at least `capacity` values, rounded up to a power of two and to at least 2: with one cell, a
  /// published value's sequence (position + 1) would read as free to the next producer.
  explicit mpsc_ring(std::size_t capacity)
      : mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1), cells_(std::make_unique<cell[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  /// (any thread) Copies v in. Returns false, changing nothing, when the ring is full.
  [[nodiscard]] bool push(const T& v) noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto turn = static_cast<std::ptrdiff_t>(seq - pos);
      if (turn == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = v;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (turn < 0) {
        return false;  // the consumer has not freed this cell yet: full
      } else {
        pos = head_.load(std::memory_order_relaxed);  // another producer took pos
      }
    }
  }

  /// (any thread) Copies all of `vs` in, at consecutive positions, or nothing. Returns false, changing nothing,
  /// when fewer than vs.size() cells are free. One CAS for the whole batch, and a consumer that drains it
  /// reads its cells a cache line at a time. A batch larger than capacity() is always refused (false).
  [[nodiscard]] bool push_all(std::span<const T> vs) noexcept {
    const std::size_t k = vs.size();
    if (k > capacity()) return false;  // its last cell would alias an earlier one of the batch
    if (k == 0) return true;
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      // The consumer frees cells in order, so if the last cell of the batch is free, all of them are.
      const std::size_t last = pos + k - 1;
      const std::size_t seq = cells_[last & mask_].seq.load(std::memory_order_acquire);
      const auto turn = static_cast<std::ptrdiff_t>(seq - last);
      if (turn == 0) {
        if (head_.compare_exchange_weak(pos, pos + k, std::memory_order_relaxed)) break;
      } else if (turn < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      cell& c = cells_[(pos + i) & mask_];
      c.value = vs[i];
      c.seq.store(pos + i + 1, std::memory_order_release);
    }
    return true;
  }

  /// (the consumer) Copies the oldest published value out. Returns false when there is none yet.
  [[nodiscard]] bool pop(T& out) noexcept {
    cell& c = cells_[tail_ & mask_];
    if (c.seq.load(std::memory_order_acquire) != tail_ + 1) return false;
    out = c.value;
    c.seq.store(tail_ + mask_ + 1, std::memory_order_release);
    ++tail_;
    return true;
  }

 private:
  struct cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  std::size_t mask_;
  std::unique_ptr<cell[]> cells_;
  alignas(cache_line_bytes) std::atomic<std::size_t> head_{0};  // producers' next position
  alignas(cache_line_bytes) std::size_t tail_ = 0;              // the consumer's next position
};

}  // namespace joulesched::detail
