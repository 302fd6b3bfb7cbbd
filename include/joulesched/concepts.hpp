/// @file concepts.hpp
/// @brief The concepts an engine's types and joulesched's policies satisfy. Each names the expressions that
/// must compile; its comment states the promises the compiler cannot check.
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <type_traits>

#include "joulesched/traits.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

/// @brief A device an engine routes to, read through device_traits<D>.
///
/// Expressions: `device_traits<D>::rate_tok_s(d)` and `device_traits<D>::energy_j_per_tok(d)` convert to
/// double. Everything else a specialisation may provide (`site(d)`, `profile(d)`, the prefill and batching
/// fields) is optional: params_of reads it only when present. Promises: rate in tokens/s, finite and > 0; energy
/// in joules per token, finite and >= 0 (fleet checks both at construction and names the device that breaks them).
template <class D>
concept Device = requires(const D& d) {
  { device_traits<D>::rate_tok_s(d) } -> std::convertible_to<double>;
  { device_traits<D>::energy_j_per_tok(d) } -> std::convertible_to<double>;
};

/// @brief A request, read through request_traits<R>.
///
/// Expressions: `request_traits<R>::input_tok(r)` and `request_traits<R>::deadline_s(r)` convert to double;
/// the rest (`declared_tier(r)`, the TTFT deadline, pacing target and SLO class) is optional: make_request_view
/// reads it only when present. Promises: tokens finite and >= 0; deadline finite, absolute, in seconds on the
/// caller's clock. A deadline in the past is legal: the request simply has negative slack.
template <class R>
concept Request = requires(const R& r) {
  { request_traits<R>::input_tok(r) } -> std::convertible_to<double>;
  { request_traits<R>::deadline_s(r) } -> std::convertible_to<double>;
};

/// @brief A request whose true output length is known (simulators, oracle estimator).
template <class R>
concept RequestWithTruth = Request<R> && requires(const R& r) {
  { request_traits<R>::output_tok(r) } -> std::convertible_to<double>;
};

/// @brief A request that carries its estimated remaining work (needed by Least-Laxity-First queues).
template <class R>
concept RequestWithWork = Request<R> && requires(const R& r) {
  { request_traits<R>::work_tok(r) } -> std::convertible_to<double>;
};

namespace detail {
template <bool>
struct bool_constant_check {};
}  // namespace detail

/// @brief The cost of sending a request to a device: smaller is better.
///
/// Expressions: `c(params, load, view)` is noexcept and converts to double; `C::monotone_in_load` is a
/// constant expression of type bool. Promises: the cost is a pure function of its arguments (no hidden state
/// that changes between calls of one decision); if `monotone_in_load` is true, then for two devices with equal
/// params the one with less reserved work (device_load::reserved_ns) never costs more, and the cost reads
/// nothing else of the load.
/// Routers use that promise to take the exact class-indexed path; a false promise gives wrong answers.
/// Thread safety: const calls may run concurrently.
template <class C>
concept CostModel = std::copy_constructible<C> &&
                    requires(const C& c, const device_params& d, const device_load& l, const request_view& r) {
                      { c(d, l, r) } noexcept -> std::convertible_to<double>;
                      { C::monotone_in_load } -> std::convertible_to<bool>;
                      typename detail::bool_constant_check<C::monotone_in_load>;
                    };

/// @brief A CostModel that also bounds its cost from below without reading the load, in an order that is the
/// same for every request.
///
/// Expressions: `c.floor(params, view)` and `c.floor_key(params)` are noexcept and convert to double.
/// Promises, for every device params d, load l and request v:
/// - `floor(d, v) <= c(d, l, v)` as computed, in floating point;
/// - `floor_key` reads only the params (not the cost's run-time state), and `floor_key(a) <= floor_key(b)`
///   implies `floor(a, v) <= floor(b, v)`. A cost whose floors follow run-time state (e.g. carbon_cost, an
///   hourly grid intensity) also has `floor_epoch()` (noexcept, std::uint64_t), which changes whenever its floor
///   keys may have changed; floor_key may then read that state, and argmin_router re-orders its classes when it
///   sees a new epoch.
/// The class-indexed argmin_router visits classes in floor_key order and stops at the first class whose floor
/// exceeds the best cost found, since no later class can win: still exact, and fewer cost evaluations when
/// cheap classes win. weighted_cost provides both when one of its terms has a floor and every other term is
/// non-negative (e.g. joulesched_cost: the energy term, plus a penalty >= 0). A false promise gives wrong
/// answers.
template <class C>
concept FlooredCostModel = CostModel<C> && requires(const C& c, const device_params& d, const request_view& r) {
  { c.floor(d, r) } noexcept -> std::convertible_to<double>;
  { c.floor_key(d) } noexcept -> std::convertible_to<double>;
};

/// @brief A routing policy: picks a device for a request and reserves the request's work on it.
///
/// Expressions: `r.route(view)` returns std::optional<assignment> (empty when no device is available);
/// `r.release(a)` gives back the work of an earlier assignment. Promises: route never returns a drained
/// device, never throws and never allocates (under JOULESCHED_CHECKED=1, misuse throws usage_error: see
/// usage_error.hpp); release is called exactly once per assignment. Thread safety:
/// none unless the router says so (see routing/concurrent_router.hpp).
template <class R>
concept Router = requires(R& r, const request_view& v, const assignment& a) {
  { r.route(v) } -> std::same_as<std::optional<assignment>>;
  r.release(a);
};

class fleet;

/// @brief A Router over one `fleet` that it names: what routers sharing a fleet need (tiered_router checks that
/// its two routers share one). Expressions: `r.state()` is the fleet, mutable through a mutable router only.
template <class R>
concept FleetRouter = Router<R> && requires(R& r, const R& cr) {
  { r.state() } -> std::same_as<fleet&>;
  { cr.state() } -> std::same_as<const fleet&>;
};

/// @brief A per-device queue that orders waiting requests (EDF, LLF).
///
/// Expressions: push returns a handle; top, pop, cancel(handle), size, empty. Promises: pop returns requests in
/// key order, equal keys in arrival order; cancel of a queued handle removes exactly that request. Complexity
/// is stated by each queue. Thread safety: none (one owner, the device's dispatcher).
template <class Q>
concept RequestQueue = requires(Q& q, const Q& cq, typename Q::value_type v, typename Q::handle_type h) {
  typename Q::value_type;
  typename Q::handle_type;
  { q.push(v) } -> std::same_as<typename Q::handle_type>;
  { cq.top() } -> std::convertible_to<const typename Q::value_type&>;
  q.pop();
  q.cancel(h);
  { cq.size() } -> std::convertible_to<std::size_t>;
  { cq.empty() } -> std::convertible_to<bool>;
};

/// @brief Sorts a request into a tier. Promise: a pure function of the view (and of the request, if given).
template <class T>
concept TierClassifier = requires(const T& t, const request_view& v) {
  { t(v) } -> std::same_as<tier>;
};

/// @brief Estimates a request's output tokens before it runs, and learns from what it sees afterwards.
///
/// Expressions: `e.estimate(r, c)` converts to double (tokens, finite, >= 0); `e.observe(c, actual_tok)`, where
/// `c` is the request's SLO class (slo_class_id): estimators that learn keep their state per class.
/// Promises: estimate is cheap and does not allocate. Thread safety: none.
template <class E, class R>
concept LengthEstimator = Request<R> && requires(E& e, const E& ce, const R& r, slo_class_id c, double actual_tok) {
  { ce.estimate(r, c) } -> std::convertible_to<double>;
  e.observe(c, actual_tok);
};

/// @brief Tunes a price from observed outcomes (the SLO price lambda from deadline misses).
///
/// Expressions: `c.observe(now_s, missed)`, `c.update(now_s)` returns the new value; `c.value()`.
/// Promises: value stays within the controller's bounds; the same observations give the same values.
template <class C>
concept Controller = requires(C& c, const C& cc, double now_s, bool missed) {
  c.observe(now_s, missed);
  { c.update(now_s) } -> std::convertible_to<double>;
  { cc.value() } -> std::convertible_to<double>;
};

/// @brief A source of time in seconds, for queues and controllers. Tests drive a manual clock.
template <class C>
concept Clock = requires(const C& c) {
  { c.now_s() } -> std::convertible_to<double>;
};

}  // namespace joulesched
