// The policies of the default experiment on the default fleet: reproducible bit for bit, every request
// accounted for, the PI policies tune lambda. Short runs (tens of simulated seconds) to keep the suite fast.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/sim/carbon_accounting.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/scenario.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {

const std::filesystem::path source_dir(JOULESCHED_SOURCE_DIR);

const scenario& the_setup() {
  static const scenario s = scenario::bundled(source_dir / "data");
  return s;
}

constexpr std::int64_t jan1_2021 = 1'609'459'200;  // 2021-01-01 00:00:00 UTC

// A test series (not data): 48 hours per zone, each zone's value cycling through `values` hour by hour.
intensity_series test_grid(const std::vector<std::string>& zones, const std::vector<std::vector<double>>& values) {
  std::vector<double> v;
  for (std::size_t h = 0; h < 48; ++h)
    for (std::size_t z = 0; z < zones.size(); ++z) v.push_back(values[z][h % values[z].size()]);
  return intensity_series(jan1_2021, zones, v, "test grid");
}

// Every run accounts carbon on the default fleet's one site, so that carbon_pi runs beside the others.
const intensity_series& one_site_grid() {
  static const intensity_series g = test_grid({"dc1"}, {{400.0, 350.0, 300.0}});
  return g;
}
engine_options with_carbon(engine_options eo, const scenario& s) {
  eo.carbon = carbon_accounting::for_fleet(s.fleet, one_site_grid(), jan1_2021);
  return eo;
}

// Every one of FREESH's four classes on one group of every device of the fleet.
pool_plan every_device_plan(const scenario& s) {
  plan_group all;
  for (std::size_t i = 0; i < s.devices.size(); ++i) all.devices.push_back(static_cast<device_id>(i));
  all.capacity_rps = 1.0;
  return pool_plan(freesh_request_classes::count, std::vector<plan_group>{all});
}

sim_result run(policy_kind k, std::uint64_t seed, double utilisation, double duration_s,
               queue_discipline q = queue_discipline::edf) {
  const scenario& s = the_setup();
  mix_source src(s.mix, s.load(utilisation, duration_s, seed));
  policy_settings ps;
  ps.seed = seed;
  ps.capacity_request = s.means;
  ps.plans = {every_device_plan(s)};  // freesh_plan's: every class on every device (a plan, not a solved one)
  ps.plan_classes = freesh_request_classes{1000};
  engine_options eo;
  eo.discipline = q;
  eo.window_s = duration_s;
  return run_policy(k, s.devices, s.params, src, ps, with_carbon(eo, s));
}

void check_same(const sim_result& a, const sim_result& b) {
  CHECK(a.read == b.read);
  CHECK(a.completed == b.completed);
  CHECK(a.rejected == b.rejected);
  CHECK(a.energy_j == b.energy_j);  // bit for bit: exact comparisons of doubles
  CHECK(a.energy_total_j == b.energy_total_j);
  CHECK(a.sim_time_s == b.sim_time_s);
  CHECK(a.device_energy_j == b.device_energy_j);
  CHECK(a.output_tok == b.output_tok);
  for (std::size_t t = 0; t < tier_count; ++t) {
    CHECK(a.tiers[t].violations == b.tiers[t].violations);
    CHECK(a.tiers[t].e2e.mean_s == b.tiers[t].e2e.mean_s);
    CHECK(a.tiers[t].e2e.p99_s == b.tiers[t].e2e.p99_s);
    CHECK(a.tiers[t].ttft.p50_s == b.tiers[t].ttft.p50_s);
  }
  REQUIRE(a.types.size() == b.types.size());
  for (std::size_t t = 0; t < a.types.size(); ++t) {
    CHECK(a.types[t].busy_s == b.types[t].busy_s);
    CHECK(a.types[t].bulk_output_tok == b.types[t].bulk_output_tok);
  }
  REQUIRE(a.lambda_trace.size() == b.lambda_trace.size());
  for (std::size_t i = 0; i < a.lambda_trace.size(); ++i) {
    CHECK(a.lambda_trace[i].t_s == b.lambda_trace[i].t_s);
    CHECK(a.lambda_trace[i].lambda_j_per_s == b.lambda_trace[i].lambda_j_per_s);
  }
}

}  // namespace

TEST_CASE("sim_policies.scenario.routers_guard_the_interactive_pacing_target") {
  // Every device serves every class of the default mix, whose strictest pacing target is the interactive TPOT.
  const scenario& s = the_setup();
  REQUIRE(!s.params.empty());
  for (const device_params& p : s.params) CHECK(p.pacing_s == mix_defaults::interactive_tpot_slo_s);
}

TEST_CASE("sim_policies.names.parse") {
  CHECK(parse_policy_list("round_robin,tiered", "--policies") ==
        std::vector<policy_kind>{policy_kind::round_robin, policy_kind::tiered});
  CHECK_THROWS_WITH_AS(
      (void)parse_policy_list("round_robin,fastest", "--policies"),
      doctest::Contains("--policies: policy = 'fastest': must be one of round_robin, capacity_rr, least_loaded"),
      config_error);
  CHECK_THROWS_AS((void)parse_policy_list("round_robin,,tiered", "--policies"), config_error);
  for (const policy_kind k : all_policies) CHECK(parse_policy(to_string(k), "x") == k);
}

// One test case per policy, so that ctest runs them in parallel. Each type names a policy of the registry.
#define JOULESCHED_POLICY_TYPE(name)                       \
  struct name##_policy {                                   \
    static constexpr policy_kind kind = policy_kind::name; \
  };                                                       \
  TYPE_TO_STRING_AS(#name, name##_policy);
JOULESCHED_POLICY_TYPE(round_robin)
JOULESCHED_POLICY_TYPE(capacity_rr)
JOULESCHED_POLICY_TYPE(least_loaded)
JOULESCHED_POLICY_TYPE(power_of_two)
JOULESCHED_POLICY_TYPE(energy_fixed)
JOULESCHED_POLICY_TYPE(energy_pi)
JOULESCHED_POLICY_TYPE(tiered)
JOULESCHED_POLICY_TYPE(energy_profile)
JOULESCHED_POLICY_TYPE(carbon_pi)
JOULESCHED_POLICY_TYPE(freesh_plan)
#undef JOULESCHED_POLICY_TYPE
#define JOULESCHED_EVERY_POLICY                                                                          \
  round_robin_policy, capacity_rr_policy, least_loaded_policy, power_of_two_policy, energy_fixed_policy, \
      energy_pi_policy, tiered_policy, energy_profile_policy, carbon_pi_policy, freesh_plan_policy
static_assert(all_policies.size() == 10, "a new policy of the registry needs its type in JOULESCHED_EVERY_POLICY");

TEST_CASE_TEMPLATE("sim_policies.same_seed_same_result_bit_for_bit", P, JOULESCHED_EVERY_POLICY) {
  const policy_kind k = P::kind;
  const sim_result a = run(k, 11, 0.5, 30.0);
  const sim_result b = run(k, 11, 0.5, 30.0);
  REQUIRE(a.read > 5000);
  check_same(a, b);
  CHECK(a.read == a.completed + a.rejected);
  CHECK(a.policy == to_string(k));
  const bool tunes = tunes_lambda(k);
  CHECK(tunes == (k == policy_kind::energy_pi || k == policy_kind::tiered || k == policy_kind::energy_profile ||
                  k == policy_kind::carbon_pi));
  CHECK(a.lambda_trace.empty() != tunes);
  const sim_result c = run(k, 12, 0.5, 30.0);
  CHECK(c.energy_total_j != a.energy_total_j);
}

TEST_CASE_TEMPLATE("sim_policies.every_request_accounted_for", P, JOULESCHED_EVERY_POLICY) {
  const policy_kind k = P::kind;
  for (const queue_discipline q : {queue_discipline::fcfs, queue_discipline::edf, queue_discipline::llf,
                                   queue_discipline::vtc, queue_discipline::preemptive_llf}) {
    CAPTURE(to_string(q));
    // Overloaded (1.3x saturation) so that queues build up and drain after the window.
    const sim_result r = run(k, 3, 1.3, 10.0, q);
    CHECK(r.read > 0);
    CHECK(r.read == r.completed + r.rejected);
    CHECK(r.rejected == r.rejected_no_fit + r.rejected_no_device + r.rejected_device_too_small);
    CHECK(r.all.read == r.tiers[0].read + r.tiers[1].read);
    CHECK(r.sim_time_s >= r.window_s);
    std::uint64_t completed = 0;
    for (const auto& t : r.types) completed += t.completed;
    CHECK(completed == r.completed);
  }
}

TEST_CASE("sim_policies.lenient_trace.skipped_lines_reported_separately") {
  const auto path = std::filesystem::temp_directory_path() / "joulesched_sim_policies_lenient.csv";
  {
    std::ofstream out(path);
    out << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    out << "2023-11-16 18:15:46.0000000,374,44\n";
    out << "2023-11-16 18:15:46.5000000,not-a-number,44\n";  // skipped
    out << "2023-11-16 18:15:47.0000000,500000,10\n";        // fits no device: rejected
    out << "2023-11-16 18:15:47.5000000,96,20\n";
    out << "bad timestamp,1,1\n";  // skipped
    out << "2023-11-16 18:15:48.0000000,900,300\n";
  }
  CHECK_THROWS_AS((void)read_trace(path), config_error);
  trace_options topt;
  topt.lenient = true;
  auto tr = std::make_shared<const trace>(read_trace(path, topt));
  CHECK(tr->rows.size() == 4);
  CHECK(tr->skipped == 2);
  const scenario& s = the_setup();
  policy_settings ps;
  ps.plans = {every_device_plan(s)};
  ps.plan_classes = freesh_request_classes{1000};
  for (const policy_kind k : all_policies) {
    trace_source src(tr, s.mix, trace_source_options{});
    const sim_result r = run_policy(k, s.devices, s.params, src, ps, with_carbon(engine_options{}, s));
    CHECK(r.read == tr->rows.size());
    CHECK(r.rejected_no_fit == 1);
    CHECK(r.completed == 3);
    CHECK(r.read == r.completed + r.rejected);
    CHECK(r.skipped_input_lines == 0);  // the program sets it from the trace; the run never saw those lines
  }
  std::filesystem::remove(path);
}

TEST_CASE("sim_policies.capacity_rr.shares_requests_by_capacity") {
  // FREESH's oblivious baseline: each device type gets the share of requests its capacity (requests/s at
  // saturation by the mix's mean request) is of the fleet's.
  const scenario& s = the_setup();
  const sim_result r = run(policy_kind::capacity_rr, 4, 0.5, 30.0);
  std::vector<double> capacity(s.devices.type_names.size(), 0.0);
  double total = 0.0;
  for (std::size_t i = 0; i < s.devices.size(); ++i) {
    const double c = saturation_rps(*s.devices.model[i], s.means.input_tok, s.means.output_tok);
    capacity[s.devices.type[i]] += c;
    total += c;
  }
  REQUIRE(r.types.size() == capacity.size());
  for (std::size_t t = 0; t < capacity.size(); ++t) {
    CAPTURE(r.types[t].gpu);
    CHECK(static_cast<double>(r.types[t].completed) / static_cast<double>(r.completed) ==
          doctest::Approx(capacity[t] / total).epsilon(0.01));
  }
}

TEST_CASE("sim_policies.energy_pi.lambda_follows_misses") {
  // Overloaded: misses far above 1%, so the controller raises lambda above its starting value.
  const sim_result r = run(policy_kind::energy_pi, 5, 1.2, 60.0);
  REQUIRE(!r.lambda_trace.empty());
  const lambda_controller_config defaults;
  CHECK(r.lambda_trace.back().lambda_j_per_s > defaults.lambda_initial);
  CHECK(r.lambda_trace.back().miss_rate > defaults.target_miss_rate);
  for (std::size_t i = 1; i < r.lambda_trace.size(); ++i)
    CHECK(r.lambda_trace[i].t_s == doctest::Approx(r.lambda_trace[i - 1].t_s + 1.0));
}

TEST_CASE("sim_policies.energy_pi.lambda_trace_is_bounded_and_evenly_thinned") {
  // 60 ticks into at most 8 samples: the trace is thinned to every 2nd, 4th, 8th tick and stays evenly spaced.
  const scenario& s = the_setup();
  const mix_source_options mo = s.load(1.2, 60.0, 1);
  mix_source src(s.mix, mo);
  policy_settings ps;
  ps.max_lambda_samples = 8;
  engine_options eo;
  eo.window_s = 60.0;
  const sim_result r = run_policy(policy_kind::energy_pi, s.devices, s.params, src, ps, eo);
  REQUIRE(r.lambda_trace.size() >= 4);
  CHECK(r.lambda_trace.size() <= 8);
  const double step = r.lambda_trace[1].t_s - r.lambda_trace[0].t_s;
  CHECK(step >= 8.0);  // >= 60 ticks / 8 samples, a power of two
  CHECK(r.lambda_trace[0].t_s == doctest::Approx(step));
  for (std::size_t i = 1; i < r.lambda_trace.size(); ++i)
    CHECK(r.lambda_trace[i].t_s == doctest::Approx(r.lambda_trace[i - 1].t_s + step));
  CHECK(r.lambda_trace.back().t_s > r.sim_time_s - 2 * step);  // it covers the whole run

  policy_settings odd;
  odd.max_lambda_samples = 7;
  mix_source src2(s.mix, mo);
  CHECK_THROWS_WITH_AS((void)run_policy(policy_kind::energy_pi, s.devices, s.params, src2, odd, eo),
                       doctest::Contains("max_lambda_samples = 7"), config_error);
}

TEST_CASE("sim_policies.carbon_pi.needs_carbon_accounting") {
  const scenario& s = the_setup();
  mix_source src(s.mix, s.load(0.5, 2.0, 1));
  check_mentions(
      error_of([&] { (void)run_policy(policy_kind::carbon_pi, s.devices, s.params, src, policy_settings{}, {}); }),
      {"carbon_pi", "carbon accounting"});
  CHECK(needs_carbon(policy_kind::carbon_pi));
  CHECK(all_policy_names(false).find("carbon_pi") == std::string::npos);
  CHECK(all_policy_names(true).find("carbon_pi") != std::string::npos);
  CHECK(all_policy_names(true).find("freesh_plan") == std::string::npos);  // it needs plans: only when named
}

// Two sites of the default fleet each, one grid 8x cleaner than the other (test values, not data). carbon_pi
// moves the work to the clean site and emits far less than least_loaded and energy_pi, which do not see where the
// carbon is, holding its miss rate at the PI target as energy_pi does.
TEST_CASE("sim_policies.carbon_pi.routes_to_the_cleaner_site_at_iso_slo") {
  fleet_spec f = load_fleet(source_dir / "data" / "fleets" / "default.csv");
  f.sites = {"clean", "dirty"};
  f.site_pue = {1.0, 1.0};
  f.site_network_s = {0.0, 0.0};
  const std::size_t rows = f.rows.size();
  for (std::size_t i = 0; i < rows; ++i) {
    fleet_row r = f.rows[i];
    r.site = 1;
    f.rows.push_back(r);
  }
  const scenario s(std::move(f), the_setup().mix);
  const intensity_series grid = test_grid({"clean", "dirty"}, {{60.0}, {480.0}});
  engine_options eo;
  eo.window_s = 600.0;  // the PI loop settles within a few minutes (its miss window is 60 s)
  eo.carbon = carbon_accounting::for_fleet(s.fleet, grid, jan1_2021);
  const auto run_one = [&](policy_kind k) {
    mix_source src(s.mix, s.load(0.5, 600.0, 3));
    return run_policy(k, s.devices, s.params, src, policy_settings{}, eo);
  };
  const sim_result ll = run_one(policy_kind::least_loaded);
  const sim_result pi = run_one(policy_kind::energy_pi);
  const sim_result carbon = run_one(policy_kind::carbon_pi);
  REQUIRE(carbon.read > 200'000);
  CHECK(carbon.read == carbon.completed + carbon.rejected);
  CHECK(carbon.carbon_g < 0.7 * ll.carbon_g);
  CHECK(carbon.carbon_g < 0.85 * pi.carbon_g);
  // The same PI target as energy_pi (1% by default), held as closely. (Against least_loaded, which misses almost
  // nothing, that is about one point: 1.03% against 0.01% when this was written, just outside "iso-SLO".)
  CHECK(std::abs(carbon.all.violation_rate - pi.all.violation_rate) <= 0.0025);
  // Energy by site (grams / intensity): the clean site serves most of it; it cannot serve all at this load.
  CHECK(carbon.carbon_g_by_site[0] / 60.0 > 2.0 * carbon.carbon_g_by_site[1] / 480.0);
  CHECK(ll.carbon_g_by_site[0] / 60.0 == doctest::Approx(ll.carbon_g_by_site[1] / 480.0).epsilon(0.05));
  MESSAGE("carbon kg: least_loaded ", ll.carbon_g / 1e3, ", energy_pi ", pi.carbon_g / 1e3, ", carbon_pi ",
          carbon.carbon_g / 1e3, "; violations % ", 100 * ll.all.violation_rate, ", ", 100 * pi.all.violation_rate,
          ", ", 100 * carbon.all.violation_rate);
}
