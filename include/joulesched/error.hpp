/// @file error.hpp
/// @brief The one exception type for bad configuration and input, and the helpers that build its message.
///
/// Every check that rejects a value names the value and where it came from ("fleet.csv:12: field
/// rate_tok_s = -3: must be > 0"), so a user can find and fix it. Only construction and loading throw;
/// hot paths never do (their preconditions are asserted in debug builds).
#pragma once

#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace joulesched {

/// @brief Thrown when configuration or input makes no sense. what() names the place, field and value.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

/// Formats "where: field = value: requirement". Floating-point values print in their shortest exact form
/// (0.1, not 0.10000000000000001).
template <class V>
[[nodiscard]] inline std::string describe(std::string_view where, std::string_view field, const V& value,
                                          std::string_view requirement) {
  std::ostringstream os;
  os << where << ": " << field << " = ";
  if constexpr (std::is_floating_point_v<V>) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    os << std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
  } else {
    os << value;
  }
  os << ": " << requirement;
  return os.str();
}

template <class V>
[[noreturn]] inline void fail(std::string_view where, std::string_view field, const V& value,
                              std::string_view requirement) {
  throw config_error(describe(where, field, value, requirement));
}

/// Throws unless x is finite and x > 0.
inline double require_positive(double x, std::string_view where, std::string_view field) {
  if (!(std::isfinite(x) && x > 0.0)) fail(where, field, x, "must be finite and > 0");
  return x;
}

/// Throws unless x is finite and x >= 0.
inline double require_non_negative(double x, std::string_view where, std::string_view field) {
  if (!(std::isfinite(x) && x >= 0.0)) fail(where, field, x, "must be finite and >= 0");
  return x;
}

/// Throws unless x is finite (negative is fine).
inline double require_finite(double x, std::string_view where, std::string_view field) {
  if (!std::isfinite(x)) fail(where, field, x, "must be finite");
  return x;
}

}  // namespace detail
}  // namespace joulesched
