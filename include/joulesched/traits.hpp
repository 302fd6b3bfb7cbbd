/// @file traits.hpp
/// @brief Every customisation point in one place: how joulesched reads an engine's own device and request
/// types.
///
/// An engine adapts its types in one of two ways, never by inheriting from anything of ours:
/// - members: a device with `rate_tok_s` and `energy_j_per_tok` (data members or const member functions),
///   a request with `input_tok` and `deadline_s`; or
/// - a specialisation of `device_traits<D>` / `request_traits<R>` with the same static functions.
///
/// @code
/// struct gpu { double tokens_per_second; double joules_per_token; };
/// template <> struct joulesched::device_traits<gpu> {
///   static double rate_tok_s(const gpu& g) { return g.tokens_per_second; }
///   static double energy_j_per_tok(const gpu& g) { return g.joules_per_token; }
/// };
/// @endcode
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>

#include "joulesched/types.hpp"

namespace joulesched {

namespace detail {
// Each field may be a data member or a const member function of the same name. The two forms are
// disjoint: naming a member function without calling it is ill-formed.
#define JOULESCHED_DETAIL_FIELD(name)                                     \
  template <class T, class V>                                             \
  concept has_##name##_fn = requires(const T& t) {                        \
    { t.name() } -> std::convertible_to<V>;                               \
  };                                                                      \
  template <class T, class V>                                             \
  concept has_##name##_obj = requires(const T& t) {                       \
    { t.name } -> std::convertible_to<V>;                                 \
  };                                                                      \
  template <class T, class V>                                             \
  concept has_##name = has_##name##_fn<T, V> || has_##name##_obj<T, V>;   \
  template <class V, class T>                                             \
  constexpr V get_##name(const T& t) {                                    \
    if constexpr (has_##name##_fn<T, V>) return static_cast<V>(t.name()); \
    else return static_cast<V>(t.name);                                   \
  }
JOULESCHED_DETAIL_FIELD(rate_tok_s)
JOULESCHED_DETAIL_FIELD(energy_j_per_tok)
JOULESCHED_DETAIL_FIELD(site)
JOULESCHED_DETAIL_FIELD(profile)
JOULESCHED_DETAIL_FIELD(input_tok)
JOULESCHED_DETAIL_FIELD(deadline_s)
JOULESCHED_DETAIL_FIELD(declared_tier)
JOULESCHED_DETAIL_FIELD(output_tok)
JOULESCHED_DETAIL_FIELD(work_tok)
JOULESCHED_DETAIL_FIELD(prefill_s_per_tok)
JOULESCHED_DETAIL_FIELD(prefill_j_per_tok)
JOULESCHED_DETAIL_FIELD(request_s)
JOULESCHED_DETAIL_FIELD(request_j)
JOULESCHED_DETAIL_FIELD(ctx_s_per_tok)
JOULESCHED_DETAIL_FIELD(ctx_j_per_tok)
JOULESCHED_DETAIL_FIELD(batch)
JOULESCHED_DETAIL_FIELD(step_s)
JOULESCHED_DETAIL_FIELD(capacity)
JOULESCHED_DETAIL_FIELD(pacing_s)
JOULESCHED_DETAIL_FIELD(network_s)
JOULESCHED_DETAIL_FIELD(ttft_deadline_s)
JOULESCHED_DETAIL_FIELD(tbt_s)
JOULESCHED_DETAIL_FIELD(slo_class)
JOULESCHED_DETAIL_FIELD(models)
JOULESCHED_DETAIL_FIELD(model)
#undef JOULESCHED_DETAIL_FIELD
}  // namespace detail

/// @brief How joulesched reads a device. Specialise for types whose members have other names.
///
/// Required: `rate_tok_s(d)` (tokens/s, finite, > 0) and `energy_j_per_tok(d)` (J/token, finite, >= 0).
/// Optional: `site(d)` (site_id, default 0), `profile(d)` (const energy_profile*, default none), and the
/// prefill and context coefficients and operating batch of device_params (`prefill_s_per_tok`,
/// `prefill_j_per_tok`, `request_s`, `request_j`, `ctx_s_per_tok`, `ctx_j_per_tok`: default 0, not modelled;
/// `batch`: default 1; `step_s`: default 0; `capacity`: default infinity, no limit; `pacing_s`: default 0, no guard;
/// `network_s`: default 0),
/// `models(d)` (model_set, default all_models).
template <class D>
struct device_traits {
#define JOULESCHED_DETAIL_OPTIONAL(name, fallback)                                     \
  static constexpr double name(const D& d) {                                           \
    if constexpr (detail::has_##name<D, double>) return detail::get_##name<double>(d); \
    else return fallback;                                                              \
  }
  JOULESCHED_DETAIL_OPTIONAL(prefill_s_per_tok, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(prefill_j_per_tok, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(request_s, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(request_j, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(ctx_s_per_tok, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(ctx_j_per_tok, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(batch, 1.0)
  JOULESCHED_DETAIL_OPTIONAL(step_s, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(capacity, std::numeric_limits<double>::infinity())
  JOULESCHED_DETAIL_OPTIONAL(pacing_s, 0.0)
  JOULESCHED_DETAIL_OPTIONAL(network_s, 0.0)
#undef JOULESCHED_DETAIL_OPTIONAL
  static constexpr double rate_tok_s(const D& d)
    requires detail::has_rate_tok_s<D, double>
  {
    return detail::get_rate_tok_s<double>(d);
  }
  static constexpr double energy_j_per_tok(const D& d)
    requires detail::has_energy_j_per_tok<D, double>
  {
    return detail::get_energy_j_per_tok<double>(d);
  }
  static constexpr site_id site(const D& d) {
    if constexpr (detail::has_site<D, site_id>) return detail::get_site<site_id>(d);
    else return 0;
  }
  static constexpr const energy_profile* profile(const D& d) {
    if constexpr (detail::has_profile<D, const energy_profile*>) return detail::get_profile<const energy_profile*>(d);
    else return nullptr;
  }
  static constexpr model_set models(const D& d) {
    if constexpr (detail::has_models<D, model_set>) return detail::get_models<model_set>(d);
    else return all_models;
  }
};

/// @brief How joulesched reads a request. Specialise for types whose members have other names.
///
/// Required: `input_tok(r)` (prompt tokens, >= 0) and `deadline_s(r)` (absolute, on the same clock as the
/// `now` the caller passes; a deadline already past is legal). Optional: `ttft_deadline_s(r)` (absolute
/// time-to-first-token deadline, default none), `tbt_s(r)` (pacing target between tokens, default 0: none),
/// `slo_class(r)` (slo_class_id; default: its declared tier's default class, else 0), `model(r)` (model_id, default 0),
/// `declared_tier(r)` (std::optional<tier>, default none), `output_tok(r)` (the true output length, only for the oracle
/// estimator and simulators), `work_tok(r)` (remaining work estimate, needed by LLF queues).
template <class R>
struct request_traits {
  static constexpr double input_tok(const R& r)
    requires detail::has_input_tok<R, double>
  {
    return detail::get_input_tok<double>(r);
  }
  static constexpr double deadline_s(const R& r)
    requires detail::has_deadline_s<R, double>
  {
    return detail::get_deadline_s<double>(r);
  }
  /// The absolute TTFT deadline, or empty when the request has none.
  static constexpr std::optional<double> ttft_deadline_s(const R& r) {
    // An optional member (std::optional<double>) or a plain double both read; a double converts to an optional.
    if constexpr (detail::has_ttft_deadline_s<R, std::optional<double>>)
      return detail::get_ttft_deadline_s<std::optional<double>>(r);
    else return std::nullopt;
  }
  static constexpr double tbt_s(const R& r) {
    if constexpr (detail::has_tbt_s<R, double>) return detail::get_tbt_s<double>(r);
    else return 0.0;
  }
  /// The request's SLO class; when it names none, the default class of its declared tier (interactive or bulk),
  /// else default_slo_class.
  static constexpr slo_class_id slo_class(const R& r) {
    if constexpr (detail::has_slo_class<R, slo_class_id>) {
      return detail::get_slo_class<slo_class_id>(r);
    } else {
      const std::optional<tier> t = declared_tier(r);
      return t ? default_slo_class_of(*t) : default_slo_class;
    }
  }
  /// Wider than model_id, so that make_request_view can refuse an id >= max_models rather than wrap it.
  static constexpr std::uint32_t model(const R& r) {
    if constexpr (detail::has_model<R, std::uint32_t>) return detail::get_model<std::uint32_t>(r);
    else return 0;
  }
  static constexpr std::optional<tier> declared_tier(const R& r) {
    if constexpr (detail::has_declared_tier<R, std::optional<tier>>)
      return detail::get_declared_tier<std::optional<tier>>(r);
    else return std::nullopt;
  }
  static constexpr double output_tok(const R& r)
    requires detail::has_output_tok<R, double>
  {
    return detail::get_output_tok<double>(r);
  }
  static constexpr double work_tok(const R& r)
    requires detail::has_work_tok<R, double>
  {
    return detail::get_work_tok<double>(r);
  }
};

}  // namespace joulesched
