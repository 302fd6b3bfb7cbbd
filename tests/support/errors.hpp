// Helpers for tests of error paths: what a config_error says, and whether it names what it should.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "joulesched/error.hpp"

namespace joulesched::test {

/// Runs f, which must throw E (config_error unless told: error_of<usage_error>(f)), and returns what(); fails the
/// test case if it does not throw E.
template <class E = config_error, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception of the type asked for");
  return {};
}

/// Whether `s` contains `part`.
inline bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

/// Checks that a message contains each of the given parts.
inline void check_mentions(const std::string& msg, std::initializer_list<std::string_view> parts) {
  for (const auto part : parts) {
    INFO("message: ", msg);
    INFO("missing: ", std::string(part));
    CHECK(has(msg, part));
  }
}

/// True when `make` throws config_error whose message reports `field` ("field = value").
inline bool throws_naming(const std::function<void()>& make, const std::string& field) {
  try {
    make();
  } catch (const config_error& e) {
    const std::string what = e.what();
    INFO("what(): ", what);
    CHECK(has(what, field + " = "));
    return has(what, field + " = ");
  }
  return false;
}

}  // namespace joulesched::test
