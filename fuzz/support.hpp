// The boilerplate every harness shares: the fuzz bytes as a stream, "config_error is the only accepted
// failure", and a way to fail loudly when a property the library promises does not hold.
//
// A harness reports a finding by crashing: an exception other than joulesched::config_error, a failed
// `fuzz::require`, an assert in the library, or a sanitizer report. libFuzzer then saves the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>

#include "joulesched/error.hpp"

namespace fuzz {

/// The fuzz input as text (bytes kept as they are, NULs included).
[[nodiscard]] inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Aborts with `what` unless `ok`: a broken promise of the library is a finding.
inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: property violated: %s\n", what);
  std::abort();
}

/// Runs `f()`; returns true when it returned, false when it threw joulesched::config_error (the documented
/// answer to bad input). Any other exception is a finding: it is printed and the process aborts.
template <class F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const joulesched::config_error&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: unexpected exception (not config_error): %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "fuzz: unexpected exception of unknown type\n");
  }
  std::abort();
}

/// Runs `read(stream)` on a fresh std::istringstream over `bytes` (see accepts()).
template <class Read>
bool read_accepts(const std::string& bytes, Read&& read) {
  return accepts([&] {
    std::istringstream in(bytes);
    read(in);
  });
}

}  // namespace fuzz
