/// @file error.hpp
/// @brief The one exception type for bad configuration and input, and the helpers that build its message.
///
/// Every check that rejects a value names the value and where it came from ("fleet.csv:12: field
/// rate_tok_s = -3: must be > 0"), so a user can find and fix it. Only construction and loading throw;
/// hot paths never do (their preconditions are asserted in debug builds).
///
/// A value taken from input may be anything (10 MB of one field, a binary header): every text echoed in a
/// message goes through echo(), which escapes bytes outside printable ASCII as `\xNN` and cuts the text at
/// sim::bounds::max_echo_chars characters, adding "... (N bytes)". describe() does this for every string-like
/// value, so each message built with it or fail() is bounded.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "joulesched/sim/input_bounds.hpp"

namespace joulesched {

/// @brief Thrown when configuration or input makes no sense. what() names the place, field and value.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

/// Most characters of a path echoed in a message. Source: PATH_MAX of Linux (<limits.h>), the longest path
/// the OS accepts; paths get more room than field values because a cut path cannot be found.
inline constexpr std::size_t max_echo_path_chars = 4096;

/// @brief `s` made safe to print: bytes outside printable ASCII (0x20-0x7E) as \xNN; when the result would
/// exceed `max_chars` characters, the part that fits followed by "... (N bytes)", N the length of `s`.
/// Complexity: O(min(length, max_chars)).
[[nodiscard]] inline std::string echo(std::string_view s, std::size_t max_chars = sim::bounds::max_echo_chars) {
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() < max_chars ? s.size() : max_chars);
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool printable = c >= 0x20 && c <= 0x7E;
    if (out.size() + (printable ? 1 : 4) > max_chars) break;
    if (printable) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

/// @brief A path made safe to print (echo() with room for the longest path).
[[nodiscard]] inline std::string echo_path(const std::filesystem::path& p) {
  return echo(p.string(), max_echo_path_chars);
}

/// @brief A text value that describe() prints in single quotes, echoed: `field = 'text'`.
struct quoted {
  std::string_view text;
};

/// The shortest text that reads back as exactly x (0.1, not 0.10000000000000001).
template <class F>
  requires std::is_floating_point_v<F>
[[nodiscard]] inline std::string shortest(F x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, static_cast<std::size_t>(r.ptr - buf));
}

/// Formats "where: field = value: requirement". Floating-point values print in their shortest exact form
/// (0.1, not 0.10000000000000001); string-like values and `quoted` print through echo(), so a message stays
/// short and printable whatever the input held.
template <class V>
[[nodiscard]] inline std::string describe(std::string_view where, std::string_view field, const V& value,
                                          std::string_view requirement) {
  std::ostringstream os;
  os << echo(where, max_echo_path_chars) << ": " << field << " = ";  // `where` is often a file name
  if constexpr (std::is_floating_point_v<V>) {
    os << shortest(value);
  } else if constexpr (std::is_same_v<V, quoted>) {
    os << '\'' << echo(value.text) << '\'';
  } else if constexpr (std::is_convertible_v<const V&, std::string_view>) {
    os << echo(std::string_view(value));
  } else if constexpr (std::is_same_v<V, char>) {
    os << echo(std::string_view(&value, 1));
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
