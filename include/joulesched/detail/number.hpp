/// @file number.hpp
/// @brief The one number grammar of every reader and option parser: decimal numbers and whole numbers.
///
/// When to use: wherever text from outside (a CSV field, a JSON value, a command-line option) becomes a
/// number, so that `+294.629` means the same in every file and flag. Not for hex, inf/nan or locale-formatted
/// text: those are refused on purpose.
///
/// Design: a hand-written grammar check first (so the accepted language does not depend on the standard
/// library), then the conversion: std::from_chars where the library has it for double (`__cpp_lib_to_chars`),
/// else strtod_l with the "C" locale (libc++ 16 lacks from_chars for double). Neither depends on the global
/// locale. A value too small to represent reads as a signed zero; one too large is refused.
/// Cost: O(length), no allocation on the from_chars path (the strtod_l path copies texts over 63 bytes).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <version>

#if !defined(__cpp_lib_to_chars)
#include <clocale>
#include <cstdlib>
#include <string>
#if defined(__APPLE__)
#include <xlocale.h>
#endif
#endif

namespace joulesched::detail {

/// Decimal number: [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?  — no whitespace, no hex,
/// no inf/nan, no thousands separators; nullopt when the text deviates or the value is not finite (overflow).
[[nodiscard]] std::optional<double> parse_decimal(std::string_view s) noexcept;

/// Whole number: +? digits (decimal only); nullopt on deviation or overflow of uint64.
[[nodiscard]] std::optional<std::uint64_t> parse_unsigned(std::string_view s) noexcept;

namespace number_detail {

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// The shape of a decimal number's text, or nothing when it is not in the grammar. `magnitude` is the
/// decimal exponent of the first non-zero digit (saturated far beyond any double); `zero` when every
/// mantissa digit is 0.
struct decimal_shape {
  bool negative = false;
  bool zero = true;
  long magnitude = 0;
};

[[nodiscard]] constexpr std::optional<decimal_shape> check_decimal(std::string_view s) noexcept {
  constexpr long saturate = 100'000;  // far beyond double's exponent range (+-324); keeps the sums in range
  decimal_shape d;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) d.negative = s[i++] == '-';
  long point = 0;   // digits before the decimal point
  long first = -1;  // index of the first non-zero mantissa digit
  long digits = 0;
  for (; i < s.size() && is_digit(s[i]); ++i, ++digits, ++point)
    if (first < 0 && s[i] != '0') first = digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && is_digit(s[i]); ++i, ++digits)
      if (first < 0 && s[i] != '0') first = digits;
  }
  if (digits == 0) return std::nullopt;  // "", "+", ".", ".e5"
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i >= s.size() || !is_digit(s[i])) return std::nullopt;  // "1e", "1e+"
    for (; i < s.size() && is_digit(s[i]); ++i)
      if (exponent < saturate) exponent = exponent * 10 + (s[i] - '0');
    if (neg) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;
  if (first >= 0) {
    d.zero = false;
    const long lead = point - first - 1;  // exponent of the first non-zero digit before the 'e'
    d.magnitude = (lead < -saturate ? -saturate : lead > saturate ? saturate : lead) + exponent;
  }
  return d;
}

#if !defined(__cpp_lib_to_chars)
// The "C" locale, created once (never freed: it lives as long as the program).
[[nodiscard]] inline locale_t c_locale() noexcept {
  static const locale_t loc = newlocale(LC_ALL_MASK, "C", locale_t{});
  return loc;
}
#endif

}  // namespace number_detail

inline std::optional<double> parse_decimal(std::string_view s) noexcept {
  const auto shape = number_detail::check_decimal(s);
  if (!shape) return std::nullopt;
  const double zero = shape->negative ? -0.0 : 0.0;
  if (shape->zero || shape->magnitude < -400) return zero;  // below the smallest subnormal (~4.9e-324)
  if (shape->magnitude > 400) return std::nullopt;          // above the largest double (~1.8e308)
  if (s.front() == '+') s.remove_prefix(1);
  double x = 0.0;
#if defined(__cpp_lib_to_chars)
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec == std::errc::result_out_of_range) {
    if (shape->magnitude < 0) return zero;  // underflow
    return std::nullopt;                    // overflow
  }
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
#else
  const locale_t loc = number_detail::c_locale();
  if (loc == locale_t{}) return std::nullopt;
  char small[64];
  std::string big;
  const char* text = small;
  if (s.size() < sizeof small) {
    s.copy(small, s.size());
    small[s.size()] = '\0';
  } else {
    try {
      big.assign(s);
    } catch (...) {
      return std::nullopt;
    }
    text = big.c_str();
  }
  char* end = nullptr;
  x = strtod_l(text, &end, loc);
  if (end != text + s.size()) return std::nullopt;
#endif
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}

inline std::optional<std::uint64_t> parse_unsigned(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || !number_detail::is_digit(s.front())) return std::nullopt;
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return x;
}

}  // namespace joulesched::detail
