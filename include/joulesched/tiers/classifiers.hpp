/// @file classifiers.hpp
/// @brief Tier classifiers: interactive or bulk, by declared class, deadline slack or size.
///
/// A classifier is any function object `tier(const request_view&)` (the TierClassifier concept), so an
/// engine can plug in its own. These are O(1), noexcept and allocation-free.
#pragma once

#include <cstdint>

#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"

namespace joulesched {

/// @brief Trusts the tier the engine declared in the view (from request_traits::declared_tier).
struct declared_tier_classifier {
  [[nodiscard]] constexpr tier operator()(const request_view& v) const noexcept { return v.tier; }
};

/// @brief Bulk when the request has at least `bulk_slack_s` seconds of budget: it can wait.
class slack_classifier {
 public:
  /// @throws config_error when bulk_slack_s is NaN or infinite.
  explicit slack_classifier(double bulk_slack_s)
      : bulk_slack_s_(detail::require_finite(bulk_slack_s, "slack_classifier", "bulk_slack_s")) {}
  [[nodiscard]] tier operator()(const request_view& v) const noexcept {
    return v.budget_s >= bulk_slack_s_ ? tier::bulk : tier::interactive;
  }

 private:
  double bulk_slack_s_;
};

/// @brief Bulk when the request's prompt plus estimated output reach `bulk_tok` tokens.
class size_classifier {
 public:
  explicit size_classifier(std::uint64_t bulk_tok) noexcept : bulk_tok_(bulk_tok) {}
  [[nodiscard]] tier operator()(const request_view& v) const noexcept {
    return std::uint64_t{v.input_tok} + v.work_tok >= bulk_tok_ ? tier::bulk : tier::interactive;
  }

 private:
  std::uint64_t bulk_tok_;
};

static_assert(TierClassifier<declared_tier_classifier> && TierClassifier<slack_classifier> &&
              TierClassifier<size_classifier>);

}  // namespace joulesched
