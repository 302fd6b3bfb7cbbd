#include <doctest/doctest.h>

#include <clocale>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "joulesched/detail/number.hpp"

using joulesched::detail::parse_decimal;
using joulesched::detail::parse_unsigned;

TEST_CASE("number.decimal.grammar_accepts") {
  CHECK(parse_decimal("+294.629") == 294.629);
  CHECK(parse_decimal("-2.5") == -2.5);
  CHECK(parse_decimal("1.") == 1.0);
  CHECK(parse_decimal(".5") == 0.5);
  CHECK(parse_decimal("-.5") == -0.5);
  CHECK(parse_decimal("1e3") == 1000.0);
  CHECK(parse_decimal("1E+3") == 1000.0);
  CHECK(parse_decimal("2.5e-1") == 0.25);
  CHECK(parse_decimal("007") == 7.0);
  CHECK(parse_decimal("0") == 0.0);
  CHECK(parse_decimal("1.7976931348623157e308") == 1.7976931348623157e308);
}

TEST_CASE("number.decimal.grammar_refuses") {
  for (const char* s : {"",    "+",        "-",    ".",     "+.",    ".e5",   "e5",   "1e",  "1e+", "1e-",
                        "++1", "+-1",      "1..2", "1.2.3", " 1",    "1 ",    "\t1",  "1\n", "inf", "-inf",
                        "nan", "infinity", "0x10", "0x1p3", "1,000", "1_000", "1e5x", "1f",  "--1", "1e2.5"}) {
    INFO("text: '", s, "'");
    CHECK_FALSE(parse_decimal(s).has_value());
  }
}

TEST_CASE("number.decimal.overflow_refused_underflow_zero") {
  CHECK_FALSE(parse_decimal("1e999").has_value());
  CHECK_FALSE(parse_decimal("-1.8e308").has_value());
  CHECK_FALSE(parse_decimal("1e99999999999999999999").has_value());
  const auto tiny = parse_decimal("-1e-999");
  REQUIRE(tiny.has_value());
  CHECK(*tiny == 0.0);
  CHECK(std::signbit(*tiny));
  CHECK(parse_decimal("0e99999999999999999999") == 0.0);
  CHECK(parse_decimal("1e-99999999999999999999") == 0.0);
  // A long text of digits is fine (it is one number).
  CHECK(parse_decimal("0." + std::string(500, '0') + "1e501") == doctest::Approx(1.0));
  CHECK(parse_decimal(std::string(300, '1')).has_value());
  CHECK_FALSE(parse_decimal(std::string(320, '9')).has_value());
}

TEST_CASE("number.decimal.ignores_the_global_locale") {
  // Under a locale whose decimal point is ',' the text "2.5" must still read as 2.5 and "2,5" be refused.
  const std::string saved = std::setlocale(LC_ALL, nullptr);
  const bool switched = std::setlocale(LC_ALL, "de_DE.UTF-8") != nullptr || std::setlocale(LC_ALL, "de_DE") != nullptr;
  CHECK(parse_decimal("2.5") == 2.5);
  CHECK_FALSE(parse_decimal("2,5").has_value());
  std::setlocale(LC_ALL, saved.c_str());
  if (!switched) MESSAGE("no de_DE locale installed: checked under the current locale only");
}

TEST_CASE("number.unsigned.grammar") {
  CHECK(parse_unsigned("0") == std::uint64_t{0});
  CHECK(parse_unsigned("+42") == std::uint64_t{42});
  CHECK(parse_unsigned("007") == std::uint64_t{7});
  CHECK(parse_unsigned("18446744073709551615") == UINT64_MAX);
  for (const char* s : {"", "+", "++1", "-1", "-0", "1.0", "1e3", " 1", "1 ", "0x10", "18446744073709551616",
                        "99999999999999999999999", "1,000", "4294967295x"}) {
    INFO("text: '", s, "'");
    CHECK_FALSE(parse_unsigned(s).has_value());
  }
}
