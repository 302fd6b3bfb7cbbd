// The carbon-aware cost: exact class-indexed routing while the sites' grid intensity changes between decisions
// (the floor order follows it), and the price a site's change puts on routing.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "joulesched/control/shared_price.hpp"
#include "joulesched/control/site_carbon.hpp"
#include "joulesched/cost/carbon_cost.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "support/brute_force.hpp"
#include "support/errors.hpp"
#include "support/exactness_steps.hpp"
#include "support/random_fleet.hpp"

using namespace joulesched;
using joulesched::test::check_mentions;
using joulesched::test::error_of;
using joulesched::test::random_priced_fleet;
using joulesched::test::random_priced_request;
using joulesched::test::route_as_brute_force;

TEST_CASE("carbon_cost.floor_ordered_routing_stays_exact_as_intensities_change") {
  static_assert(argmin_router<carbon_cost>::floor_ordered);
  std::mt19937_64 rng(29);
  for (unsigned trial = 0; trial < 300; ++trial) {
    std::vector<device_params> ps = random_priced_fleet(rng);
    const std::size_t sites = 1 + rng() % 4;
    for (auto& p : ps) p.site = static_cast<site_id>(rng() % sites);
    std::vector<double> pue(sites);
    for (auto& x : pue) x = 1.0 + static_cast<double>(rng() % 5) / 10.0;
    site_carbon carbon(pue);
    const auto hour = [&] {  // intensities from a small set, so that floors tie across sites
      for (site_id s = 0; s < sites; ++s) carbon.set_intensity(s, 50.0 * static_cast<double>(rng() % 12));
    };
    hour();
    fleet f(ps);
    const carbon_cost cost(carbon, static_cast<double>(rng() % 4) * 0.5);
    argmin_router<carbon_cost> router(f, cost);
    std::vector<assignment> out;
    for (unsigned op = 0; op < 80; ++op) {
      if (op % 16 == 15) hour();  // a new hour: the cheapest site may change, and with it the floor order
      if (!out.empty() && rng() % 3 == 0) {
        const std::size_t k = rng() % out.size();
        REQUIRE(router.release(out[k]));
        out[k] = out.back();
        out.pop_back();
      } else {
        route_as_brute_force(router, f, cost, random_priced_request(rng), out);
      }
    }
  }
}

TEST_CASE("carbon_cost.a_dirtier_hour_moves_work_to_the_other_site") {
  // Two identical devices at two sites; the cleaner site wins until its grid gets dirtier.
  const device_params a{1000.0, 0.2, 0};
  device_params b = a;
  b.site = 1;
  fleet f(std::vector<device_params>{a, b});
  site_carbon carbon({1.0, 1.2});
  carbon.set_intensity(0, 100.0);
  carbon.set_intensity(1, 300.0);
  argmin_router<carbon_cost> router(f, carbon_cost(carbon));
  request_view v;
  v.work_tok = 100;
  v.input_tok = 500;
  v.budget_s = 30.0;
  CHECK(router.pick(v) == device_id{0});
  const std::uint64_t before = carbon.epoch();
  carbon.set_intensity(0, 500.0);  // 500 x 1.0 > 300 x 1.2
  CHECK(carbon.epoch() != before);
  CHECK(router.pick(v) == device_id{1});
  // The cost in grams: PUE x g/kWh / 3.6e6 per joule of the predicted service.
  const double joules = predict_service(b, v).energy_j;
  CHECK(carbon_cost(carbon)(b, device_load{}, v) == doctest::Approx(joules * 1.2 * 300.0 / 3.6e6).epsilon(1e-12));
  // An unchanged value does not bump the epoch (no needless re-ordering).
  const std::uint64_t now = carbon.epoch();
  carbon.set_intensity(1, 300.0);
  CHECK(carbon.epoch() == now);
}

TEST_CASE("carbon_cost.follows_a_shared_lambda_and_refuses_bad_values") {
  site_carbon carbon({1.0});
  shared_price lambda(2.0);
  const carbon_cost c(carbon, lambda);
  CHECK(c.lambda() == 2.0);
  lambda.set(5.0);
  CHECK(c.lambda() == 5.0);
  check_mentions(error_of([] { site_carbon s({1.0, 0.8}); }), {"pue[1]", "0.8", ">= 1"});
  check_mentions(error_of([&] { carbon.set_intensity(0, -1.0); }), {"g_per_kwh", "-1"});
  check_mentions(error_of([&] { carbon.set_intensity(3, 1.0); }), {"site", "3"});
  check_mentions(error_of([&] { carbon_cost x(carbon, -1.0); }), {"lambda_g_per_s"});
}
