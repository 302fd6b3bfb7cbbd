/// @file civil_time.hpp
/// @brief (detail) UTC calendar arithmetic without the time zones of `<chrono>`: days from and to a proleptic
/// Gregorian date (H. Hinnant's algorithms), a strict parser of `YYYY-MM-DD HH:MM:SS[.f][Z|+HH:MM]`
/// timestamps, and a formatter back to that text. For the Azure trace reader.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace joulesched::detail {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// The date of a day since 1970-01-01 (H. Hinnant's civil_from_days), before the epoch too.
struct civil_date {
  std::int64_t y;
  unsigned m, d;
};
constexpr civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29u : days[m - 1];
}

/// An Azure time: whole seconds since the Unix epoch (UTC) and nanoseconds within the second. Any 4-digit
/// year fits (|secs| < 2^39), so parsing never overflows; the caller bounds secs before scaling to ns.
struct utc_time {
  std::int64_t secs = 0;
  std::int64_t frac_ns = 0;
};

/// Parses `YYYY-MM-DD HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM]`. Returns nullopt on any deviation (the caller
/// names the field).
inline std::optional<utc_time> parse_timestamp(std::string_view s) noexcept {
  std::size_t i = 0;
  const auto digits = [&](std::size_t n, unsigned& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<unsigned>(c - '0');
    }
    i += n;
    return true;
  };
  const auto lit = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!(digits(4, y) && lit('-') && digits(2, mo) && lit('-') && digits(2, d) && (lit(' ') || lit('T')) &&
        digits(2, h) && lit(':') && digits(2, mi) && lit(':') && digits(2, se))) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59) return std::nullopt;
  std::int64_t frac_ns = 0;
  if (lit('.')) {
    std::size_t n = 0;
    std::int64_t f = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (++n > 9) return std::nullopt;
      f = f * 10 + (s[i] - '0');
      ++i;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) f *= 10;
    frac_ns = f;
  }
  std::int64_t offset_s = 0;
  if (lit('Z')) {
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i] == '-';
    ++i;
    unsigned oh = 0, om = 0;
    if (!(digits(2, oh) && lit(':') && digits(2, om)) || oh > 23 || om > 59) return std::nullopt;
    offset_s = (neg ? -1 : 1) * (std::int64_t{oh} * 3600 + std::int64_t{om} * 60);
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t time_of_day_s = std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + std::int64_t{se};
  return utc_time{days_from_civil(y, mo, d) * 86400 + time_of_day_s - offset_s, frac_ns};
}

/// Nanoseconds since the epoch as `YYYY-MM-DD HH:MM:SS.fffffffff` UTC (for a time within the Azure bounds).
inline std::string format_time_ns(std::int64_t ns) {
  const std::int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  const civil_date c = civil_from_days(secs / 86400);
  const std::int64_t sod = secs % 86400;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%09lld", static_cast<long long>(c.y), c.m, c.d,
                static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                static_cast<long long>(sod % 60), static_cast<long long>(frac));
  return buf;
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC, for any time parse_timestamp reads (years 0000-9999,
/// before the epoch included: the day is taken by floor division).
inline std::string format_utc_s(std::int64_t secs) {
  const std::int64_t days = secs / 86400 - (secs % 86400 < 0 ? 1 : 0);
  const std::int64_t sod = secs - days * 86400;
  const civil_date c = civil_from_days(days);
  char buf[96];  // room for any int64 year, as the compiler counts it
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(c.y), c.m, c.d,
                static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                static_cast<long long>(sod % 60));
  return buf;
}

}  // namespace joulesched::detail
