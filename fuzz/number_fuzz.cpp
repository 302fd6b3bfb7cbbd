// Feeds the bytes, as one text, to parse_decimal and parse_unsigned (detail/number.hpp), and compares them
// with the C library in the "C" locale (this program never changes its locale):
// - a text parse_decimal accepts, strtod reads in full to the same value (sign of zero included); a text of
//   only digits, signs, '.', 'e' and 'E' that strtod reads in full to a finite value, parse_decimal accepts;
// - a text parse_unsigned accepts, strtoull reads in full to the same value without overflow; a text
//   `+?digits` that strtoull reads without overflow, parse_unsigned accepts;
// - a whole number below 2^53 reads as the same value through parse_decimal.
// Failure: any of these disagreements (or a sanitizer report).
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "joulesched/detail/number.hpp"
#include "support.hpp"

namespace {

bool only(const std::string& s, const char* chars) { return s.find_first_not_of(chars) == std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s = fuzz::text(data, size);
  using joulesched::detail::parse_decimal;
  using joulesched::detail::parse_unsigned;

  char* end = nullptr;
  const double c = std::strtod(s.c_str(), &end);
  const bool c_whole = !s.empty() && end == s.c_str() + s.size();
  if (const auto x = parse_decimal(s)) {
    fuzz::require(std::isfinite(*x), "parse_decimal gives a finite value");
    fuzz::require(c_whole && c == *x && std::signbit(c) == std::signbit(*x), "parse_decimal agrees with strtod");
  } else if (c_whole && std::isfinite(c) && only(s, "0123456789+-.eE")) {
    fuzz::require(false, "parse_decimal refuses a decimal number strtod reads");
  }

  errno = 0;
  const unsigned long long u = std::strtoull(s.c_str(), &end, 10);
  const bool u_ok = !s.empty() && end == s.c_str() + s.size() && errno != ERANGE;
  const bool u_grammar = only(s, "0123456789") || (s.size() > 1 && s[0] == '+' && only(s.substr(1), "0123456789"));
  if (const auto v = parse_unsigned(s)) {
    fuzz::require(u_grammar && u_ok && u == *v, "parse_unsigned agrees with strtoull");
    if (*v < (std::uint64_t{1} << 53)) {
      const auto x = parse_decimal(s);
      fuzz::require(x && *x == static_cast<double>(*v), "a whole number reads the same as a decimal");
    }
  } else if (u_grammar && u_ok) {
    fuzz::require(false, "parse_unsigned refuses a whole number strtoull reads");
  }
  return 0;
}
