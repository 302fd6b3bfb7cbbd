/// @file json_line.hpp
/// @brief (detail) A minimal scanner for one flat JSON object per line (the Mooncake trace): whitespace,
/// punctuation, strings (escapes kept raw) and any value skipped whole. Not a JSON parser: it reads what the
/// trace reader needs and reports anything else as malformed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace joulesched::detail {

[[nodiscard]] constexpr bool is_json_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline bool is_blank(std::string_view s) noexcept { return std::all_of(s.begin(), s.end(), is_json_ws); }

struct json_cursor {
  std::string_view s;
  std::size_t i = 0;
  void ws() noexcept {
    while (i < s.size() && is_json_ws(s[i])) ++i;
  }
  [[nodiscard]] bool eat(char c) noexcept {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  /// Reads a string (escapes kept raw; keys of interest have none). Cursor on the opening quote.
  [[nodiscard]] std::optional<std::string_view> string() {
    ws();
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    const std::size_t start = ++i;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2u : 1u;
    if (i >= s.size()) return std::nullopt;
    return s.substr(start, i++ - start);
  }
  /// Skips one value of any kind; returns its text, or nullopt when malformed.
  [[nodiscard]] std::optional<std::string_view> value() {
    ws();
    if (i >= s.size()) return std::nullopt;
    const std::size_t start = i;
    if (s[i] == '"') {
      if (!string()) return std::nullopt;
      return s.substr(start, i - start);
    }
    if (s[i] == '[' || s[i] == '{') {
      std::string closers;  // the brackets still open, innermost last
      while (i < s.size()) {
        const char c = s[i];
        if (c == '"') {
          if (!string()) return std::nullopt;
          continue;
        }
        if (c == '[' || c == '{') closers.push_back(c == '[' ? ']' : '}');
        if (c == ']' || c == '}') {
          if (closers.empty() || closers.back() != c) return std::nullopt;  // mismatched bracket
          closers.pop_back();
          if (closers.empty()) {
            ++i;
            return s.substr(start, i - start);
          }
        }
        ++i;
      }
      return std::nullopt;
    }
    // number or literal: up to the next delimiter
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_json_ws(s[i])) ++i;
    if (i == start) return std::nullopt;
    return s.substr(start, i - start);
  }
};

}  // namespace joulesched::detail
