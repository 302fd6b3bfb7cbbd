/// @file client_source.hpp
/// @brief Labels a request stream with clients (request::client), drawn at random by given shares, so that
/// fairness between clients can be measured and a fair queue tried on a workload that names none.
///
/// When to use: the default mix and the traces joulesched reads (Azure, Mooncake) carry no client id;
/// `joulesched-sim --clients` wraps its source in one of these. Each request's client is an independent draw
/// (seeded, one draw per request, from its own generator: the inner stream is unchanged), client k with
/// probability shares[k] / sum of shares.
/// Errors: no share, more than bounds::max_clients, or a share that is not finite and >= 0, or all 0: config_error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/detail/random.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/input_bounds.hpp"
#include "joulesched/sim/request.hpp"

namespace joulesched::sim {

class client_source final : public request_source {
 public:
  /// @param shares the relative share of requests of each client (client k: shares[k]); @param where names the
  /// shares in messages.
  client_source(request_source& inner, const std::vector<double>& shares, std::uint64_t seed,
                std::string_view where = "clients")
      : inner_(&inner), rng_(seed) {
    if (shares.empty()) joulesched::detail::fail(where, "shares", 0, "must name at least one client");
    if (shares.size() > bounds::max_clients)
      joulesched::detail::fail(where, "clients", shares.size(),
                               "must be <= " + std::to_string(bounds::max_clients) + " (bounds::max_clients)");
    double total = 0.0;
    for (std::size_t k = 0; k < shares.size(); ++k) {
      if (!(std::isfinite(shares[k]) && shares[k] >= 0.0))
        joulesched::detail::fail(where, "share of client " + std::to_string(k), shares[k], "must be finite and >= 0");
      total += shares[k];
      cumulative_.push_back(total);
    }
    if (!(total > 0.0)) joulesched::detail::fail(where, "shares", total, "must not all be 0");
    for (double& c : cumulative_) c /= total;
  }

  bool next(request& r) override {
    if (!inner_->next(r)) return false;
    const double u = joulesched::detail::uniform01(rng_);
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end() - 1, u);  // the last catches u ~ 1
    r.client = static_cast<std::uint32_t>(it - cumulative_.begin());
    return true;
  }

 private:
  request_source* inner_;
  std::mt19937_64 rng_;
  std::vector<double> cumulative_;
};

}  // namespace joulesched::sim
