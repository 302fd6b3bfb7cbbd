/// @file dary_heap.hpp
/// @brief The sifts of the library's indexed 4-ary min-heaps: the fleet's class heaps, a concurrent shard's heap
/// and the simulator's event heap.
///
/// Each of those keeps its entries in an array and, beside it, where each entry sits; `place(i, e)` writes entry
/// `e` to slot `i` and records that slot, `less(a, b)` orders two entries. A sift moves `e`, bound for slot `i`,
/// to where it belongs, placing every entry it passes. No allocation; O(log_4 n) comparisons up, 4 per level down.
#pragma once

#include <algorithm>
#include <cstdint>

namespace joulesched::detail {

inline constexpr std::uint32_t heap_arity = 4;

/// @brief Moves `e`, bound for slot `i` of heap `h`, up past every parent it precedes.
template <class Entry, class Less, class Place>
void heap_sift_up(const Entry* h, std::uint32_t i, Entry e, Less less, Place place) noexcept {
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / heap_arity;
    if (!less(e, h[parent])) break;
    place(i, h[parent]);
    i = parent;
  }
  place(i, e);
}

/// @brief Moves `e`, bound for slot `i` of heap `h` of `n` entries, down past every child that precedes it.
template <class Entry, class Less, class Place>
void heap_sift_down(const Entry* h, std::uint32_t n, std::uint32_t i, Entry e, Less less, Place place) noexcept {
  for (;;) {
    const std::uint32_t first = i * heap_arity + 1;
    if (first >= n) break;
    const std::uint32_t end = std::min(first + heap_arity, n);
    std::uint32_t best = first;
    for (std::uint32_t k = first + 1; k < end; ++k)
      if (less(h[k], h[best])) best = k;
    if (!less(h[best], e)) break;
    place(i, h[best]);
    i = best;
  }
  place(i, e);
}

}  // namespace joulesched::detail
