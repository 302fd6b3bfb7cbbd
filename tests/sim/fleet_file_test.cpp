// Fleet files: the format, the errors (file:line:field), the nominal operating point, and the event heap.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "joulesched/sim/event_queue.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/sim_devices.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::sim;

namespace {
const std::filesystem::path devices_dir = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "devices";

fleet_spec parse(const std::string& text) {
  std::istringstream in(text);
  return parse_fleet(in, "fleet.csv", devices_dir);
}

std::string error_of(const std::string& text) {
  try {
    (void)parse(text);
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("sim_fleet_file.default_fleet.has_320_gpus") {
  const fleet_spec spec = load_fleet(std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "fleets" / "default.csv");
  REQUIRE(spec.rows.size() == 3);
  CHECK(spec.device_count() == 320);
  CHECK(spec.rows[0].model.gpu == "A100-SXM4-40GB");
  CHECK(spec.rows[0].count == 160);
  CHECK(spec.rows[1].model.gpu == "H100-SXM5-80GB");
  CHECK(spec.rows[1].count == 128);
  CHECK(spec.rows[2].model.gpu == "L4");
  CHECK(spec.rows[2].count == 32);
  CHECK(spec.sites == std::vector<std::string>{"dc1"});
  const auto row_of = expand(spec);
  CHECK(row_of.size() == 320);
  CHECK(row_of[159] == 0);
  CHECK(row_of[160] == 1);
  CHECK(row_of[319] == 2);
}

TEST_CASE("sim_fleet_file.format.sites_and_optional_column") {
  const fleet_spec a =
      parse("# comment\ndevice_model,count,site\nL4.csv,2,eu-west\nL4.csv,3,us.east_1\nL4.csv,1,eu-west\n");
  CHECK(a.sites == std::vector<std::string>{"eu-west", "us.east_1"});
  CHECK(a.rows[1].site == 1);
  CHECK(a.rows[2].site == 0);
  CHECK(a.device_count() == 6);
  const fleet_spec b = parse("count,device_model\n4,H100-SXM5-80GB.csv\n");
  CHECK(b.sites == std::vector<std::string>{"default"});
  CHECK(b.rows[0].count == 4);
  CHECK(a.site_pue == std::vector<double>{1.0, 1.0});  // no pue column: the IT energy alone
  CHECK(b.site_pue == std::vector<double>{1.0});
}

TEST_CASE("sim_fleet_file.format.latency_per_site") {
  const fleet_spec a = parse(
      "device_model,count,site,latency_ms\nL4.csv,2,eu,12.5\nH100-SXM5-80GB.csv,1,us,80\nH100-SXM5-80GB.csv,1,eu,12."
      "5\n");
  CHECK(a.site_network_s == std::vector<double>{0.0125, 0.08});
  const std::vector<device_params> ps = routing_params(a, operating_point{0.5, 300, 600});
  REQUIRE(ps.size() == 4);
  CHECK(ps[0].network_s == 0.0125);  // routers see each site's round trip
  CHECK(ps[2].network_s == 0.08);
  CHECK(ps[3].network_s == 0.0125);
  CHECK(sim_devices::from(a).network_s == std::vector<double>{0.0125, 0.0125, 0.08, 0.0125});
  CHECK(parse("device_model,count\nL4.csv,2\n").site_network_s == std::vector<double>{0.0});
  CHECK(error_of("device_model,count,site,latency_ms\nL4.csv,2,a,-3\n").find("fleet.csv:2: field latency_ms = '-3'") ==
        0);
  CHECK(error_of("device_model,count,site,latency_ms\nL4.csv,2,a,20000\n") ==
        "fleet.csv:2: field latency_ms = '20000': must be <= 10000 ms (max_latency_ms)");
  CHECK(error_of("device_model,count,site,latency_ms\nL4.csv,2,a,5\nH100-SXM5-80GB.csv,1,a,6\n") ==
        "fleet.csv:3: field latency_ms = '6': differs from site 'a''s latency_ms 5 at fleet.csv:2");
}

TEST_CASE("sim_fleet_file.format.pue_per_site") {
  const fleet_spec a = parse(
      "device_model,count,site,pue\nL4.csv,2,eu-west,1.12\nH100-SXM5-80GB.csv,3,us-east,1.5\nL4.csv,1,eu-west,1.12\n");
  CHECK(a.sites == std::vector<std::string>{"eu-west", "us-east"});
  CHECK(a.site_pue == std::vector<double>{1.12, 1.5});
  CHECK(error_of("device_model,count,site,pue\nL4.csv,2,a,0.9\n") ==
        "fleet.csv:2: field pue = '0.9': must be in [1, 3] (facility energy / IT energy)");
  CHECK(error_of("device_model,count,site,pue\nL4.csv,2,a,150\n") ==
        "fleet.csv:2: field pue = '150': must be in [1, 3] (facility energy / IT energy)");
  CHECK(error_of("device_model,count,site,pue\nL4.csv,2,a,nan\n").find("fleet.csv:2: field pue = 'nan'") == 0);
  // Two rows of one site that disagree: a slip the reader names with both rows.
  CHECK(error_of("device_model,count,site,pue\nL4.csv,2,a,1.2\nH100-SXM5-80GB.csv,1,a,1.3\n") ==
        "fleet.csv:3: field pue = '1.3': differs from site 'a''s PUE 1.2 at fleet.csv:2");
}

TEST_CASE("sim_fleet_file.errors.name_file_line_field") {
  CHECK(error_of("device_model,count,site\nL4.csv,x,a\n") == "fleet.csv:2: field count = 'x': not an unsigned integer");
  CHECK(error_of("device_model,count,site\n\nL4.csv,0,a\n") ==
        "fleet.csv:3: field count = '0': must be in [1, 1000000]");
  CHECK(error_of("device_model,count,site\nL4.csv,-1,a\n") ==
        "fleet.csv:2: field count = '-1': not an unsigned integer");
  CHECK(error_of("device_model,count,site\nL4.csv,2000000,a\n") ==
        "fleet.csv:2: field count = '2000000': must be in [1, 1000000]");
  CHECK(error_of("device_model,count,site\nL4.csv,1,bad site\n").starts_with("fleet.csv:2: field site = 'bad site': "));
  CHECK(
      error_of("device_model,count,site\nL4.csv,1,\n").starts_with("fleet.csv:2: field site = '': must not be empty"));
  CHECK(error_of("device_model,count,site\n,1,a\n")
            .starts_with("fleet.csv:2: field device_model = '': must not be empty"));
  CHECK(error_of("device_model,count,site\nL4.csv,1\n").starts_with("fleet.csv:2: 2 fields, expected 3"));
  CHECK(error_of("device_model,site\nL4.csv,a\n").starts_with("fleet.csv:1: missing column 'count'"));
  CHECK(error_of("# only a comment\n").starts_with("fleet.csv: no header line"));
  CHECK(error_of("device_model,count,site\n").starts_with("fleet.csv: the fleet has no devices"));
  const std::string missing = error_of("device_model,count,site\nL4.csv,1,a\nnope.csv,2,a\n");
  CHECK(missing.starts_with("fleet.csv:3: field device_model = 'nope.csv': cannot load the device model: "));
  CHECK(missing.find("nope.csv") != std::string::npos);
  CHECK(error_of("device_model,count,site\nL4.csv,1000000,a\nL4.csv,1000000,a\nL4.csv,1000000,a\nL4.csv,1000000,a\n"
                 "L4.csv,1,a\n")
            .starts_with("fleet.csv:6: field count = '1': makes the fleet larger than 4000000 devices"));
  CHECK_THROWS_WITH_AS((void)load_fleet("/nonexistent/fleet.csv"), doctest::Contains("/nonexistent/fleet.csv"),
                       config_error);
}

TEST_CASE("sim_fleet_file.errors.inside_a_device_model_name_both_files") {
  const auto dir = std::filesystem::temp_directory_path() / "joulesched_sim_fleet_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream m(dir / "bad.csv");
    m << "parameter,value,unit,source\ngpu,X,,\n";
  }
  {
    std::ofstream f(dir / "fleet.csv");
    f << "device_model,count,site\nbad.csv,1,a\n";
  }
  std::string msg;
  try {
    (void)load_fleet(dir / "fleet.csv");
  } catch (const config_error& e) {
    msg = e.what();
  }
  CHECK(msg.starts_with((dir / "fleet.csv").string() + ":2: field device_model = 'bad.csv': cannot load"));
  CHECK(msg.find((dir / "bad.csv").string()) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("sim_fleet_file.nominal_params.at_the_stated_operating_point") {
  const device_model m = load_device_model(devices_dir / "A100-SXM4-40GB.csv");
  // KV-bound: 0.5 * 135746 / 2000 = 33.9 -> 33 < 0.5 * 320.
  const operating_point op{0.5, 1000, 2000};
  CHECK(nominal_batch(m, op) == 33);
  const device_params p = nominal_params(m, 0, op);
  // params_at_batch(33): a decode step at batch 33 and zero context takes step = base + per_seq * 33, so
  // rate = 33 / step and eps = busy_power(33) * step / 33; context is priced per token of it (ctx_s_per_tok =
  // per_ctx, at the same power), the prefill by the model's own coefficients at its prefill power.
  const double step_s = m.decode_step_base_s + m.decode_step_per_seq_s * 33.0;
  const double w = m.busy_power_w(33);
  CHECK(p.batch == 33.0);
  CHECK(p.site == 0);
  CHECK(p.rate_tok_s == doctest::Approx(33.0 / step_s));
  CHECK(p.energy_j_per_tok == doctest::Approx(w * step_s / 33.0));
  CHECK(p.ctx_s_per_tok == m.decode_step_per_ctx_tok_s);
  CHECK(p.ctx_j_per_tok == doctest::Approx(w * m.decode_step_per_ctx_tok_s));
  CHECK(p.request_s == m.prefill_base_s);
  CHECK(p.request_j == doctest::Approx(m.prefill_power_w * m.prefill_base_s));
  CHECK(p.prefill_s_per_tok == m.prefill_per_tok_s);
  CHECK(p.prefill_j_per_tok == doctest::Approx(m.prefill_power_w * m.prefill_per_tok_s));
  // At the operating point's mean context of 1000 tokens a decode token then costs what the device model says:
  // 1 / rate + per_ctx * 1000 = (step + 33 * per_ctx * 1000) / 33 = 1 / m.rate_tok_s(33, 1000), energies alike.
  CHECK(1.0 / p.rate_tok_s + p.ctx_s_per_tok * 1000.0 == doctest::Approx(1.0 / m.rate_tok_s(33, 1000)));
  CHECK(p.energy_j_per_tok + p.ctx_j_per_tok * 1000.0 == doctest::Approx(m.energy_j_per_tok(33, 1000)));
  // At zero context, the model's own steady decode figures.
  CHECK(p.rate_tok_s == doctest::Approx(m.rate_tok_s(33, 0.0)));
  CHECK(p.energy_j_per_tok == doctest::Approx(m.energy_j_per_tok(33, 0.0)));
  // The step's fixed part is the model's base; the device holds what its KV cache fits of the operating point's
  // requests: 135746 / 2000 = 67.9 -> 67 (the nominal batch at batch_fraction 1).
  CHECK(p.step_s == m.decode_step_base_s);
  CHECK(p.capacity == 67.0);
  CHECK(p.capacity == nominal_batch(m, operating_point{1.0, 1000, 2000}));
  // So the simulator's decode step at any batch b is the router's step_s + b x (1 / rate - step_s / batch).
  for (const double b : {1.0, 10.0, 33.0, 67.0})
    CHECK(p.step_s + b * (1.0 / p.rate_tok_s - p.step_s / p.batch) ==
          doctest::Approx(m.decode_step_base_s + m.decode_step_per_seq_s * b));
  // Batch-bound when requests are small.
  CHECK(nominal_batch(m, operating_point{0.5, 10, 20}) == 160);
  CHECK_THROWS_AS((void)nominal_params(m, 0, operating_point{0.0, 10, 20}), config_error);
  CHECK_THROWS_AS((void)nominal_params(m, 0, operating_point{1.5, 10, 20}), config_error);
  // Saturation throughput: prefill alone, plus the decode share at the full batch.
  const double rps = saturation_rps(m, 1000, 200);
  const std::uint32_t b = nominal_batch(m, operating_point{1.0, 1100, 1200});
  CHECK(rps == doctest::Approx(1.0 / (m.prefill_base_s + m.prefill_per_tok_s * 1000 + 200 / m.rate_tok_s(b, 1100))));
}

TEST_CASE("sim_event_queue.matches_brute_force") {
  constexpr std::uint32_t n = 37;
  event_heap h(n);
  std::vector<double> t(n, event_heap::never);
  std::mt19937_64 g(5);
  std::uniform_int_distribution<int> op(0, 9);
  std::uniform_int_distribution<std::uint32_t> id(0, n - 1);
  std::uniform_int_distribution<int> time(0, 50);  // coarse times: many ties
  for (int step = 0; step < 20000; ++step) {
    const int o = op(g);
    if (o < 6) {
      const std::uint32_t i = id(g);
      t[i] = time(g);
      h.schedule(i, t[i]);
    } else if (o < 8) {
      const std::uint32_t i = id(g);
      t[i] = event_heap::never;
      h.cancel(i);
    } else if (!h.empty()) {
      // Expected: the smallest time, lowest id among ties.
      std::uint32_t best = 0;
      for (std::uint32_t i = 1; i < n; ++i)
        if (t[i] < t[best]) best = i;
      REQUIRE(h.top() == best);
      CHECK(h.top_time_s() == t[best]);
      CHECK(h.pop() == best);
      t[best] = event_heap::never;
    }
    std::size_t pending = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      pending += t[i] != event_heap::never;
      REQUIRE(h.time_of(i) == t[i]);
    }
    REQUIRE(h.size() == pending);
  }
}

// ---- input hardening ----

TEST_CASE("sim_fleet_file.bom_crlf_plus_sign_and_a_repeated_row_warns") {
  const auto path = std::filesystem::path(JOULESCHED_TEST_DATA_DIR) / "devices" / "fleet_bom_crlf_repeat.csv";
  const fleet_spec spec = load_fleet(path);
  CHECK(spec.device_count() == 3);
  CHECK(spec.sites == std::vector<std::string>{"dc1"});
  REQUIRE(spec.warnings.size() == 1);
  joulesched::test::check_mentions(spec.warnings[0], {"fleet_bom_crlf_repeat.csv:3: repeats the device model",
                                                      "at site 'dc1' of", "fleet_bom_crlf_repeat.csv:2"});
  CHECK(parse("device_model,count,site\nL4.csv,2,a\nL4.csv,1,b\n").warnings.empty());  // other site: no repeat
}

TEST_CASE("sim_fleet_file.count_grammar_and_bound") {
  for (const std::string bad : {"2.0", "1e3", "0x10", "\"2 \"", "-1", "inf"}) {
    CAPTURE(bad);
    joulesched::test::check_mentions(error_of("device_model,count\nL4.csv," + bad + "\n"),
                                     {"fleet.csv:2: field count = '", "not an unsigned integer"});
  }
  joulesched::test::check_mentions(error_of("device_model,count\nL4.csv,1000001\n"),
                                   {"fleet.csv:2: field count = '1000001': must be in [1, 1000000]"});
}

TEST_CASE("sim_fleet_file.directories_and_bad_models_are_named") {
  const std::string abs = std::filesystem::absolute(devices_dir).string();
  joulesched::test::check_mentions(joulesched::test::error_of([] { (void)load_fleet(devices_dir); }),
                                   {"'" + abs, "is a directory"});
  // A row naming a directory as its device model: the row, then the model's own message.
  joulesched::test::check_mentions(error_of("device_model,count\n.,1\n"),
                                   {"fleet.csv:2: field device_model = '.'", "cannot read '" + abs, "is a directory"});
  // A model with a coefficient beyond its bound: the row, then the model file's line and field.
  const auto data = std::filesystem::path(JOULESCHED_TEST_DATA_DIR) / "devices";
  std::istringstream in("device_model,count\nbad_prefill_1e300.csv,1\n");
  joulesched::test::check_mentions(joulesched::test::error_of([&] { (void)parse_fleet(in, "f.csv", data); }),
                                   {"f.csv:2: field device_model = 'bad_prefill_1e300.csv'",
                                    "bad_prefill_1e300.csv:13: prefill_per_tok_s = 1e+300", "must be <= 60 s"});
}

TEST_CASE("sim_fleet_file.messages_echo_bounded_escaped") {
  const std::string msg = error_of("device_model,count,site\nL4.csv,1," + std::string(50'000, 's') + "\x01\n");
  joulesched::test::check_mentions(msg, {"fleet.csv:2: field site = 'sss", "... (50001 bytes)'"});
  CHECK(msg.size() < 300);
}

TEST_CASE("sim_fleet_file.many_rows_and_sites_stay_fast") {
  // 100,000 rows, each its own site, one model: the model is read once and sites are found in a map (each
  // row used to re-read its model file and search the list of sites: quadratic).
  std::string text = "device_model,count,site\n";
  for (int i = 0; i < 100'000; ++i) text += "L4.csv,1,s" + std::to_string(i) + "\n";
  const fleet_spec spec = parse(text);
  CHECK(spec.device_count() == 100'000);
  CHECK(spec.sites.size() == 100'000);
  CHECK(spec.rows.back().site == 99'999);
  CHECK(spec.rows.back().model.gpu == "L4");
  CHECK(spec.warnings.empty());
}
