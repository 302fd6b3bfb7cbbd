// plan/freesh_planner.hpp: the program is FREESH's (demand per step with headroom and beta, GPUs per site and
// type, the SLO filter), its optimum is the one worked out by hand, and an infeasible window says why.
#include "joulesched/plan/freesh_planner.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "joulesched/plan/exhaustive_solver.hpp"
#include "support/errors.hpp"

namespace jp = joulesched::plan;
using joulesched::test::check_mentions;
using joulesched::test::error_of;
using joulesched::test::has;

namespace {
// Two sites; loc2 has only room for one A100x2 instance. LL cannot run on A100x2 (max_qps 0), so LL takes
// loc1's only H100x4 instance and SS is left the three A100x2 slots.
jp::freesh_inputs tiny(const std::string& demand, const std::string& emission) {
  std::istringstream s("site,A100,H100\nloc1,4,4\nloc2,2,0\n"),
      p("request_class,mode,gpu_type,gpus,instance_power_w,max_qps,e2e_latency_s,tbt_ms,ttft_ms\n"
        "SS,A100x2,A100,2,700,5,8,50,100\n"
        "SS,H100x4,H100,4,1200,16,3,20,80\n"
        "LL,A100x2,A100,2,710,0,30,50,150\n"
        "LL,H100x4,H100,4,970,2,17,28,90\n"),
      d("step,start_s,SS,LL\n" + demand), e("step,start_s,loc1,loc2\n" + emission);
  return jp::read_freesh_inputs(s, "sites.csv", p, "profiles.csv", d, "demand.csv", e, "emission.csv");
}
jp::freesh_options two_steps(jp::freesh_objective objective) {
  jp::freesh_options o;
  o.beta = 1.0;
  o.headroom = 1.0;
  o.window_steps = 2;
  o.objective = objective;
  return o;
}
const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "freesh";
}  // namespace

TEST_CASE("freesh planner: the window's program has one variable per (site, class, mode) and FREESH's rows") {
  const jp::freesh_inputs in = jp::load_freesh_inputs(data, "a");
  const jp::milp m = jp::freesh_window_milp(in, 1, jp::freesh_options{});
  CHECK(m.variables.size() == 3 * 4 * 4);
  CHECK(m.rows.size() == 4 * 6 + 3 * 2);  // demand per class and step, GPUs per site and type
  // Demand of SS at step 6 (the window's first): 1.1 x 2.4 / 2.
  CHECK(m.rows[0].name == "demand SS step 6");
  CHECK(m.rows[0].rhs == doctest::Approx(1.1 * in.demand_qps.at(6, 0) / 2.0));
  // loc2's A100 row bounds the A100 modes by their GPUs.
  CHECK(m.rows[4 * 6 + 2].name == "GPUs loc2 A100");
  CHECK(m.rows[4 * 6 + 2].rhs == 12.0);
  // loc2 / LS / A100x4: at most 12 / 4 instances, cost = sum of loc2's six coefficients x 1472.3 W x 300 s.
  const jp::milp_variable& v = m.variables[(1 * 4 + 2) * 4 + 1];
  CHECK(v.name == "loc2/LS/A100x4");
  CHECK(v.upper == 3.0);
  double e = 0.0;
  for (std::size_t t = 6; t < 12; ++t) e += in.emission.at(t, 1);
  CHECK(v.cost == doctest::Approx(e * 1472.297377 * 300.0));
  check_mentions(error_of([&] { (void)jp::freesh_window_milp(in, 48, jp::freesh_options{}); }), {"window", "48"});
}

TEST_CASE("freesh planner: the SLO filter cuts modes that cannot serve or break a latency limit") {
  const jp::freesh_inputs a = jp::load_freesh_inputs(data, "a"), b = jp::load_freesh_inputs(data, "b");
  const jp::freesh_options o;
  CHECK_FALSE(jp::freesh_allowed(a.profiles, 1, 0, o));  // SL on A100x2: max_qps 0
  CHECK(jp::freesh_allowed(a.profiles, 2, 3, o));        // LS on H100x4: TTFT 405 ms, under the long-prompt 600
  CHECK_FALSE(jp::freesh_allowed(b.profiles, 2, 1, o));  // LS on A100x4 in partition b: TTFT 616 ms > 600
  jp::freesh_options strict = o;
  strict.max_ttft_long_ms = 400.0;
  CHECK_FALSE(jp::freesh_allowed(a.profiles, 2, 3, strict));
  // A cut mode gets upper bound 0 in the program.
  CHECK(jp::freesh_window_milp(b, 0, o).variables[(0 * 4 + 2) * 4 + 1].upper == 0.0);
}

TEST_CASE("freesh planner: the optimum of a small instance, worked out by hand") {
  // SS needs 8 req/s at step 0 (4 at step 1): two A100x2 instances. LL needs 1: loc1's H100x4.
  const jp::freesh_inputs in = tiny("0,0,8,1\n1,300,4,1\n", "0,0,1,0.1\n1,300,1,0.1\n");
  jp::exhaustive_solver solver;
  SUBCASE("carbon: one SS instance on the clean loc2, one on loc1") {
    const auto plans = jp::plan_freesh(in, solver, two_steps(jp::freesh_objective::carbon));
    REQUIRE(plans.size() == 1);
    REQUIRE(plans[0].status == jp::milp_status::optimal);
    // variables: loc1 SS A100x2, SS H100x4, LL A100x2, LL H100x4, then loc2's four
    CHECK(plans[0].instances == std::vector<std::uint32_t>{1, 0, 0, 1, 1, 0, 0, 0});
    CHECK(plans[0].objective == doctest::Approx(1.0 * 700 * 600 + 0.1 * 700 * 600 + 1.0 * 970 * 600));
    CHECK(plans[0].energy_j == doctest::Approx((700.0 * 2 + 970) * 600));
  }
  SUBCASE("energy: the same energy, the objective is the energy") {
    const auto plans = jp::plan_freesh(in, solver, two_steps(jp::freesh_objective::energy));
    REQUIRE(plans[0].status == jp::milp_status::optimal);
    CHECK(plans[0].objective == doctest::Approx((700.0 * 2 + 970) * 600));
    CHECK(plans[0].energy_j == plans[0].objective);
  }
  SUBCASE("beta and headroom scale the demand") {
    jp::freesh_options o = two_steps(jp::freesh_objective::energy);
    o.beta = 2.0;  // SS needs 4 req/s: one instance
    const auto plans = jp::plan_freesh(in, solver, o);
    REQUIRE(plans[0].status == jp::milp_status::optimal);
    CHECK(plans[0].energy_j == doctest::Approx((700.0 + 970) * 600));
    o.headroom = 1.3;  // 5.2 req/s: two again
    CHECK(jp::plan_freesh(in, solver, o)[0].energy_j == doctest::Approx((700.0 * 2 + 970) * 600));
  }
}

TEST_CASE("freesh planner: a negative coefficient pays for idle instances, as in the authors' program") {
  // SS needs 4 req/s (one instance) but loc1's coefficient is negative: every A100 slot there is filled.
  const jp::freesh_inputs in = tiny("0,0,4,1\n1,300,4,1\n", "0,0,-1,0.1\n1,300,-1,0.1\n");
  jp::exhaustive_solver solver;
  const auto plans = jp::plan_freesh(in, solver, two_steps(jp::freesh_objective::carbon));
  REQUIRE(plans[0].status == jp::milp_status::optimal);
  CHECK(plans[0].instances[0] == 2);  // loc1 SS A100x2: both slots
  CHECK(plans[0].objective < 0.0);
}

TEST_CASE("freesh planner: windows cover the series, the last one shorter") {
  const jp::freesh_inputs in = tiny("0,0,4,1\n1,300,4,1\n2,600,8,1\n", "0,0,1,1\n1,300,1,1\n2,600,1,1\n");
  jp::exhaustive_solver solver;
  const auto plans = jp::plan_freesh(in, solver, two_steps(jp::freesh_objective::energy));
  REQUIRE(plans.size() == 2);
  CHECK(plans[1].first_step == 2);
  CHECK(plans[1].steps == 1);
  REQUIRE(plans[1].status == jp::milp_status::optimal);
  CHECK(plans[1].energy_j == doctest::Approx((700.0 * 2 + 970) * 300));  // 8 req/s: two SS instances, one step
}

TEST_CASE("freesh planner: an infeasible window says which limit it hits") {
  jp::exhaustive_solver solver;
  // 16 req/s of SS: H100x4 alone would do, but LL holds it, and three A100x2 give 15.
  const auto together = jp::plan_freesh(tiny("0,0,16,1\n1,300,4,1\n", "0,0,1,1\n1,300,1,1\n"), solver,
                                        two_steps(jp::freesh_objective::energy));
  CHECK(together[0].status == jp::milp_status::infeasible);
  CHECK(together[0].instances.empty());
  CHECK(has(together[0].message, "every class can be served alone"));
  // 40 req/s of SS: more than the whole fleet gives it (3 x 5 + 16).
  const auto alone = jp::plan_freesh(tiny("0,0,40,1\n1,300,4,1\n", "0,0,1,1\n1,300,1,1\n"), solver,
                                     two_steps(jp::freesh_objective::energy));
  CHECK(alone[0].status == jp::milp_status::infeasible);
  check_mentions(alone[0].message, {"class SS alone cannot be served", "40 req/s", "2 modes"});
}

TEST_CASE("freesh planner: options out of range are refused by name") {
  jp::freesh_options o;
  o.beta = 0.0;
  check_mentions(error_of([&] { o.validate(); }), {"beta", "0"});
  o = {};
  o.window_steps = 0;
  check_mentions(error_of([&] { o.validate(); }), {"window_steps"});
  o = {};
  o.max_tbt_ms = std::nan("");
  check_mentions(error_of([&] { o.validate(); }), {"max_tbt_ms", "nan"});
}
