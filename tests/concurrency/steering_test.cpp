// Routers on other threads steered through one shared_price: the concurrent and the partitioned routers choose
// by the price a controller thread sets, at their next decision. Handshakes (latches) order the steps, so
// nothing depends on timing; the TSan build checks that the price is shared without a race.
#include <doctest/doctest.h>

#include <latch>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "joulesched/control/shared_price.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "joulesched/routing/partitioned_router.hpp"

using namespace joulesched;

namespace {
constexpr device_params frugal{1000.0, 0.1};
constexpr device_params quick{4000.0, 0.5};
const request_view tight{400, 0, 0.2, tier::interactive};  // late on frugal, on time on quick

// Routes `tight` twice on another thread, before and after the price is raised; returns the two devices' rates.
template <class MakeRouter>
std::vector<double> rates_before_and_after(shared_price& lambda, MakeRouter make, auto rate_of) {
  std::latch routed_once(1), raised(1);
  std::vector<double> rates;
  std::thread router_thread([&] {
    auto router = make();
    const std::optional<assignment> a = router->route(tight);
    rates.push_back(a ? rate_of(*a) : 0.0);
    if (a) router->release(*a);
    routed_once.count_down();
    raised.wait();
    const std::optional<assignment> b = router->route(tight);
    rates.push_back(b ? rate_of(*b) : 0.0);
    if (b) router->release(*b);
  });
  routed_once.wait();
  lambda.set(1e4);
  raised.count_down();
  router_thread.join();
  return rates;
}
}  // namespace

TEST_CASE("steering.concurrent_router_follows_the_price_set_on_another_thread") {
  concurrent_fleet cf(std::vector<device_params>{frugal, quick, frugal, quick});
  shared_price lambda(0.0);
  const auto rates = rates_before_and_after(
      lambda, [&] { return std::make_unique<concurrent_argmin_router<joulesched_cost>>(cf, joulesched_cost(lambda)); },
      [&](const assignment& a) { return cf.params(a.device).rate_tok_s; });
  CHECK(rates == std::vector<double>{frugal.rate_tok_s, quick.rate_tok_s});
}

TEST_CASE("steering.partitioned_router_follows_the_price_set_on_another_thread") {
  const std::vector<device_params> ps{frugal, quick, frugal, quick};
  const partition_plan plan(ps, 2);
  shared_price lambda(0.0);
  const auto rates = rates_before_and_after(
      lambda, [&] { return std::make_unique<partitioned_router<joulesched_cost>>(plan, 0, joulesched_cost(lambda)); },
      [&](const assignment& a) { return ps[a.device].rate_tok_s; });
  CHECK(rates == std::vector<double>{frugal.rate_tok_s, quick.rate_tok_s});
}
