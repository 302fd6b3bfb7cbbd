/// @file intrusive_queue.hpp
/// @brief Per-device EDF / LLF request queues that link the engine's own request objects: no allocation, and
/// cancellation from a pointer to the request.
///
/// Use it when the engine already owns each request object at a stable address (a slab, a pool, a node it
/// keeps for the request's life) and a push must not allocate, or when cancellation arrives with the request
/// itself rather than a handle. Do not use it when requests are values that move around (use
/// deadline_queue.hpp), or from several threads (no lock).
///
/// Design: the request embeds a `queue_hook` (a Boost.Intrusive set hook plus the key and arrival number cached
/// at push); the queue is a boost::intrusive::multiset (red-black tree) ordered by (key, seq) over that hook.
///
/// Cost: push O(log n); top O(1); pop and cancel amortised O(1) (Boost.Intrusive's erase by iterator, O(log n)
/// worst case); size O(1); no allocation anywhere. The hook adds 48 bytes to the request on 64-bit targets (a
/// red-black node of three pointers and a colour, plus the cached key and seq).
///
/// Lifetime rules (the hook is in safe-link mode, chosen on purpose, see queue_hook):
/// - a pushed request stays where it is and alive until it leaves the queue (pop, cancel, clear, or the queue's
///   destruction); destroying a queued request is a bug the queue cannot repair, so the hook's destructor then
///   ends the program (std::terminate, with a message on stderr) rather than leave a dangling node in the tree;
///   moving or copying a queued request leaves it queued, unchanged (the copy or moved-to object starts
///   unlinked; assigning to a queued request keeps its hook and its cached key);
/// - destroying or clearing the queue unlinks every request still in it (O(n)); they may then be pushed again;
/// - a request is in at most one queue per hook at a time: push() refuses a queued request (returns nullptr).
///   Embed two hooks to let a request sit in two queues;
/// - the key is cached at push: changing the request's deadline while queued does not move it (cancel, change,
///   push again).
///
/// Misuse (see usage_error.hpp). Always on, each one compare on a line the call touches anyway: push() of a
/// queued request returns nullptr and changes nothing; cancel() of a request that is not queued (popped,
/// cancelled, never pushed, or nullptr) returns false and changes nothing; a NaN key is queued as +infinity
/// (after every finite key; among infinite keys, NaN or +infinity, in arrival order); try_pop() returns nullptr on an
/// empty queue. Asserted, and in checked mode (JOULESCHED_CHECKED=1) thrown as usage_error: each of those, top(), pop()
/// and top_key() on an empty queue, and cancel() of a request queued in another queue (checked mode finds a request's
/// queue in O(log n)).
///
/// @code
/// struct req {
///   double deadline_s, input_tok, work_tok;
///   joulesched::queue_hook hook;
/// };
/// joulesched::intrusive_llf_queue<req, &req::hook> q(joulesched::llf_key{2000.0});
/// req r{12.5, 300, 800, {}};
/// q.push(r);
/// q.cancel(&r);          // O(1), from the object itself
/// @endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <utility>

#include <boost/intrusive/options.hpp>
#include <boost/intrusive/parent_from_member.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/intrusive/set_hook.hpp>

#include "joulesched/clock.hpp"
#include "joulesched/concepts.hpp"
#include "joulesched/queues/deadline_queue.hpp"  // edf_key, llf_key, QueueKey, detail::queue_key
#include "joulesched/usage_error.hpp"

namespace joulesched {

class queue_hook;

namespace detail {
template <class T, queue_hook T::*Hook>
struct queue_hook_access;
}  // namespace detail

/// @brief The member a request embeds to be queued in an intrusive_deadline_queue.
///
/// It holds a Boost.Intrusive set member hook in safe-link mode and the (key, arrival number) the queue caches at
/// push, so that comparisons never recompute the key (no LLF division per comparison). Safe-link rather than
/// auto-unlink: auto-unlink would force the tree to count its size in O(n), and would silently drop a request
/// destroyed while queued, hiding a dispatcher bug; safe-link keeps size() O(1), marks a request unlinked when it
/// leaves a queue (is_queued()), which lets push() refuse a queued request and the destructor catch a queued one.
/// Copying a request gives the copy an unlinked hook: membership is never copied, and assigning to a request
/// leaves its hook (membership and cached key) as it was.
class queue_hook {
 public:
  queue_hook() noexcept = default;
  /// An unlinked hook: membership and the cached key are never copied.
  queue_hook(const queue_hook&) noexcept {}
  /// Leaves this hook as it was: a queued request stays queued at its place, under its key.
  queue_hook& operator=(const queue_hook&) noexcept { return *this; }

  /// Ends the program when the request is still queued (its node would dangle in the queue's tree, and the next
  /// walk of the tree would read freed memory or never end). Throws: nothing.
  ~queue_hook() {
    if (is_queued()) [[unlikely]] {
      std::fputs(
          "joulesched: a request was destroyed while queued in an intrusive_deadline_queue; pop or cancel "
          "it first\n",
          stderr);
      std::terminate();
    }
  }

  /// True while the request is in a queue through this hook. Complexity: O(1). Throws: nothing.
  [[nodiscard]] bool is_queued() const noexcept { return link_.is_linked(); }

 private:
  template <class T, queue_hook T::*Hook>
  friend struct detail::queue_hook_access;

  using link_type = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>>;

  link_type link_;
  double key_ = 0.0;
  std::uint64_t seq_ = 0;
};

namespace detail {

/// The function_hook of Boost.Intrusive: maps a request to the set hook nested in its queue_hook and back
/// (the hook is a member of a member, so the plain member_hook option cannot name it), and orders requests by
/// their cached (key, seq). The hook must not live in a virtual base of T.
template <class T, queue_hook T::*Hook>
struct queue_hook_access {
  using hook_type = queue_hook::link_type;
  using hook_ptr = hook_type*;
  using const_hook_ptr = const hook_type*;
  using value_type = T;
  using pointer = T*;
  using const_pointer = const T*;

  static hook_ptr to_hook_ptr(T& v) noexcept { return &(v.*Hook).link_; }
  static const_hook_ptr to_hook_ptr(const T& v) noexcept { return &(v.*Hook).link_; }
  static pointer to_value_ptr(hook_ptr n) noexcept {
    return boost::intrusive::get_parent_from_member(boost::intrusive::get_parent_from_member(n, &queue_hook::link_),
                                                    Hook);
  }
  static const_pointer to_value_ptr(const_hook_ptr n) noexcept {
    return boost::intrusive::get_parent_from_member(boost::intrusive::get_parent_from_member(n, &queue_hook::link_),
                                                    Hook);
  }

  static void stamp(T& v, double key, std::uint64_t seq) noexcept {
    (v.*Hook).key_ = key;
    (v.*Hook).seq_ = seq;
  }
  static double key(const T& v) noexcept { return (v.*Hook).key_; }

  /// (a.key, a.seq) < (b.key, b.seq): the tree's first element leaves first.
  struct before {
    bool operator()(const T& a, const T& b) const noexcept {
      const queue_hook& x = a.*Hook;
      const queue_hook& y = b.*Hook;
      return x.key_ < y.key_ || (x.key_ == y.key_ && x.seq_ < y.seq_);
    }
  };
};

}  // namespace detail

/// @brief A per-device queue that links the engine's request objects, smallest key first, equal keys in arrival
/// order; handles are pointers to the requests. See the file comment for the lifetime rules.
///
/// @tparam T    the engine's request type, read through request_traits<T>; it embeds a queue_hook.
/// @tparam Hook the member that holds the hook, e.g. `&req::hook`.
/// @tparam Key  the key policy: edf_key, llf_key, or any QueueKey<T>.
/// @tparam C    the clock top_slack_s() reads, held inside the queue (see clock()).
///
/// Movable, not copyable. Thread safety: none.
template <Request T, queue_hook T::*Hook, QueueKey<T> Key, Clock C = steady_clock_s>
class intrusive_deadline_queue {
  using access = detail::queue_hook_access<T, Hook>;
  using set_type = boost::intrusive::multiset<T, boost::intrusive::function_hook<access>,
                                              boost::intrusive::compare<typename access::before>,
                                              boost::intrusive::constant_time_size<true>>;

 public:
  using value_type = T;
  using key_type = Key;
  using clock_type = C;
  using handle_type = T*;

  /// @brief Effects: an empty queue with the given key policy and clock. Complexity: O(1).
  /// Throws: what copying Key and C throw.
  explicit intrusive_deadline_queue(Key key = Key(), C clock = C()) : key_(std::move(key)), clock_(std::move(clock)) {}

  intrusive_deadline_queue(const intrusive_deadline_queue&) = delete;
  intrusive_deadline_queue& operator=(const intrusive_deadline_queue&) = delete;
  /// Effects: takes over the queued requests; `other` is left empty. Complexity: O(1).
  // Boost.Intrusive's move (a swap of pointers) does not throw but is not declared noexcept.
  intrusive_deadline_queue(intrusive_deadline_queue&& other) = default;  // NOLINT(*-noexcept-move-constructor)
  /// Not assignable: Boost.Intrusive's move assignment swaps, which would leave requests in the source.
  intrusive_deadline_queue& operator=(intrusive_deadline_queue&&) = delete;

  /// @brief Effects: unlinks every request still queued (their hooks read !is_queued()). Complexity: O(n).
  ~intrusive_deadline_queue() = default;

  /// @brief Effects: computes r's key, caches it in r's hook and links r itself behind every queued request of
  /// equal key; a NaN key is queued as +infinity.
  /// Returns: &r, the handle for cancel(); nullptr, changing nothing, when r is already queued through this hook
  /// (here or in another queue; checked mode: usage_error, as for a NaN key).
  /// Precondition: r stays alive and in place until it leaves the queue. Complexity: O(log n).
  /// Throws: nothing (checked mode: usage_error); never allocates.
  handle_type push(T& r) JOULESCHED_HOT_NOEXCEPT {
    if ((r.*Hook).is_queued()) [[unlikely]] {
      detail::misuse("intrusive_deadline_queue::push", "request", static_cast<const void*>(&r),
                     "is already queued (pushed twice?)");
      return nullptr;
    }
    const double key = detail::queue_key(static_cast<double>(key_(r)), "intrusive_deadline_queue::push");
    access::stamp(r, key, next_seq_++);
    set_.insert(r);
    return &r;
  }

  /// @brief The request with the smallest (key, arrival). Precondition: !empty(). Complexity: O(1).
  /// Throws: nothing (checked mode: usage_error when empty).
  [[nodiscard]] const T& top() const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(!empty(), "intrusive_deadline_queue::top", "size", size(), "must be > 0");
    return *set_.begin();
  }

  /// @brief Effects: unlinks the top request and returns it (the object itself, now owned by the caller alone).
  /// Precondition: !empty(). Complexity: amortised O(1), O(log n) worst case. Throws: nothing (checked mode:
  /// usage_error when empty).
  T& pop() JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(!empty(), "intrusive_deadline_queue::pop", "size", size(), "must be > 0");
    T& r = *set_.begin();
    set_.erase(set_.begin());
    return r;
  }

  /// @brief As pop(), but returns nullptr on an empty queue. Throws: nothing.
  T* try_pop() noexcept { return empty() ? nullptr : &pop(); }

  /// @brief Effects: unlinks *h; the order of the others is unchanged.
  /// Returns: true; false, changing nothing, when h is nullptr or *h is not queued (popped or cancelled already,
  /// never pushed; checked mode: usage_error). Precondition (checked mode: usage_error): *h is not queued in
  /// another queue. Complexity: amortised O(1), O(log n) worst case (checked mode: O(log n)).
  /// Throws: nothing (checked mode: usage_error); never allocates.
  bool cancel(handle_type h) JOULESCHED_HOT_NOEXCEPT {
    if (h == nullptr || !(h->*Hook).is_queued()) [[unlikely]] {
      detail::misuse("intrusive_deadline_queue::cancel", "request", static_cast<const void*>(h),
                     "is not queued (popped or cancelled already?)");
      return false;
    }
    JOULESCHED_EXPECTS(&set_type::container_from_iterator(set_.iterator_to(*h)) == &set_,
                       "intrusive_deadline_queue::cancel", "request", static_cast<const void*>(h),
                       "is queued in another queue");
    set_.erase(set_.iterator_to(*h));
    return true;
  }

  /// @brief Effects: unlinks every request. Complexity: O(n). Throws: nothing.
  void clear() noexcept { set_.clear(); }

  /// Number of queued requests. Complexity: O(1). Throws: nothing.
  [[nodiscard]] std::size_t size() const noexcept { return set_.size(); }

  /// True when no request is queued. Complexity: O(1). Throws: nothing.
  [[nodiscard]] bool empty() const noexcept { return set_.empty(); }

  /// @brief The top request's key, cached at push: its deadline (EDF) or deadline - work / rate (LLF), seconds.
  /// Precondition: !empty(). Complexity: O(1). Throws: nothing (checked mode: usage_error when empty).
  [[nodiscard]] double top_key() const JOULESCHED_HOT_NOEXCEPT { return access::key(top()); }

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
  set_type set_;
  [[no_unique_address]] Key key_;
  [[no_unique_address]] C clock_;
  std::uint64_t next_seq_ = 0;
};

/// @brief Intrusive EDF queue: smallest deadline first.
template <class T, queue_hook T::*Hook, Clock C = steady_clock_s>
using intrusive_edf_queue = intrusive_deadline_queue<T, Hook, edf_key, C>;

/// @brief Intrusive LLF queue: smallest deadline - work / rate first. Build with an llf_key.
template <class T, queue_hook T::*Hook, Clock C = steady_clock_s>
using intrusive_llf_queue = intrusive_deadline_queue<T, Hook, llf_key, C>;

}  // namespace joulesched
