// A price shared between a controller and routers: costs built from it follow it at every decision, the
// library's price_loop sets it, and a router's choice moves with it.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>

#include "joulesched/control/price_loop.hpp"
#include "joulesched/control/shared_price.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"

using namespace joulesched;

namespace {
// An efficient but slow device and a fast but costly one (illustrative numbers).
constexpr device_params frugal{1000.0, 0.1};
constexpr device_params quick{4000.0, 0.5};
// 400 tokens in 0.2 s: 0.2 s late on the frugal device (40 J), on time on the quick one (200 J).
const request_view tight{400, 0, 0.2, tier::interactive};
}  // namespace

TEST_CASE("shared_price.rejects_what_no_cost_can_use") {
  CHECK_THROWS_WITH_AS(shared_price(-1.0), doctest::Contains("shared_price"), config_error);
  shared_price p(5.0);
  CHECK_THROWS_AS(p.set(std::numeric_limits<double>::quiet_NaN()), config_error);
  CHECK_THROWS_AS(p.set(std::numeric_limits<double>::infinity()), config_error);
  CHECK(p.get() == 5.0);  // unchanged by the refused sets
}

TEST_CASE("shared_price.costs_follow_it_and_refuse_their_own_lambda") {
  shared_price p(0.0);
  const joulesched_cost c(p);
  const profile_cost pc(p);
  const device_load idle{};
  const double on_time = c(frugal, idle, tight);
  p.set(100.0);
  CHECK(c.lambda() == 100.0);
  CHECK(pc.lambda() == 100.0);
  CHECK(c(frugal, idle, tight) > on_time + 100.0 * 0.1);  // about 0.2 s late, now priced
  // The same as a cost that holds the value itself.
  CHECK(c(frugal, idle, tight) == joulesched_cost(100.0)(frugal, idle, tight));
  joulesched_cost copy = c;
  CHECK_THROWS_WITH_AS(copy.set_lambda(3.0), doctest::Contains("shared_price"), config_error);
  p.set(7.0);
  CHECK(copy.lambda() == 7.0);  // copies follow the same price
}

TEST_CASE("shared_price.a_router_is_steered_by_setting_the_price") {
  fleet f({frugal, quick});
  shared_price lambda(0.0);
  argmin_router<joulesched_cost> router(f, joulesched_cost(lambda));
  const std::optional<assignment> cheap = router.route(tight);
  REQUIRE(cheap);
  CHECK(cheap->device == 0);
  router.release(*cheap);
  lambda.set(1e4);  // 0.2 s late now costs 2 kJ: the quick device wins
  const std::optional<assignment> fast = router.route(tight);
  REQUIRE(fast);
  CHECK(fast->device == 1);
}

TEST_CASE("price_loop.misses_raise_the_price_the_routers_read") {
  shared_price lambda(0.0);
  lambda_controller_config cfg;
  cfg.lambda_initial = 10.0;
  price_loop<count_window> loop(lambda, cfg, count_window(100));
  CHECK(lambda.get() == 10.0);  // the controller's initial value is published at once
  for (int i = 0; i < 100; ++i) loop.observe(0.01 * i, true);
  const double v = loop.update(1.0);
  CHECK(v > 10.0);
  CHECK(lambda.get() == v);
  CHECK(loop.miss_rate() == 1.0);
}
