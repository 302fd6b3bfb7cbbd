// The policies of the default experiment on the default fleet: reproducible bit for bit, every request
// accounted for, the PI policies tune lambda. Short runs (tens of simulated seconds) to keep the suite fast.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/scenario.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {

const std::filesystem::path source_dir(JOULESCHED_SOURCE_DIR);

const scenario& the_setup() {
  static const scenario s = scenario::bundled(source_dir / "data");
  return s;
}

sim_result run(policy_kind k, std::uint64_t seed, double utilisation, double duration_s,
               queue_discipline q = queue_discipline::edf) {
  const scenario& s = the_setup();
  mix_source src(s.mix, s.load(utilisation, duration_s, seed));
  policy_settings ps;
  ps.seed = seed;
  engine_options eo;
  eo.discipline = q;
  eo.window_s = duration_s;
  return run_policy(k, s.devices, s.params, src, ps, eo);
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

TEST_CASE("sim_policies.names.parse") {
  CHECK(parse_policy_list("round_robin,tiered", "--policies") ==
        std::vector<policy_kind>{policy_kind::round_robin, policy_kind::tiered});
  CHECK_THROWS_WITH_AS((void)parse_policy_list("round_robin,fastest", "--policies"),
                       doctest::Contains("--policies: policy = 'fastest': must be one of round_robin, least_loaded"),
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
JOULESCHED_POLICY_TYPE(least_loaded)
JOULESCHED_POLICY_TYPE(power_of_two)
JOULESCHED_POLICY_TYPE(energy_fixed)
JOULESCHED_POLICY_TYPE(energy_pi)
JOULESCHED_POLICY_TYPE(tiered)
JOULESCHED_POLICY_TYPE(energy_profile)
#undef JOULESCHED_POLICY_TYPE
#define JOULESCHED_EVERY_POLICY                                                                                       \
  round_robin_policy, least_loaded_policy, power_of_two_policy, energy_fixed_policy, energy_pi_policy, tiered_policy, \
      energy_profile_policy
static_assert(all_policies.size() == 7, "a new policy of the registry needs its type in JOULESCHED_EVERY_POLICY");

TEST_CASE_TEMPLATE("sim_policies.same_seed_same_result_bit_for_bit", P, JOULESCHED_EVERY_POLICY) {
  const policy_kind k = P::kind;
  const sim_result a = run(k, 11, 0.5, 30.0);
  const sim_result b = run(k, 11, 0.5, 30.0);
  REQUIRE(a.read > 5000);
  check_same(a, b);
  CHECK(a.read == a.completed + a.rejected);
  CHECK(a.policy == to_string(k));
  const bool tunes = tunes_lambda(k);
  CHECK(tunes == (k == policy_kind::energy_pi || k == policy_kind::tiered || k == policy_kind::energy_profile));
  CHECK(a.lambda_trace.empty() != tunes);
  const sim_result c = run(k, 12, 0.5, 30.0);
  CHECK(c.energy_total_j != a.energy_total_j);
}

TEST_CASE_TEMPLATE("sim_policies.every_request_accounted_for", P, JOULESCHED_EVERY_POLICY) {
  const policy_kind k = P::kind;
  for (const queue_discipline q : {queue_discipline::fcfs, queue_discipline::edf, queue_discipline::llf}) {
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
  for (const policy_kind k : all_policies) {
    trace_source src(tr, s.mix, trace_source_options{});
    const sim_result r = run_policy(k, s.devices, s.params, src, policy_settings{}, engine_options{});
    CHECK(r.read == tr->rows.size());
    CHECK(r.rejected_no_fit == 1);
    CHECK(r.completed == 3);
    CHECK(r.read == r.completed + r.rejected);
    CHECK(r.skipped_input_lines == 0);  // the program sets it from the trace; the run never saw those lines
  }
  std::filesystem::remove(path);
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
