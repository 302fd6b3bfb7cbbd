/// @file deadline_queue.hpp
/// @brief Per-device request queues in Earliest-Deadline-First or Least-Laxity-First order, on Boost.Heap,
/// with cancellation by handle. Also the key policies (`edf_key`, `llf_key`) that the intrusive variant shares.
///
/// Use one queue per device, owned by that device's dispatcher, to order requests that wait to be admitted.
/// Do not use it from several threads (it has no lock: hand requests over through an MPSC queue), for requests
/// whose key changes while they wait (the key is computed once, at push), or where a push must not allocate
/// (use intrusive_queue.hpp).
///
/// Design: a mutable min-heap of entries {key, seq, value}; the key policy computes the key once at push and
/// seq (the arrival number) breaks ties, so the order is total and deterministic. The heap is a parameter.
///
/// Cost with the default heap (4-ary, mutable): push, pop and cancel O(log n), top O(1). Each push allocates
/// one node: Boost's mutable d-ary heap keeps the values in a std::list and the heap of iterators in a vector.
///
/// Misuse (see usage_error.hpp). Always on: a NaN key is queued as +infinity with its arrival number (after every
/// finite key; among infinite keys, NaN or a real +infinity, in arrival order, so a NaN key pushed first leaves
/// before a +infinity key pushed later), so it never reaches the top ahead of real deadlines; try_pop() is the pop
/// that an empty queue answers with nothing. Asserted, and in checked mode (JOULESCHED_CHECKED=1) thrown as
/// usage_error: top(), pop() and top_key() on an empty queue, a NaN key, and cancel() of a handle whose request
/// was already popped, cancelled or cleared (checked mode keeps the set of queued arrival numbers for that: one
/// hash-set insert per push). Not detected in either mode: a handle used with another queue.
///
/// @code
/// struct req { double deadline_s; double input_tok; double work_tok; std::uint64_t id; };
/// joulesched::llf_queue<req> q(joulesched::llf_key{2000.0});   // device serves 2000 tokens/s
/// auto h = q.push(req{12.5, 300, 800, 1});
/// q.cancel(h);                                                  // the client went away
/// @endcode
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/heap/d_ary_heap.hpp>

#include "joulesched/clock.hpp"
#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/traits.hpp"
#include "joulesched/usage_error.hpp"

#if JOULESCHED_CHECKED
#include <unordered_set>
#endif

namespace joulesched {

/// @brief A key policy for a queue of T: `k(r)` is the request's key in seconds; the smallest key leaves first.
///
/// Expressions: `k(r)` is noexcept and converts to double. Promises: the key is a pure function of the request
/// (queues compute it once, at push, and cache it) and never NaN (a queue orders a NaN key as +infinity: after
/// every finite key, in arrival order among infinite keys; see detail::queue_key).
template <class K, class T>
concept QueueKey = std::copy_constructible<K> && requires(const K& k, const T& r) {
  { k(r) } noexcept -> std::convertible_to<double>;
};

/// @brief Earliest Deadline First: key = request_traits<T>::deadline_s(r).
struct edf_key {
  /// Effects: reads the deadline. Complexity: O(1). Throws: nothing.
  template <Request T>
  [[nodiscard]] constexpr double operator()(const T& r) const noexcept {
    return static_cast<double>(request_traits<T>::deadline_s(r));
  }
};

/// @brief Least Laxity First, static key: key = deadline_s(r) - work_tok(r) / rate_tok_s.
///
/// Laxity is deadline - now - remaining work / rate. For waiting requests `now` is common to all and the work
/// does not change, so ordering by this key is exact LLF (DESIGN-NOTES, "Queues"); the laxity at time t is
/// key - t, which is what a queue's top_slack_s() returns. Requires RequestWithWork (`work_tok` in tokens).
class llf_key {
 public:
  /// @brief Effects: stores the device's service rate. Complexity: O(1).
  /// @throws config_error naming rate_tok_s unless it is finite and > 0.
  explicit llf_key(double rate_tok_s) : rate_tok_s_(detail::require_positive(rate_tok_s, "llf_key", "rate_tok_s")) {}

  /// The service rate the laxity assumes, tokens per second.
  [[nodiscard]] double rate_tok_s() const noexcept { return rate_tok_s_; }

  /// Effects: computes deadline - work / rate. Complexity: O(1). Throws: nothing.
  template <RequestWithWork T>
  [[nodiscard]] double operator()(const T& r) const noexcept {
    return static_cast<double>(request_traits<T>::deadline_s(r)) -
           static_cast<double>(request_traits<T>::work_tok(r)) / rate_tok_s_;
  }

 private:
  double rate_tok_s_;
};

/// @brief What a deadline_queue's heap holds. Public so that a benchmark can name another heap over it.
template <class T>
struct queue_entry {
  double key;         ///< the key policy's value at push, seconds
  std::uint64_t seq;  ///< arrival number within the queue; breaks ties in key
  T value;            ///< the request (or the engine's handle to it), stored by value
};

/// @brief The heap comparison: true when `a` leaves after `b`, i.e. (a.key, a.seq) > (b.key, b.seq).
///
/// Boost.Heap puts on top the element that compares greatest, so this "after" order (not std::less, which would
/// give a max-heap) puts the smallest key, earliest arrival on top.
struct queue_entry_after {
  template <class T>
  [[nodiscard]] constexpr bool operator()(const queue_entry<T>& a, const queue_entry<T>& b) const noexcept {
    return a.key > b.key || (a.key == b.key && a.seq > b.seq);
  }
};

/// @brief The default heap of deadline_queue: a mutable 4-ary heap of queue_entry<T>, smallest key on top.
/// Another Boost heap fits the same way, e.g.
/// `boost::heap::pairing_heap<queue_entry<T>, boost::heap::compare<queue_entry_after>>`.
template <class T>
using default_deadline_heap =
    boost::heap::d_ary_heap<queue_entry<T>, boost::heap::arity<4>, boost::heap::mutable_<true>,
                            boost::heap::compare<queue_entry_after>>;

namespace detail {
/// A Boost.Heap-like mutable heap of E: push returns a handle, erase takes one.
template <class H, class E>
concept mutable_heap_of =
    std::same_as<typename H::value_type, E> && requires(H& h, const H& ch, const E& e, typename H::handle_type hd) {
      { h.push(e) } -> std::same_as<typename H::handle_type>;
      h.erase(hd);
      h.pop();
      h.clear();
      { ch.top() } -> std::convertible_to<const E&>;
      { ch.size() } -> std::convertible_to<std::size_t>;
      { ch.empty() } -> std::convertible_to<bool>;
    };

/// The key a queue stores for `key`, as `call` computed it: the key itself, or +infinity for NaN (which would
/// otherwise compare false both ways and could sit on top). Checked mode: usage_error for NaN.
[[nodiscard]] inline double queue_key(double key, std::string_view call) noexcept(!checked_mode) {
  if (std::isnan(key)) [[unlikely]] {
    misuse(call, "key", key, "must not be NaN (the request's deadline or work is NaN)");
    return std::numeric_limits<double>::infinity();
  }
  return key;
}
}  // namespace detail

/// @brief A per-device queue of requests, smallest key first, equal keys in arrival order, with cancellation.
///
/// @tparam T    the request, stored by value (a small struct or the engine's pointer-like handle); read through
///              request_traits<T>.
/// @tparam Key  the key policy: edf_key, llf_key, or any QueueKey<T>.
/// @tparam C    the clock top_slack_s() reads; tests pass a manual clock, held inside the queue (see clock()).
/// @tparam Heap a mutable Boost.Heap (or alike) of queue_entry<T> ordered by queue_entry_after.
///
/// Handles stay valid while their request is queued and only then: a handle whose request was popped or
/// cancelled must not be used again, nor with another queue (a copy of the queue included). Thread safety: none.
template <Request T, QueueKey<T> Key, Clock C = steady_clock_s, class Heap = default_deadline_heap<T>>
  requires std::copy_constructible<T>
class deadline_queue {
  static_assert(detail::mutable_heap_of<Heap, queue_entry<T>>,
                "deadline_queue: Heap must be a mutable heap of queue_entry<T> whose push returns a handle "
                "(e.g. boost::heap::d_ary_heap with mutable_<true>, pairing_heap, fibonacci_heap); give it "
                "boost::heap::compare<queue_entry_after> so the smallest key is on top");

 public:
  using value_type = T;
  using key_type = Key;
  using clock_type = C;
  using heap_type = Heap;

  /// What push() returns and cancel() takes: the heap's handle and the request's arrival number.
  /// A default-constructed handle names no request (cancel() of it: checked mode: usage_error).
  class handle_type {
   public:
    handle_type() = default;

   private:
    friend class deadline_queue;
    static constexpr std::uint64_t no_seq = ~std::uint64_t{0};  // never an arrival number (2^64 - 1 pushes)
    handle_type(typename Heap::handle_type h, std::uint64_t seq) : h_(h), seq_(seq) {}
    typename Heap::handle_type h_{};
    std::uint64_t seq_ = no_seq;
  };

  /// @brief Effects: an empty queue with the given key policy and clock. Complexity: O(1).
  /// Throws: what copying Key and C throw (llf_key validates its rate when it is built, not here).
  explicit deadline_queue(Key key = Key(), C clock = C()) : key_(std::move(key)), clock_(std::move(clock)) {}

  /// @brief Effects: computes r's key, queues a copy of r behind every queued request of equal key.
  /// Returns: a handle to pass to cancel() while r is queued.
  /// Complexity: O(log n) with the default heap (that of Heap::push otherwise; O(1) for a pairing heap).
  /// Throws: what allocation or copying T throw; the queue is then unchanged. A NaN key is queued as +infinity
  /// (checked mode: usage_error, nothing queued).
  handle_type push(const T& r) {
    const double key = detail::queue_key(static_cast<double>(key_(r)), "deadline_queue::push");
    const std::uint64_t seq = next_seq_++;  // a number skipped when the push throws is harmless
#if JOULESCHED_CHECKED
    queued_.insert(seq);
    try {
      return handle_type(heap_.push(queue_entry<T>{key, seq, r}), seq);
    } catch (...) {
      queued_.erase(seq);
      throw;
    }
#else
    return handle_type(heap_.push(queue_entry<T>{key, seq, r}), seq);
#endif
  }

  /// @brief The request with the smallest (key, arrival). Precondition: !empty(). Complexity: O(1).
  /// Throws: nothing (checked mode: usage_error when empty).
  [[nodiscard]] const T& top() const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(!empty(), "deadline_queue::top", "size", size(), "must be > 0");
    return heap_.top().value;
  }

  /// @brief Effects: removes the top request and returns it (copied out; T is meant to be small).
  /// Precondition: !empty(). Complexity: O(log n) with the default heap (that of Heap::pop otherwise).
  /// Throws: only what copying T throws, and then the queue is unchanged (checked mode: usage_error when empty).
  T pop() noexcept(std::is_nothrow_copy_constructible_v<T> && !checked_mode) {
    JOULESCHED_EXPECTS(!empty(), "deadline_queue::pop", "size", size(), "must be > 0");
    T r = heap_.top().value;
#if JOULESCHED_CHECKED
    queued_.erase(heap_.top().seq);
#endif
    heap_.pop();
    return r;
  }

  /// @brief As pop(), but an empty queue returns nothing instead of being a precondition violation.
  std::optional<T> try_pop() noexcept(std::is_nothrow_copy_constructible_v<T>) {
    if (empty()) return std::nullopt;
    return pop();
  }

  /// @brief Effects: removes the request of handle h; the order of the others is unchanged.
  /// Precondition: h came from push() on this queue and its request is still queued (checked mode: usage_error
  /// when h is default-constructed or its request was popped, cancelled or cleared). Complexity: O(log n) with the
  /// default heap (that of Heap::erase otherwise). Throws: nothing (checked mode: usage_error).
  void cancel(handle_type h) JOULESCHED_HOT_NOEXCEPT {
#if JOULESCHED_CHECKED
    if (h.seq_ == handle_type::no_seq)
      detail::usage_failure("deadline_queue::cancel", "handle", "default-constructed",
                            "must come from push() on this queue");
    if (queued_.erase(h.seq_) == 0)
      detail::usage_failure("deadline_queue::cancel", "handle of arrival number", h.seq_,
                            "its request is no longer queued (popped, cancelled or cleared)");
#endif
    JOULESCHED_EXPECTS(!empty(), "deadline_queue::cancel", "size", size(), "must be > 0 (the handle is not queued)");
    heap_.erase(h.h_);
  }

  /// @brief Effects: removes every request; every handle becomes invalid. Complexity: O(n). Throws: nothing.
  void clear() noexcept {
    heap_.clear();
#if JOULESCHED_CHECKED
    queued_.clear();
#endif
  }

  /// Number of queued requests. Complexity: O(1). Throws: nothing.
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(heap_.size()); }

  /// True when no request is queued. Complexity: O(1). Throws: nothing.
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }

  /// @brief The top request's key, cached at push: its deadline (EDF) or deadline - work / rate (LLF), seconds.
  /// Precondition: !empty(). Complexity: O(1). Throws: nothing (checked mode: usage_error when empty).
  [[nodiscard]] double top_key() const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(!empty(), "deadline_queue::top_key", "size", size(), "must be > 0");
    return heap_.top().key;
  }

  /// @brief top_key() - clock().now_s(): the top's slack (EDF) or laxity (LLF) now, seconds; negative when it
  /// is already late. Precondition: !empty(). Complexity: O(1) plus one clock read. Throws: nothing (checked
  /// mode: usage_error when empty).
  [[nodiscard]] double top_slack_s() const JOULESCHED_HOT_NOEXCEPT {
    return top_key() - static_cast<double>(clock_.now_s());
  }

  /// The clock the queue reads; a test advances a manual clock through it. Complexity: O(1).
  [[nodiscard]] C& clock() noexcept { return clock_; }
  [[nodiscard]] const C& clock() const noexcept { return clock_; }

  /// The key policy (e.g. to read an llf_key's rate_tok_s()). Complexity: O(1).
  [[nodiscard]] const Key& key_policy() const noexcept { return key_; }

 private:
  Heap heap_;
  [[no_unique_address]] Key key_;
  [[no_unique_address]] C clock_;
  std::uint64_t next_seq_ = 0;
#if JOULESCHED_CHECKED
  std::unordered_set<std::uint64_t> queued_;  // arrival numbers of the queued requests (checked mode only)
#endif
};

/// @brief EDF queue on the default heap: smallest deadline first.
template <class T, Clock C = steady_clock_s>
using edf_queue = deadline_queue<T, edf_key, C>;

/// @brief LLF queue on the default heap: smallest deadline - work / rate first. Build with an llf_key:
/// `llf_queue<req> q(llf_key{rate_tok_s})`.
template <class T, Clock C = steady_clock_s>
using llf_queue = deadline_queue<T, llf_key, C>;

}  // namespace joulesched
