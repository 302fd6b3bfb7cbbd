/// @file alloc_count.hpp
/// @brief Counts the heap allocations a benchmark program makes, by replacing the global operator new.
///
/// Use it to show that a path does not allocate: read allocation_count() before and after the timed loop and
/// report the difference per operation. Include this header in exactly ONE translation unit of a program: it
/// defines (does not declare) the replaceable global allocation functions ([replacement.functions]), which may
/// be defined once per program and may not be inline. Every form of operator new and delete is replaced, so
/// allocations through the array, nothrow and over-aligned forms are counted too and pair with the right
/// deallocation. Cost: one relaxed atomic increment per allocation (nothing per deallocation but free()).
///
/// The compiler may elide a new/delete pair it can see through ([expr.new]); allocation_self_check() makes an
/// allocation it cannot elide, so a program can prove the counter is live before trusting a zero.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace joulesched::bench {

namespace detail {
inline std::atomic<std::uint64_t> allocations{0};

// Out of line on purpose: with the replacements inlined into their callers, GCC 12 pairs a `new` it sees with
// the free() inside an inlined `delete` and warns (-Wmismatched-new-delete), although they do match.
[[gnu::noinline]] inline void* counted_alloc(std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}

[[gnu::noinline]] inline void* counted_aligned_alloc(std::size_t n, std::align_val_t al) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t size = n == 0 ? a : (n + a - 1) / a * a;
  return std::aligned_alloc(a, size);
}
[[gnu::noinline]] inline void counted_free(void* p) noexcept { std::free(p); }
}  // namespace detail

/// Allocations made through any global operator new since the program started. Thread-safe.
[[nodiscard]] inline std::uint64_t allocation_count() noexcept {
  return detail::allocations.load(std::memory_order_relaxed);
}

/// True when the counter sees an allocation that the optimiser cannot remove.
[[nodiscard]] inline bool allocation_self_check() {
  const std::uint64_t before = allocation_count();
  // volatile size and pointer: the allocation's size and use are opaque, so it cannot be elided.
  volatile std::size_t n = 24;
  int* volatile p = new int[n];
  p[0] = 1;
  delete[] p;
  return allocation_count() - before == 1;
}

}  // namespace joulesched::bench

// The replacements (one definition per program; see the file comment).
void* operator new(std::size_t n) {
  if (void* p = joulesched::bench::detail::counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = joulesched::bench::detail::counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return joulesched::bench::detail::counted_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return joulesched::bench::detail::counted_alloc(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = joulesched::bench::detail::counted_aligned_alloc(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
  if (void* p = joulesched::bench::detail::counted_aligned_alloc(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return joulesched::bench::detail::counted_aligned_alloc(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return joulesched::bench::detail::counted_aligned_alloc(n, al);
}
void operator delete(void* p) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete[](void* p) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { joulesched::bench::detail::counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  joulesched::bench::detail::counted_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  joulesched::bench::detail::counted_free(p);
}
