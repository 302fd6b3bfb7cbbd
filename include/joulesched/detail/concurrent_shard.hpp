/// @file concurrent_shard.hpp
/// @brief (detail) The parts of concurrent_fleet that users do not name: the packed top word, the padded
/// per-device load, and one shard (a small indexed min-heap of (reserved device-nanoseconds, device id) behind a
/// try-lock).
///
/// Use: only through concurrent_fleet and the concurrent routers. Not for anything else.
/// Design: a shard holds at most 64 devices of one class. Its heap is touched only by the holder of its
/// try-lock; its top is published in one atomic 64-bit word that routers read without locking; load changes
/// made without the lock (releases) are posted as bits in a 64-bit pending mask and applied by the next holder.
/// Cost: reading a top is one relaxed load; every locked operation is O(log 64) plus one bit per pending change.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>

#include "joulesched/detail/dary_heap.hpp"
#include "joulesched/types.hpp"

namespace joulesched::detail {

/// @brief The cache-line size the concurrent state pads to: 64 bytes (x86-64 and most AArch64 cores).
///
/// Not std::hardware_destructive_interference_size: GCC warns (-Winterference-size) when a header uses it,
/// because its value may differ between compiler versions and flags, which would change the layout of types
/// that cross translation units. A fixed 64 is what the design notes assume and is stable.
inline constexpr std::size_t cache_line_bytes = 64;

/// @brief Tells the CPU that this thread is spinning (x86 `pause`, AArch64 `yield`); nothing elsewhere.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/// @brief Waits a little before retrying: 1, 2, 4, ... 32 pauses, then yields the core from round 6 on.
/// Used after a whole round of failed try-locks; yielding matters when threads outnumber cores.
inline void backoff(unsigned round) noexcept {
  if (round < 6) {
    for (unsigned i = 0; i < (1u << round); ++i) cpu_relax();
  } else {
    std::this_thread::yield();
  }
}

/// @brief A shard's top, packed in one 64-bit word: reserved nanoseconds in the high 40 bits (saturating), the
/// device id in the low 24 bits.
///
/// Comparing two words as integers compares (load, id) lexicographically, which is the order of the heaps,
/// so the least word of a class's shards is the class's best device. Limits: ids up to 2^24 - 2 (the id
/// 2^24 - 1 with a saturated load is `empty`), backlogs up to 2^40 - 1 ns (about 18 minutes); larger loads publish
/// as 2^40 - 1, and routers then see ties where there are none (no longer exact; nothing breaks).
struct top_word {
  static constexpr unsigned id_bits = 24;
  static constexpr unsigned load_bits = 64 - id_bits;
  static constexpr std::uint64_t id_mask = (std::uint64_t{1} << id_bits) - 1;
  /// The most backlog a published word holds: 2^40 - 1 ns, about 18 minutes; a longer backlog is published as
  /// that (its cost then reads 18 minutes). ASSUMPTION: a device 18 minutes behind is lost to any SLO anyway.
  static constexpr std::uint64_t max_load_ns = (std::uint64_t{1} << load_bits) - 1;
  static constexpr device_id max_id = static_cast<device_id>(id_mask - 1);
  /// The word of a shard with no available device: greater than every real word.
  static constexpr std::uint64_t empty = ~std::uint64_t{0};

  [[nodiscard]] static constexpr std::uint64_t pack(std::uint64_t load_ns, device_id id) noexcept {
    assert(id <= max_id);
    return (std::min(load_ns, max_load_ns) << id_bits) | id;
  }
  [[nodiscard]] static constexpr std::uint64_t load_ns(std::uint64_t word) noexcept { return word >> id_bits; }
  [[nodiscard]] static constexpr device_id id(std::uint64_t word) noexcept {
    return static_cast<device_id>(word & id_mask);
  }
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the concurrent router needs lock-free 64-bit atomics");

/// @brief One device's reserved load, alone on its cache line so that devices do not share lines.
struct alignas(cache_line_bytes) concurrent_device_load {
  std::atomic<std::uint64_t> reserved_ns{0};
  std::atomic<std::uint32_t> requests{0};
  /// Where a load change is posted: (shard index << 32) | slot, as the fleet's writer last set it.
  std::atomic<std::uint64_t> home{0};
};

/// @brief A shard: up to 64 devices of one class, a 4-ary min-heap of them by (key, id) behind a try-lock,
/// the top published in an atomic word, and a mask of pending load changes.
///
/// Slots 0..63 hold members (device ids); a member is in the heap when it is available. key_[slot] is the
/// member's reserved work as the heap last saw it; the true value is its concurrent_device_load.
///
/// The pending protocol (releases never wait): whoever changes a member's load without holding the lock
/// sets the member's bit in `pending_` and then tries the lock; if it gets it, it applies the change itself.
/// A holder applies all pending bits before it unlocks, and after unlocking checks the mask again, retaking
/// the lock to apply bits that arrived meanwhile. The mask update, the try-lock, the unlock and the check are
/// all seq_cst, so either the poster sees the lock free or the unlocker sees the bit: no change is left behind.
///
/// Thread safety: top(), notify() and try_lock() from any thread; everything marked "holder" only by the
/// thread that holds the lock.
class alignas(cache_line_bytes) concurrent_shard {
 public:
  static constexpr std::uint32_t capacity = 64;
  static constexpr std::uint8_t no_pos = 0xFF;
  static constexpr device_id no_member = ~device_id{0};

  /// @param loads the fleet's per-device loads (indexed by device id); must outlive the shard.
  explicit concurrent_shard(concurrent_device_load* loads) noexcept : loads_(loads) {
    member_.fill(no_member);
    pos_.fill(no_pos);
  }
  concurrent_shard(const concurrent_shard&) = delete;
  concurrent_shard& operator=(const concurrent_shard&) = delete;

  /// The published top (see top_word), or top_word::empty. May be a few hundred nanoseconds old.
  [[nodiscard]] std::uint64_t top() const noexcept { return top_.load(std::memory_order_relaxed); }

  /// @brief Takes the lock if it is free. Never waits. Complexity: O(1).
  [[nodiscard]] bool try_lock() noexcept {
    // Test before test-and-set, so that failing routers do not take the line exclusive. seq_cst: see class note.
    return !locked_.load(std::memory_order_seq_cst) && !locked_.exchange(true, std::memory_order_seq_cst);
  }

  /// @brief Takes the lock, spinning (then yielding) while it is held. For writers only, never for routers.
  void lock_spin() noexcept {
    for (unsigned round = 0; !try_lock(); round = std::min(round + 1, 6u)) backoff(round);
  }

  /// @brief (holder) Publishes the top and unlocks; then applies, under the lock again, any change posted while
  /// it was held. Complexity: O(1) plus the pending changes applied.
  void unlock() noexcept {
    for (;;) {
      publish();
      locked_.store(false, std::memory_order_seq_cst);
      if (pending_.load(std::memory_order_seq_cst) == 0) return;
      if (!try_lock()) return;  // the new holder sees the bits when it unlocks
      apply_pending();
    }
  }

  /// @brief Posts that the load of the member in `slot` changed, and applies it now if the lock is free.
  /// Never waits. Precondition: the caller changed the load (seq_cst) before calling.
  void notify(std::uint32_t slot) noexcept {
    assert(slot < capacity);
    pending_.fetch_or(std::uint64_t{1} << slot, std::memory_order_seq_cst);
    if (try_lock()) {
      apply_pending();
      unlock();
    }
  }

  /// @brief (holder) Re-reads the load of every member whose bit is pending and restores the heap.
  /// Complexity: O(k log 64) for k pending bits.
  void apply_pending() noexcept {
    // Look before taking: most of the time nothing is pending, and a load does not take the line exclusive.
    // A bit posted after this look is applied by unlock(), which checks again after unlocking.
    if (pending_.load(std::memory_order_relaxed) == 0) return;
    std::uint64_t mask = pending_.exchange(0, std::memory_order_seq_cst);
    while (mask != 0) {
      const auto slot = static_cast<std::uint32_t>(std::countr_zero(mask));
      mask &= mask - 1;
      if (pos_[slot] != no_pos) refresh(slot);
    }
  }

  /// @brief (holder) Reserves `work_ns` device-nanoseconds and one request on the heap's top device and restores the
  /// heap. Returns: the device, or empty when the heap is empty. Precondition: apply_pending() was called under this
  /// lock. Complexity: O(log 64).
  [[nodiscard]] std::optional<device_id> reserve_top(std::uint64_t work_ns) noexcept {
    if (size_ == 0) return std::nullopt;
    const std::uint8_t slot = heap_[0];
    const device_id id = member_[slot];
    concurrent_device_load& load = loads_[id];
    const std::uint64_t before = load.reserved_ns.fetch_add(work_ns, std::memory_order_relaxed);
    load.requests.fetch_add(1, std::memory_order_relaxed);
    key_[slot] = before + work_ns;  // the true load, including releases not yet applied
    sift_down(0);
    return id;
  }

  // ---- Membership and availability: (holder), and only the fleet's writer calls these. ----

  [[nodiscard]] device_id member(std::uint32_t slot) const noexcept { return member_[slot]; }
  [[nodiscard]] bool in_heap(std::uint32_t slot) const noexcept { return pos_[slot] != no_pos; }
  [[nodiscard]] std::uint32_t heap_size() const noexcept { return size_; }

  /// (holder) Makes `id` the member of a free slot, outside the heap.
  void set_member(std::uint32_t slot, device_id id) noexcept {
    assert(member_[slot] == no_member && id != no_member);
    member_[slot] = id;
  }

  /// (holder) Frees a slot whose member is outside the heap.
  void clear_member(std::uint32_t slot) noexcept {
    assert(pos_[slot] == no_pos);
    member_[slot] = no_member;
  }

  /// (holder) Puts the member of `slot` into the heap with its current load (read now, seq_cst).
  void insert(std::uint32_t slot) noexcept {
    assert(member_[slot] != no_member && pos_[slot] == no_pos && size_ < capacity);
    key_[slot] = loads_[member_[slot]].reserved_ns.load(std::memory_order_seq_cst);
    heap_[size_] = static_cast<std::uint8_t>(slot);
    pos_[slot] = static_cast<std::uint8_t>(size_);
    sift_up(size_++);
  }

  /// (holder) Takes the member of `slot` out of the heap.
  void erase(std::uint32_t slot) noexcept {
    assert(pos_[slot] != no_pos);
    const std::uint32_t i = pos_[slot];
    pos_[slot] = no_pos;
    const std::uint32_t last = --size_;
    if (i == last) return;
    const std::uint8_t moved = heap_[last];
    place(i, moved);
    sift_down(i);
    sift_up(pos_[moved]);  // the moved entry may belong above i as well
  }

  /// @brief (holder) True when no change is pending, the heap is ordered, its keys equal the loads and the
  /// published word is its top. For tests, with no concurrent change of loads. Complexity: O(64).
  [[nodiscard]] bool consistent() const noexcept {
    if (pending_.load(std::memory_order_seq_cst) != 0 || size_ > capacity) return false;
    for (std::uint32_t i = 0; i < size_; ++i) {
      const std::uint8_t s = heap_[i];
      if (pos_[s] != i || member_[s] == no_member) return false;
      if (key_[s] != loads_[member_[s]].reserved_ns.load(std::memory_order_relaxed)) return false;
      if (i > 0 && less(s, heap_[(i - 1) / heap_arity])) return false;
    }
    return top() == (size_ == 0 ? top_word::empty : top_word::pack(key_[heap_[0]], member_[heap_[0]]));
  }

 private:
  [[nodiscard]] bool less(std::uint8_t a, std::uint8_t b) const noexcept {
    return key_[a] < key_[b] || (key_[a] == key_[b] && member_[a] < member_[b]);
  }

  void place(std::uint32_t i, std::uint8_t slot) noexcept {
    heap_[i] = slot;
    pos_[slot] = static_cast<std::uint8_t>(i);
  }

  void refresh(std::uint32_t slot) noexcept {
    key_[slot] = loads_[member_[slot]].reserved_ns.load(std::memory_order_seq_cst);
    const std::uint32_t i = pos_[slot];
    sift_up(i);
    sift_down(pos_[slot]);
  }

  void sift_up(std::uint32_t i) noexcept {
    heap_sift_up(
        heap_.data(), i, heap_[i], [this](std::uint8_t a, std::uint8_t b) { return less(a, b); },
        [this](std::uint32_t j, std::uint8_t slot) { place(j, slot); });
  }

  void sift_down(std::uint32_t i) noexcept {
    heap_sift_down(
        heap_.data(), size_, i, heap_[i], [this](std::uint8_t a, std::uint8_t b) { return less(a, b); },
        [this](std::uint32_t j, std::uint8_t slot) { place(j, slot); });
  }

  /// Relaxed: the word is a hint for routers; what they reserve is decided under the lock.
  void publish() noexcept {
    top_.store(size_ == 0 ? top_word::empty : top_word::pack(key_[heap_[0]], member_[heap_[0]]),
               std::memory_order_relaxed);
  }

  // Line 1: read by every router on every decision, written by the holder.
  alignas(cache_line_bytes) std::atomic<std::uint64_t> top_{top_word::empty};
  // Line 2: the lock and the pending mask, taken together by releases.
  alignas(cache_line_bytes) std::atomic<bool> locked_{false};
  std::atomic<std::uint64_t> pending_{0};
  // The rest: only the holder touches it.
  alignas(cache_line_bytes) concurrent_device_load* loads_;
  std::uint32_t size_ = 0;
  std::array<std::uint8_t, capacity> heap_{};  // heap_[i]: the slot at heap position i
  std::array<std::uint8_t, capacity> pos_{};   // pos_[slot]: its heap position, no_pos when outside
  std::array<device_id, capacity> member_{};   // member_[slot]: the device, no_member when free
  std::array<std::uint64_t, capacity> key_{};  // key_[slot]: its reserved work (ns) as the heap knows it
};

}  // namespace joulesched::detail
