// FREESH's clock governor: raises the clock by 25% (snapped up) when the p90 TTFT or TBT is within 10% of its SLO,
// else lowers it by 30 MHz of the A100's top clock (snapped down), never below half the top clock.
#include <doctest/doctest.h>

#include <vector>

#include "joulesched/control/miad_governor.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
// The A100 clocks of data/dvfs/a100_perseus.csv from 1410 down to 705 MHz in 15 MHz steps, as fractions.
std::vector<double> a100_fractions() {
  std::vector<double> f;
  for (int mhz = 1410; mhz >= 705; mhz -= 15) f.push_back(mhz / 1410.0);
  return f;
}
std::size_t index_of_mhz(int mhz) { return static_cast<std::size_t>((1410 - mhz) / 15); }
}  // namespace

TEST_CASE("miad_governor.slack_lowers_by_30_mhz_and_pressure_raises_by_25_percent") {
  const std::vector<double> f = a100_fractions();
  miad_governor g(f, 0);
  // Every request well inside its SLO: two 15 MHz steps down per update.
  for (int i = 0; i < 10; ++i) g.observe(0.2, 1.0, 0.02, 0.1);
  CHECK(g.update() == index_of_mhz(1380));
  for (int i = 0; i < 10; ++i) g.observe(0.2, 1.0, 0.02, 0.1);
  CHECK(g.update() == index_of_mhz(1350));
  // TBT p90 at 92% of its target: within 10%, so 1350 x 1.25 = 1687.5 MHz, above the top: the top clock.
  for (int i = 0; i < 10; ++i) g.observe(0.2, 1.0, 0.092, 0.1);
  CHECK(g.update() == 0);
  // From 900 MHz, TTFT pressure alone: 900 x 1.25 = 1125 MHz, snapped up to the next point (1125 is one).
  g.set_point(index_of_mhz(900));
  for (int i = 0; i < 10; ++i) g.observe(0.95, 1.0, 0.01, 0.1);
  CHECK(g.update() == index_of_mhz(1125));
  CHECK(g.point() == index_of_mhz(1125));
}

TEST_CASE("miad_governor.reads_the_p90_not_the_worst_or_the_mean") {
  miad_governor g(a100_fractions(), index_of_mhz(1200));
  // One request in ten at its SLO: the p90 (nearest rank, the 9th of 10) is slack, so the clock falls.
  for (int i = 0; i < 9; ++i) g.observe(0.1, 1.0, 0.01, 0.1);
  g.observe(1.5, 1.0, 0.5, 0.1);
  CHECK(g.update() == index_of_mhz(1170));
  // Two in ten: the p90 is a miss, so it rises (1170 x 1.25 = 1462.5: the top).
  for (int i = 0; i < 8; ++i) g.observe(0.1, 1.0, 0.01, 0.1);
  for (int i = 0; i < 2; ++i) g.observe(1.5, 1.0, 0.01, 0.1);
  CHECK(g.update() == 0);
}

TEST_CASE("miad_governor.floor_and_no_evidence") {
  miad_config c;
  c.min_fraction = 0.5;
  miad_governor g(a100_fractions(), index_of_mhz(720));
  // A period without any observation lowers the clock, but never below 705 MHz (half of 1410).
  CHECK(g.update() == index_of_mhz(705));
  CHECK(g.update() == index_of_mhz(705));
  // Requests without budgets are not observed: still no evidence.
  g.observe(5.0, 0.0, 5.0, 0.0);
  CHECK(g.update() == index_of_mhz(705));
}

TEST_CASE("miad_governor.keeps_the_most_recent_samples_when_full") {
  miad_config c;
  c.max_samples = 4;
  miad_governor g(a100_fractions(), index_of_mhz(1200), c);
  for (int i = 0; i < 4; ++i) g.observe(2.0, 1.0, -1.0, 0.0);  // misses, then overwritten by slack ones
  for (int i = 0; i < 4; ++i) g.observe(0.1, 1.0, -1.0, 0.0);
  CHECK(g.update() == index_of_mhz(1170));
}

TEST_CASE("miad_governor.tables_in_any_order") {
  // The table need not be sorted: points are chosen by their clocks.
  const std::vector<double> f{0.5, 1.0, 0.75, 0.9};
  miad_governor g(f, 1);
  CHECK(g.update() == 3);  // 1.0 - 0.0213: the highest point at or below is 0.9
  CHECK(g.update() == 2);  // 0.9 - 0.0213 = 0.879: 0.75
  g.observe(1.0, 1.0, -1.0, 0.0);
  CHECK(g.update() == 1);  // 0.75 x 1.25 = 0.9375: snapped up to 1.0
}

TEST_CASE("miad_governor.bad_settings_name_the_field") {
  const std::vector<double> f = a100_fractions();
  miad_config c;
  c.increase = 1.0;
  check_mentions(error_of([&] { miad_governor g(f, 0, c); }), {"miad_config", "increase", "> 1"});
  c = {};
  c.quantile = 0.0;
  check_mentions(error_of([&] { miad_governor g(f, 0, c); }), {"quantile"});
  check_mentions(error_of([&] { miad_governor g(std::vector<double>{}, 0); }), {"fractions", "empty"});
  check_mentions(error_of([&] { miad_governor g(std::vector<double>{1.0, 1.5}, 0); }), {"fraction = 1.5"});
  check_mentions(error_of([&] { miad_governor g(f, f.size()); }), {"start"});
}
