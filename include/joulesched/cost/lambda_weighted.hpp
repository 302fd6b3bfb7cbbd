/// @file lambda_weighted.hpp
/// @brief (detail) What the JouleSched and profile costs share: an energy weight of 1 and a lateness weight
/// lambda that is either the cost's own value or a shared_price it follows (control/shared_price.hpp).
#pragma once

#include "joulesched/control/shared_price.hpp"
#include "joulesched/error.hpp"

namespace joulesched::detail {

/// @tparam Weighted a two-term weighted_cost: energy, then lateness.
template <class Weighted>
class lambda_weighted : public Weighted {
 public:
  /// @throws config_error when lambda_j_per_s is negative, NaN or infinite.
  explicit lambda_weighted(double lambda_j_per_s = 0.0) : Weighted({1.0, lambda_j_per_s}) {}
  /// A cost whose lambda follows `lambda`, read at every evaluation: routers on other threads are steered by
  /// setting the price. The price must outlive the cost and its copies.
  explicit lambda_weighted(const shared_price& lambda) : Weighted({1.0, lambda.get()}), price_(&lambda) {}

  [[nodiscard]] double lambda() const noexcept { return price_ != nullptr ? price_->get() : this->weight(1); }

  /// @throws config_error when lambda_j_per_s is negative, NaN or infinite, or when the cost follows a
  /// shared_price (set the price instead).
  void set_lambda(double lambda_j_per_s) {
    if (price_ != nullptr)
      fail("set_lambda", "lambda_j_per_s", lambda_j_per_s,
           "cannot be set: the cost follows a shared_price; set the price");
    this->set_weight(1, lambda_j_per_s);
  }

 private:
  const shared_price* price_ = nullptr;  // the lambda followed, if any
};

}  // namespace joulesched::detail
