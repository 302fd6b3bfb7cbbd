/// @file usage_error.hpp
/// @brief Checked mode: the exception a hot-path call throws when its caller broke a precondition, and the
/// macros that check preconditions.
///
/// What: the hot paths (route, reserve, release, set_available, the queues' push, top, pop and cancel, ...)
/// document their preconditions. By default (`JOULESCHED_CHECKED` 0) they stay lean: a precondition is an
/// `assert`, gone under NDEBUG, and a violation is undefined unless the function says otherwise. Compiled with
/// `JOULESCHED_CHECKED=1`, every documented precondition of the hot path is checked in every build type and a
/// violation throws `joulesched::usage_error`, whose what() names the call, the value and the rule, e.g.
/// "fleet::release: device = 7: must be < size() = 4"; the functions concerned are then not noexcept.
///
/// When to use: an engine enables checked mode in its test and canary builds, or in production when a few
/// nanoseconds per call are worth a clear error instead of corrupt state. Independently of the mode, a few
/// cheap defences are always on, each documented where it applies: misuse that would corrupt memory or state
/// gets a defined result instead (a release that would wrap a load below zero, or names a device out of range,
/// changes nothing and returns false; a push of a request already queued, into the intrusive queue or a
/// hand-off, is refused; a NaN queue key is ordered after every finite key; ...). In checked mode those cases
/// throw as well.
///
/// How to enable: define `JOULESCHED_CHECKED=1` for every translation unit of the program, e.g. with
/// `target_compile_definitions(my_engine PRIVATE JOULESCHED_CHECKED=1)`. The library offers no CMake option for
/// it on purpose: it would reach every consumer of an installed package. All translation units of one program must
/// agree: the library is header-only, so defining the macro differently in two of them gives two different definitions
/// of the same inline functions, an ODR violation (undefined behaviour; in practice the linker keeps one of them at
/// random). That is why the checked tests are a program of their own.
///
/// Cost: nothing unless checked; checked, one compare and a predictable branch per precondition.
#pragma once

#include <cassert>
#include <stdexcept>
#include <string_view>

#include "joulesched/error.hpp"  // detail::describe

/// 1: every documented precondition of the hot path is checked and throws usage_error; 0 (default): asserted.
#ifndef JOULESCHED_CHECKED
#define JOULESCHED_CHECKED 0
#endif

namespace joulesched {

/// @brief Thrown, in checked mode only, when a call breaks its documented precondition (a bug in the caller,
/// not bad input: input is config_error's). what() names the call, the value and the rule.
class usage_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// True when this translation unit is compiled in checked mode.
inline constexpr bool checked_mode = JOULESCHED_CHECKED != 0;

namespace detail {

/// Throws usage_error "call: field = value: requirement".
template <class V>
[[noreturn, gnu::cold]] inline void usage_failure(std::string_view call, std::string_view field, const V& value,
                                                  std::string_view requirement) {
  throw usage_error(describe(call, field, value, requirement));
}

/// A misuse whose effect is defined in every mode (the caller then refuses it): throws in checked mode, does
/// nothing otherwise.
template <class V>
inline void misuse([[maybe_unused]] std::string_view call, [[maybe_unused]] std::string_view field,
                   [[maybe_unused]] const V& value,
                   [[maybe_unused]] std::string_view requirement) noexcept(!checked_mode) {
  if constexpr (checked_mode) usage_failure(call, field, value, requirement);
}

}  // namespace detail
}  // namespace joulesched

/// The exception specification of a hot-path function that checks preconditions: noexcept unless checked.
#define JOULESCHED_HOT_NOEXCEPT noexcept(!JOULESCHED_CHECKED)

/// JOULESCHED_EXPECTS(cond, call, field, value, requirement): a precondition. Checked: throws usage_error
/// "call: field = value: requirement" unless cond; otherwise assert(cond) (call, field and value are then not
/// evaluated). `requirement` must be a string literal.
#if JOULESCHED_CHECKED
#define JOULESCHED_EXPECTS(cond, call, field, value, requirement) \
  ((cond) ? void(0) : ::joulesched::detail::usage_failure(call, field, value, requirement))
#else
#define JOULESCHED_EXPECTS(cond, call, field, value, requirement) assert((cond) && (requirement))
#endif
