/// @file handoff.hpp
/// @brief The hand-off from routers to a device's dispatcher: a bounded, intrusive, multi-producer
/// single-consumer queue (Vyukov's MPSC queue) whose link lives in the request.
///
/// Use one per device: router threads push the requests they routed to the device; the device's dispatcher,
/// the only consumer, drains them into its own EDF/LLF queue (deadline_queue.hpp or intrusive_queue.hpp), which
/// therefore needs no lock. Do not use it with several consumers, for requests that move or die while queued,
/// or to push a request that is already queued.
///
/// Design: producers link a request with one atomic exchange and one store (wait-free); the consumer follows
/// the links (Vyukov's intrusive MPSC). A capacity set at construction bounds how many requests may wait:
/// push() reserves a place with a compare-and-swap on a counter and returns false when the queue is full.
/// It never blocks and never drops silently: the caller keeps the request and decides (typically: release the
/// router's reservation and route again, or refuse the request upstream).
///
/// Why this and not boost::lockfree::queue: that queue is multi-consumer (producers retry a CAS loop on the
/// shared tail), copies trivially copyable values in and out through a free list of nodes, and Boost 1.74's
/// (Debian 12) trips ThreadSanitizer in that free list's tagged pointers: 6 race reports in a 2-producer,
/// 1-consumer run of bounded_push/pop here (also boostorg/lockfree issue #78), which would bury real reports in
/// our TSan runs. Here there is one consumer by design, the request object already exists, producers never
/// retry, and every cross-thread access is an acquire/release atomic, so the stress tests run clean under TSan.
/// The price: requests must stay put while queued, and the consumer can briefly see the queue empty while a
/// producer is between its exchange and its link (pop() then returns nullptr and the request appears a few
/// instructions later; call again).
///
/// Cost: push O(1): one CAS on the counter, one exchange, one store; pop O(1) amortised. No allocation after
/// construction (none at all, in fact: the queue holds only its stub link).
///
/// @code
/// struct req { std::uint64_t id; double deadline_s; double input_tok; joulesched::assignment a;
///              joulesched::handoff_hook hook; };
/// joulesched::handoff_queue<req, &req::hook> inbox(1024);          // one per device
/// // router thread:
/// if (!inbox.push(r)) { fleet.release(r.a); /* full: route again or push back upstream */ }
/// // the device's dispatcher:
/// inbox.drain([&](req& r) { edf.push(r); });                      // joulesched::edf_queue<req> edf;
/// @endcode
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <string>

#include "joulesched/error.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

class handoff_hook;

template <class T, handoff_hook T::*Hook>
class handoff_queue;

/// @brief The link a request embeds to travel through a handoff_queue.
///
/// Copying or assigning a request does not copy its link: the copy starts unlinked (so a request that holds a
/// hook stays copyable, e.g. into a deadline_queue). A request is in at most one hand-off at a time per hook.
class handoff_hook {
 public:
  handoff_hook() noexcept = default;
  handoff_hook(const handoff_hook&) noexcept {}
  handoff_hook& operator=(const handoff_hook&) noexcept { return *this; }  // NOLINT(*-self-assignment): copies nothing
  ~handoff_hook() = default;

 private:
  template <class T, handoff_hook T::*Hook>
  friend class handoff_queue;
  std::atomic<handoff_hook*> next_{nullptr};
  // The request, set at push (portable, unlike computing it from the member offset) and reset to nullptr when
  // the consumer pops it: non-null exactly while the request is queued, which is how push() refuses a double push.
  void* owner_ = nullptr;
};

/// @brief A bounded MPSC hand-off of T objects linked through their handoff_hook member `Hook`:
/// `handoff_queue<req, &req::hook> inbox(capacity);`
///
/// Thread safety: push() from any number of threads; pop() and drain() from one consumer thread at a time;
/// size_approx() and capacity() from any thread.
template <class T, handoff_hook T::*Hook>
class handoff_queue {
 public:
  /// @brief Effects: an empty queue that holds at most `capacity` requests. Complexity: O(1).
  /// @throws config_error when capacity is 0.
  explicit handoff_queue(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) detail::fail("handoff_queue", "capacity", capacity, "must be >= 1");
  }
  handoff_queue(const handoff_queue&) = delete;
  handoff_queue& operator=(const handoff_queue&) = delete;
  /// Precondition: empty (the requests still queued are simply forgotten; they are the caller's).
  ~handoff_queue() = default;

  /// @brief Effects: queues r behind every request pushed before it, unless the queue is full.
  /// Returns: true when r was queued; false when `capacity()` requests are waiting, or when r is already queued
  /// through this hook (here or in another hand-off, pushed and not yet popped), and then r and the queue are
  /// untouched (always on; checked mode: usage_error for the latter).
  /// Preconditions: r stays alive and in place until the consumer pops it; no other thread pushes r at the same
  /// time (the already-queued test reads r's hook without synchronisation: it catches a sequential double push,
  /// not a race between two producers pushing the same request).
  /// Complexity: O(1): a CAS loop on the size (retried only while other pushes or pops change it), one
  /// exchange and one store. Throws: nothing (checked mode: usage_error). Never blocks.
  [[nodiscard]] bool push(T& r) JOULESCHED_HOT_NOEXCEPT {
    handoff_hook& h = r.*Hook;
    if (h.owner_ != nullptr) [[unlikely]] {
      detail::misuse("handoff_queue::push", "request", static_cast<const void*>(&r),
                     "is already queued (pushed and not yet popped)");
      return false;
    }
    std::size_t n = size_.load(std::memory_order_relaxed);
    do {
      if (n >= capacity_) return false;
    } while (!size_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed, std::memory_order_relaxed));
    h.owner_ = &r;
    link(h);
    return true;
  }

  /// @brief (consumer) Effects: takes the oldest request out of the queue.
  /// Returns: it, or nullptr when the queue is empty or a producer has not finished linking the next request
  /// (try again later). Once returned, the queue never touches the request again: it may be pushed again.
  /// Complexity: O(1). Throws: nothing.
  [[nodiscard]] T* pop() noexcept {
    handoff_hook* tail = tail_;
    handoff_hook* next = tail->next_.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next_.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return taken(tail);
    }
    // tail is the last linked request. If a producer has swung head_ past it but not linked yet, wait for it.
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;
    // Put the stub behind tail, so that tail can leave while the queue keeps a node.
    stub_.next_.store(nullptr, std::memory_order_relaxed);
    link(stub_);
    next = tail->next_.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return taken(tail);
    }
    return nullptr;
  }

  /// @brief (consumer) Pops requests and calls f(T&) on each, until pop() returns nullptr.
  /// Returns: how many were handed to f. Complexity: O(k) for k requests. Throws: what f throws (the request
  /// being handled has left the queue).
  template <class F>
  std::size_t drain(F&& f) {
    std::size_t n = 0;
    while (T* r = pop()) {
      ++n;
      f(*r);
    }
    return n;
  }

  /// Requests pushed and not yet popped (including pushes in progress). Exact only when nothing runs.
  [[nodiscard]] std::size_t size_approx() const noexcept { return size_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  /// Vyukov's push: swing head_ to h, then link the previous head to h. release on both publishes h's fields.
  void link(handoff_hook& h) noexcept {
    h.next_.store(nullptr, std::memory_order_relaxed);
    handoff_hook* prev = head_.exchange(&h, std::memory_order_acq_rel);
    prev->next_.store(&h, std::memory_order_release);
  }

  T* taken(handoff_hook* h) noexcept {
    assert(h != &stub_);
    size_.fetch_sub(1, std::memory_order_relaxed);
    T* r = static_cast<T*>(h->owner_);
    h->owner_ = nullptr;  // no longer queued: it may be pushed again
    return r;
  }

  // 64: a cache line on x86-64 and most AArch64 cores, so producers and the consumer do not share lines.
  alignas(64) std::atomic<handoff_hook*> head_{&stub_};  // producers: the last linked node
  alignas(64) std::atomic<std::size_t> size_{0};         // producers and consumer
  alignas(64) handoff_hook* tail_ = &stub_;              // consumer: the oldest node
  handoff_hook stub_;
  std::size_t capacity_;
};

}  // namespace joulesched
