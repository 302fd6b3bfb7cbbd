/// @file slo_class.hpp
/// @brief The named SLO classes of a deployment (`slo_class_set`): an open set, ids 0..size()-1 in the order
/// they were named. A default set holds the two default classes, "interactive" (interactive_slo_class, 0) and
/// "bulk" (bulk_slo_class, 1).
///
/// When to use: to turn the class names of a configuration (an engine's, a workload's) into the slo_class_id
/// that requests carry (types.hpp) and estimators key their state by, and back into names for a report. Not on a
/// hot path: lookups by name are O(classes).
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

class slo_class_set {
 public:
  /// The most classes a set holds: every slo_class_id.
  static constexpr std::size_t max_classes = std::size_t{std::numeric_limits<slo_class_id>::max()} + 1;

  /// @brief The default classes: "interactive" (0) and "bulk" (1).
  slo_class_set() : names_{"interactive", "bulk"} {}

  /// @brief The classes named, ids in order. @throws config_error naming `where` and the entry when a name is
  /// empty or repeated, when there is none, or when there are more than max_classes.
  explicit slo_class_set(std::vector<std::string> names, std::string_view where = "slo_class_set") {
    if (names.empty()) detail::fail(where, "classes", "(none)", "must name at least one SLO class");
    for (std::string& n : names) add(std::move(n), where);
  }

  /// @brief Names one more class and returns its id. @throws config_error as the constructor does.
  slo_class_id add(std::string name, std::string_view where = "slo_class_set") {
    const std::string field = "classes[" + std::to_string(names_.size()) + "]";
    if (name.empty()) detail::fail(where, field, "''", "must not be empty");
    if (find(name)) detail::fail(where, field, "'" + name + "'", "names a class twice");
    if (names_.size() == max_classes) detail::fail(where, field, "'" + name + "'", "is one class too many");
    names_.push_back(std::move(name));
    return static_cast<slo_class_id>(names_.size() - 1);
  }

  /// @brief The id of the class named `name`, or nothing.
  [[nodiscard]] std::optional<slo_class_id> find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return static_cast<slo_class_id>(i);
    return std::nullopt;
  }

  /// @brief The id of the class named `name`. @throws config_error naming `where` when there is none.
  [[nodiscard]] slo_class_id id(std::string_view name, std::string_view where = "slo_class_set") const {
    const std::optional<slo_class_id> c = find(name);
    if (!c) detail::fail(where, "slo_class", "'" + std::string(name) + "'", "is not a class of the set");
    return *c;
  }

  /// @brief The name of class `c`. @throws config_error when `c` >= size().
  [[nodiscard]] const std::string& name(slo_class_id c) const {
    if (c >= names_.size()) detail::fail("slo_class_set", "slo_class", c, "is not a class of the set");
    return names_[c];
  }

  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }

 private:
  std::vector<std::string> names_;
};

}  // namespace joulesched
