// joulesched-sim: runs routing policies over a simulated GPU fleet and prints what each costs in energy and
// latency. The engine, routers, queues, estimators and controller are the library's own (include/joulesched/);
// this file only reads options, builds the workload and prints.
//
//   joulesched-sim                                   # the default experiment: every policy, table
//   joulesched-sim --format json > results.json      # the same, as JSON (scripts/plot_results.py draws it)
//   joulesched-sim --policies energy_pi --lambda-trace lambda.csv --duration 3600
//   joulesched-sim --trace mytrace.jsonl --utilisation 0.4
//   joulesched-sim --carbon grid.csv --start "2023-06-01 00:00:00"   # operational carbon too (sites = zones)
//
// The load: --utilisation U sets the arrival rate to U x the fleet's saturation throughput for the workload's
// mean request (fleet_file.hpp, saturation_rps). Default U = 0.5, an ASSUMPTION: the diurnal peak of Alibaba's
// production traffic is 1.25x its daily mean (ServeGen m-large, data/traces/servegen_diurnal_shape.csv), and a
// fleet provisioned to run at most ~60-65% of saturation at that peak (headroom for bursts and for the latency
// SLOs, which fail well before saturation) runs at 0.5 on average. A trace is replayed at its recorded times
// unless --utilisation or --load-scale is given (see build()).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "joulesched/carbon/forecast.hpp"
#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/carbon/temporal_shift.hpp"
#include "joulesched/detail/number.hpp"
#include "joulesched/sim/carbon_accounting.hpp"
#include "joulesched/sim/client_source.hpp"
#include "joulesched/sim/dvfs.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/freesh_program.hpp"
#include "joulesched/sim/input_bounds.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/scenario.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload.hpp"
#if JOULESCHED_SIM_HAVE_GLPK
#include "joulesched/plan/glpk_solver.hpp"
#endif

#ifndef JOULESCHED_DATA_DIR
#define JOULESCHED_DATA_DIR "data"
#endif

namespace js = joulesched;
namespace sim = joulesched::sim;
namespace fs = std::filesystem;

namespace {

// The options as given. Numbers are kept as text and read by joulesched's one number grammar (detail/number.hpp),
// so that '-1' is no seed, '0x10' no utilisation, and every file and flag reads numbers alike.
struct option_text {
  std::string seed = "1";
  std::string slots = "0";
  std::string plan_capacity = "1";
  std::string laxity_margin = "0";
  std::optional<std::string> utilisation, load_scale, duration_s, start_hour;
  std::string estimate_error = "0.12";
};

struct options {
  std::string data_dir = JOULESCHED_DATA_DIR;
  std::string fleet_path;  // default: <data_dir>/fleets/default.csv
  std::string trace_path;  // empty: the default mix; "default": the bundled Azure excerpt
  std::string policies;    // empty: every policy (carbon_pi only with --carbon)
  std::uint64_t seed = 1;
  std::optional<double> utilisation;
  std::optional<double> load_scale;
  std::optional<double> duration_s;
  std::string queue = "edf";
  std::uint32_t slots = 0;          // running slots per device with --queue preemptive_llf (0: the device's max_batch)
  double laxity_margin_s = 0.0;     // preempt only when laxities differ by more (FREESH: 0)
  std::string resume = "resident";  // what a preempted request keeps: resident (its KV) or recompute
  std::string plan_objective;       // freesh_plan's: carbon or energy (empty: carbon with --carbon, else energy)
  double plan_capacity = 1.0;       // freesh_plan's instance capacity, a fraction of saturation
  std::string pi_target = "any";    // the SLO kind the PI policies hold at target (slo.hpp)
  bool pi_target_given = false;
  double estimate_error = 0.12;
  bool diurnal = false;
  std::optional<double> start_hour;
  bool lenient = false;
  std::string format = "table";
  std::string lambda_trace_path;
  std::string carbon_path;            // empty: no carbon accounting
  std::optional<std::string> start;   // UTC time at simulated time 0, with --carbon (default: the series' start)
  std::string shift = "off";          // temporal shifting of bulk work: off, perfect or persistence (with --carbon)
  std::string dvfs_path;              // a clock curve: devices get its operating points (empty: none, or the
                                      // default curve with --governor miad)
  std::string governor = "off";       // FREESH's clock governor: off or miad
  std::string clients = "4";          // a count of equal clients, or a comma list of their shares
  std::vector<double> client_shares;  // parsed from `clients`
  bool quiet = false;
};

double parse_number(const std::string& text, const char* flag) {
  const std::optional<double> v = js::detail::parse_decimal(text);
  if (!v) js::detail::fail(flag, "value", "'" + text + "'", "must be a decimal number such as 0.5 or 3600");
  return *v;
}

// --clients: a whole number N (N equal clients, 1 .. bounds::max_clients), or a comma list of shares (each finite
// and >= 0, not all 0; client_source checks them).
std::vector<double> parse_clients(const std::string& text) {
  if (text.find(',') == std::string::npos) {
    const std::optional<std::uint64_t> n = js::detail::parse_unsigned(text);
    if (!n || *n < 1 || *n > sim::bounds::max_clients)
      js::detail::fail("--clients", "value", "'" + text + "'",
                       "must be a count in [1, " + std::to_string(sim::bounds::max_clients) +
                           "] or a comma list of shares such as 4,1,1,1");
    return std::vector<double>(*n, 1.0);
  }
  std::vector<double> shares;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::optional<double> v = js::detail::parse_decimal(item);
    if (!v || *v < 0.0)
      js::detail::fail("--clients", "share " + std::to_string(shares.size()), "'" + item + "'",
                       "must be a decimal number >= 0");
    shares.push_back(*v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (shares.size() > sim::bounds::max_clients)
    js::detail::fail("--clients", "shares", shares.size(), "must be at most bounds::max_clients");
  if (std::all_of(shares.begin(), shares.end(), [](double x) { return x == 0.0; }))
    js::detail::fail("--clients", "value", "'" + text + "'", "must not give every client a share of 0");
  return shares;
}

// Reads the numeric options and checks every bound that does not depend on the fleet or the trace.
void read_numbers(const option_text& t, options& o) {
  const std::optional<std::uint64_t> seed = js::detail::parse_unsigned(t.seed);
  if (!seed) js::detail::fail("--seed", "value", "'" + t.seed + "'", "must be a whole number in [0, 2^64)");
  o.seed = *seed;
  const std::optional<std::uint64_t> slots = js::detail::parse_unsigned(t.slots);
  if (!slots || *slots > sim::bounds::max_batch)
    js::detail::fail(
        "--slots", "value", "'" + t.slots + "'",
        "must be a whole number in [0, " + std::to_string(sim::bounds::max_batch) + "] (0: each device's max_batch)");
  o.slots = static_cast<std::uint32_t>(*slots);
  if (o.slots > 0 && o.queue != "preemptive_llf")
    js::detail::fail("--slots", "value", o.slots, "applies only with --queue preemptive_llf");
  o.plan_capacity = parse_number(t.plan_capacity, "--plan-capacity");
  if (!(o.plan_capacity > 0.0 && o.plan_capacity <= 1.0))
    js::detail::fail("--plan-capacity", "value", o.plan_capacity, "must be in (0, 1] (a fraction of saturation)");
  o.laxity_margin_s = parse_number(t.laxity_margin, "--laxity-margin");
  if (!(o.laxity_margin_s >= 0.0 && o.laxity_margin_s <= sim::bounds::max_window_s))
    js::detail::fail("--laxity-margin", "value", o.laxity_margin_s, "must be in [0, a year] s");
  if (o.laxity_margin_s > 0.0 && o.queue != "preemptive_llf")
    js::detail::fail("--laxity-margin", "value", o.laxity_margin_s, "applies only with --queue preemptive_llf");
  if (o.resume != "resident" && o.resume != "recompute")
    js::detail::fail("--resume", "value", "'" + o.resume + "'", "must be resident or recompute");
  if (o.resume != "resident" && o.queue != "preemptive_llf")
    js::detail::fail("--resume", "value", "'" + o.resume + "'", "applies only with --queue preemptive_llf");
  if (t.utilisation) {
    o.utilisation = parse_number(*t.utilisation, "--utilisation");
    if (!(*o.utilisation > 0.0 && *o.utilisation <= sim::bounds::max_utilisation))
      js::detail::fail("--utilisation", "value", *o.utilisation,
                       "must be in (0, " + std::to_string(sim::bounds::max_utilisation) + "] (of saturation)");
  }
  if (t.load_scale)
    o.load_scale = js::detail::require_positive(parse_number(*t.load_scale, "--load-scale"), "--load-scale", "value");
  if (t.duration_s) {
    o.duration_s = parse_number(*t.duration_s, "--duration");
    if (!(*o.duration_s >= sim::bounds::min_window_s && *o.duration_s <= sim::bounds::max_window_s))
      js::detail::fail("--duration", "value", *o.duration_s,
                       "must be in [" + js::detail::shortest(sim::bounds::min_window_s) + ", " +
                           std::to_string(sim::bounds::max_window_s) + "] s (a millisecond to a year)");
  }
  o.estimate_error = parse_number(t.estimate_error, "--estimate-error");
  if (!(o.estimate_error >= 0.0 && o.estimate_error <= 10.0))
    js::detail::fail("--estimate-error", "value", o.estimate_error, "must be in [0, 10]");
  if (t.start_hour) {
    o.start_hour = parse_number(*t.start_hour, "--start-hour");
    if (!(*o.start_hour >= 0.0 && *o.start_hour < 24.0))
      js::detail::fail("--start-hour", "value", *o.start_hour, "must be in [0, 24)");
    if (!o.diurnal) js::detail::fail("--start-hour", "value", *o.start_hour, "applies only with --diurnal");
  }
  o.client_shares = parse_clients(o.clients);
  if (o.lenient && o.trace_path.empty())
    throw js::config_error("--lenient: applies only with --trace (it skips bad trace lines; there is no trace here)");
  if (o.diurnal && !o.trace_path.empty())
    js::detail::fail("--diurnal", "with --trace", js::detail::echo_path(o.trace_path),
                     "shapes the default mix's rate only; a trace keeps the shape of its own arrivals");
}

constexpr double default_utilisation = 0.5;    // see the file note
constexpr double default_duration_s = 3600.0;  // one simulated hour: the PI controller settles within ~2 min

sim::queue_discipline parse_queue(const std::string& s) {
  if (s == "fcfs") return sim::queue_discipline::fcfs;
  if (s == "edf") return sim::queue_discipline::edf;
  if (s == "llf") return sim::queue_discipline::llf;
  if (s == "vtc") return sim::queue_discipline::vtc;
  if (s == "preemptive_llf") return sim::queue_discipline::preemptive_llf;
  js::detail::fail("--queue", "queue", "'" + s + "'", "must be fcfs, edf, llf, vtc or preemptive_llf");
}

// What freesh_plan's planning did, for the table and the JSON.
struct plan_summary {
  bool planned = false;
  std::string objective;
  std::uint32_t prompt_cut_tok = 0;
  std::size_t windows = 0, infeasible = 0;
  double window_s = 0.0;
};

// Everything the policies share: the fleet, the workload, the load.
struct experiment {
  std::optional<sim::scenario> s;           // the fleet, the mix and what follows from them (set by build)
  std::shared_ptr<const sim::trace> trace;  // null: the mix generates requests
  double utilisation = 0;                   // offered load / saturation throughput
  double rate_rps = 0;                      // mean arrival rate
  double load_scale = 1;                    // trace time compression (trace only)
  std::size_t trace_copies = 1;             // copies of the trace replayed one after the other to fill the window
  double window_s = 0;                      // measurement window = arrival window
  sim::rate_shape shape;
  plan_summary plan;  // freesh_plan's windows, when it runs
  std::string workload_name;
  std::vector<std::string> warnings;                 // printed on stderr and listed in the JSON
  std::shared_ptr<const js::intensity_series> grid;  // --carbon: the hourly intensity per zone; null: none
  std::string carbon_source, start_text;             // the file and the UTC start, as given or defaulted
  std::optional<sim::carbon_accounting> carbon;      // the fleet's sites in `grid`, from the start (with grid)
  std::string dvfs_path;                             // the clock curve the devices' points follow; empty: none
};

// Mean tokens over the rows some device of the fleet can hold; rows none can hold are rejected (no_fit) in the
// run, so they must not set the load either. Warns about them, and about one row that holds a large share of
// the trace's tokens, since the saturation, and so the scaling of the trace, then rests on that row alone.
sim::token_means servable_means(const sim::trace& tr, const sim::fleet_spec& fleet,
                                std::vector<std::string>& warnings) {
  std::uint64_t max_kv = 0;
  for (const auto& r : fleet.rows) max_kv = std::max(max_kv, r.model.kv_capacity_tok);
  double in = 0, out = 0, largest = 0;
  std::size_t n = 0, unfit = 0;
  for (const auto& r : tr.rows) {
    const std::uint64_t need = std::uint64_t{r.input_tok} + r.output_tok;
    if (need > max_kv) {
      ++unfit;
      continue;
    }
    ++n;
    in += r.input_tok;
    out += r.output_tok;
    largest = std::max(largest, static_cast<double>(need));
  }
  // Rows some device types cannot hold: the saturation still counts those types' throughput.
  std::vector<std::string> seen;
  for (const auto& fr : fleet.rows) {
    if (std::find(seen.begin(), seen.end(), fr.model.gpu) != seen.end()) continue;
    seen.push_back(fr.model.gpu);
    const std::size_t too_big =
        static_cast<std::size_t>(std::count_if(tr.rows.begin(), tr.rows.end(), [&](const auto& r) {
          const std::uint64_t need = std::uint64_t{r.input_tok} + r.output_tok;
          return need > fr.model.kv_capacity_tok && need <= max_kv;
        }));
    if (too_big > 0)
      warnings.push_back(tr.source + ": " + std::to_string(too_big) + " rows fit other devices but not " +
                         js::detail::echo(fr.model.gpu) + "'s KV cache (" + std::to_string(fr.model.kv_capacity_tok) +
                         " tokens); the saturation counts its throughput for them anyway, and a router that places "
                         "them there rejects them (rejected_device_too_small)");
  }
  if (unfit > 0)
    warnings.push_back(tr.source + ": " + std::to_string(unfit) + " of " + std::to_string(tr.rows.size()) +
                       " rows need more KV cache than any device holds (" + std::to_string(max_kv) +
                       " tokens); they will be rejected as no_fit and do not count towards the load");
  if (n == 0) js::detail::fail(tr.source, "rows", tr.rows.size(), "no row fits any device of the fleet");
  // ASSUMPTION: 10% of a trace's tokens in one row of at least ten is an outlier worth a word.
  constexpr double dominant_share = 0.10;
  if (n >= 10 && largest > dominant_share * (in + out))
    warnings.push_back(tr.source + ": one row holds " + std::to_string(static_cast<int>(100 * largest / (in + out))) +
                       "% of the trace's tokens; the saturation estimate, and so the load, rests on it");
  return {in / static_cast<double>(n), out / static_cast<double>(n)};
}

experiment build(const options& o) {
  experiment e;
  const fs::path data(o.data_dir);
  sim::fleet_spec fleet =
      sim::load_fleet(o.fleet_path.empty() ? data / "fleets" / "default.csv" : fs::path(o.fleet_path));
  e.warnings.insert(e.warnings.end(), fleet.warnings.begin(), fleet.warnings.end());
  sim::workload_mix mix = sim::default_mix(data / "traces" / "azure_conv_2023_excerpt.csv");
  if (o.diurnal) {
    const fs::path shape_file = data / "traces" / "servegen_diurnal_shape.csv";
    e.shape = sim::diurnal_shape_servegen(shape_file, "m-large", o.start_hour.value_or(0.0) * 3600.0);
    // --start-hour is a time of day: the shape must cover exactly one.
    if (std::abs(e.shape.period_s() - 86400.0) > 1e-6)
      js::detail::fail(js::detail::echo_path(shape_file), "the shape's span",
                       js::detail::shortest(e.shape.period_s()) + " s", "must be one day (86400 s) for --diurnal");
  }

  std::optional<sim::token_means> means;  // a trace's; none: the mix's
  if (!o.trace_path.empty()) {
    const fs::path tp =
        o.trace_path == "default" ? data / "traces" / "azure_conv_2023_excerpt.csv" : fs::path(o.trace_path);
    js::sim::trace_options topt;
    topt.lenient = o.lenient;
    e.trace = std::make_shared<const sim::trace>(sim::read_trace(tp, topt));
    e.warnings.insert(e.warnings.end(), e.trace->warnings.begin(), e.trace->warnings.end());
    means = servable_means(*e.trace, fleet, e.warnings);
    e.workload_name = "trace " + tp.string() + " (" + std::to_string(e.trace->rows.size()) + " rows, " +
                      std::to_string(e.trace->skipped) + " skipped), classes by the default mix's shares";
  } else {
    e.workload_name = "default mix (64% chat, 28% rag, 8% batch)";
  }
  e.s.emplace(std::move(fleet), std::move(mix), means);

  if (e.trace) {
    // A trace keeps its own shape. Alone, it is replayed at its recorded times over its span. With
    // --utilisation U its time is scaled so that the mean rate is U x saturation (from the trace's own length
    // mix), and with --load-scale by that factor; either way it is tiled, copy after copy, to fill the window
    // (--duration; one hour under --utilisation; else one copy).
    const double span_s = e.trace->rows.back().arrival_s;
    const double rows = static_cast<double>(e.trace->rows.size());
    if (span_s > 0) {
      const double trace_rps = rows / span_s;
      e.load_scale = o.load_scale    ? *o.load_scale
                     : o.utilisation ? *o.utilisation * e.s->saturation_rps / trace_rps
                                     : 1.0;
      e.window_s = o.duration_s ? *o.duration_s : o.utilisation ? default_duration_s : span_s / e.load_scale;
      e.rate_rps = trace_rps * e.load_scale;
      const double copies = std::max(1.0, std::ceil(e.window_s / (span_s / e.load_scale)));
      if (!(copies * rows <= sim::bounds::max_expected_requests))
        js::detail::fail(o.load_scale ? "--load-scale" : "--duration", "trace copies to fill the window", copies,
                         "times " + std::to_string(e.trace->rows.size()) + " rows must be at most " +
                             std::to_string(sim::bounds::max_expected_requests) + " requests");
      e.trace_copies = static_cast<std::size_t>(copies);
    } else {
      if (o.utilisation)
        js::detail::fail(e.trace->source, "arrival span", span_s,
                         "a trace must span > 0 s to be replayed at a utilisation (every row arrives at once)");
      e.window_s = o.duration_s.value_or(0.0);  // 0: the window is the run
      if (o.load_scale)
        e.warnings.push_back("--load-scale has no effect: every row of " + e.trace->source + " arrives at once");
    }
    e.utilisation = e.rate_rps / e.s->saturation_rps;
  } else {
    e.load_scale = o.load_scale.value_or(1.0);
    e.utilisation = o.utilisation.value_or(default_utilisation) * e.load_scale;
    e.rate_rps = e.utilisation * e.s->saturation_rps;
    e.window_s = o.duration_s.value_or(default_duration_s);
  }
  // The bounds that follow from the fleet and the workload (input_bounds.hpp).
  const std::string load_flag = o.load_scale    ? "--load-scale"
                                : o.utilisation ? "--utilisation"
                                : e.trace       ? e.trace->source + " (replayed at its recorded times)"
                                                : "the default load";
  if (!(e.window_s <= sim::bounds::max_window_s))
    js::detail::fail(load_flag, "resulting window", std::to_string(e.window_s) + " s",
                     "must be at most " + std::to_string(sim::bounds::max_window_s) + " s (a year); set --duration");
  if (e.window_s > 0.0 && e.window_s < sim::bounds::min_window_s)
    js::detail::fail(load_flag, "resulting window", js::detail::shortest(e.window_s) + " s",
                     "must be at least " + js::detail::shortest(sim::bounds::min_window_s) + " s; set --duration");
  if (!(e.utilisation <= sim::bounds::max_utilisation))
    js::detail::fail(load_flag, "resulting utilisation", e.utilisation,
                     "must be at most " + std::to_string(sim::bounds::max_utilisation) + " of saturation");
  // A rate shape has mean 1 over its cycle; its peak sets the highest load, and a short window may see only it.
  const double peak =
      e.shape.multipliers.empty() ? 1.0 : *std::max_element(e.shape.multipliers.begin(), e.shape.multipliers.end());
  if (!(e.utilisation * peak <= sim::bounds::max_utilisation))
    js::detail::fail("--diurnal", "peak utilisation", e.utilisation * peak,
                     "(utilisation x the rate shape's peak multiplier " + js::detail::shortest(peak) +
                         ") must be at most " + std::to_string(sim::bounds::max_utilisation) + " of saturation");
  if (!(e.rate_rps * peak * e.window_s <= sim::bounds::max_expected_requests))
    js::detail::fail("the run", "expected requests", e.rate_rps * e.window_s,
                     "must be at most " + std::to_string(sim::bounds::max_expected_requests) +
                         " (about 13 minutes of simulation per policy); shorten --duration or lower the load");
  if (e.utilisation > 1.0)
    e.warnings.push_back("utilisation " + std::to_string(e.utilisation) +
                         " is above saturation: queues grow for as long as the window lasts");
  else if (e.utilisation * peak > 1.0)
    e.warnings.push_back("the rate shape's peak puts the load at " + std::to_string(e.utilisation * peak) +
                         " of saturation: queues grow while it lasts");
  return e;
}

// nlohmann::json writes a NaN or an infinity as null; a result must never hold one.
void require_finite_numbers(const nlohmann::ordered_json& j, const std::string& path) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    throw std::logic_error("joulesched-sim: the result " + path + " is not finite");
  if (j.is_object())
    for (const auto& [k, v] : j.items()) require_finite_numbers(v, path + "." + k);
  if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) require_finite_numbers(j[i], path + "[" + std::to_string(i) + "]");
}

std::unique_ptr<js::sim::request_source> make_source(const experiment& e, const options& o) {
  if (e.trace) {
    sim::trace_source_options t;
    t.load_scale = e.load_scale;
    t.copies = e.trace_copies;
    t.seed = o.seed;
    return std::make_unique<sim::trace_source>(e.trace, e.s->mix, t);
  }
  sim::mix_source_options m;
  m.rate_rps = e.rate_rps;
  m.duration_s = e.window_s;
  m.shape = e.shape;
  m.seed = o.seed;
  return std::make_unique<sim::mix_source>(e.s->mix, m);
}

std::string type_summary(const experiment& e) {
  std::string s;
  for (const auto& r : e.s->fleet.rows) {
    if (!s.empty()) s += ", ";
    // Names come from files: echoed bounded and escaped, as in error messages.
    s += std::to_string(r.count) + " " + js::detail::echo(r.model.gpu) + "@" +
         js::detail::echo(e.s->fleet.sites[r.site]);
  }
  return s;
}

double ms(double s) { return s * 1e3; }

// What was done to the trace to fill the window: copies and time scale.
std::string replay_summary(const experiment& e) {
  const double span_s = e.trace->rows.back().arrival_s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "trace replay: %zu cop%s of %.0f s, time %s %.4g (one copy lasts %.4g s), cut at the "
                "%.0f s window",
                e.trace_copies, e.trace_copies == 1 ? "y" : "ies", span_s,
                e.load_scale == 1.0 ? "as recorded, scale" : "compressed by", e.load_scale, span_s / e.load_scale,
                e.window_s);
  return buf;
}

void print_table(const experiment& e, const options& o, const std::vector<sim::sim_result>& rs) {
  std::printf("joulesched-sim: fleet %s: %zu devices (%s)\n", e.s->fleet.source.c_str(), e.s->devices.size(),
              type_summary(e).c_str());
  std::printf("workload: %s; mean %.0f input / %.0f output tokens; %s\n", e.workload_name.c_str(), e.s->means.input_tok,
              e.s->means.output_tok, o.diurnal ? "ServeGen diurnal rate shape" : "constant rate");
  std::printf(
      "load: utilisation %.2f of %.0f req/s saturation = %.1f req/s; window %.0f s; queue %s; "
      "estimate error %.0f%% MAE; seed %llu\n\n",
      e.utilisation, e.s->saturation_rps, e.rate_rps, e.window_s, o.queue.c_str(), o.estimate_error * 100,
      static_cast<unsigned long long>(o.seed));
  if (e.trace) std::printf("%s\n\n", replay_summary(e).c_str());
  std::printf("%-13s %9s %8s %7s %6s %7s %7s %8s %8s %7s %6s %6s %6s %7s %7s %9s %8s %7s %6s\n", "policy", "energy_MJ",
              "MJ/h", "avg_kW", "J/tok", "p50_ms", "p90_ms", "p99_ms", "ttft99ms", "viol%", "ttft%", "tbt%", "e2e%",
              "inter%", "bulk%", "completed", "rejected", "drain_s", "wall_s");
  for (const auto& r : rs) {
    const sim::slo_misses& m = r.all.misses;
    std::printf(
        "%-13s %9.2f %8.2f %7.1f %6.3f %7.0f %7.0f %8.0f %8.0f %7.2f %6.2f %6.2f %6.2f %7.2f %7.2f %9llu %8llu "
        "%7.0f %6.2f\n",
        r.policy.c_str(), r.energy_j / 1e6, r.energy_mj_per_h, r.avg_power_w / 1e3, r.energy_j_per_output_tok,
        ms(r.all.e2e.p50_s), ms(r.all.e2e.p90_s), ms(r.all.e2e.p99_s), ms(r.all.ttft.p99_s), 100 * r.all.violation_rate,
        100 * m.rate_of(sim::slo_kind::ttft), 100 * m.rate_of(sim::slo_kind::tbt), 100 * m.rate_of(sim::slo_kind::e2e),
        100 * r.tiers[0].violation_rate, 100 * r.tiers[1].violation_rate, static_cast<unsigned long long>(r.completed),
        static_cast<unsigned long long>(r.rejected), r.sim_time_s - r.window_s, r.wall_s);
  }
  if (rs.empty()) return;
  if (e.grid) {
    const auto& pue = e.s->fleet.site_pue;
    std::string pues;
    if (std::all_of(pue.begin(), pue.end(), [](double x) { return x == 1.0; })) {
      pues = "PUE 1 at every site";
    } else {
      for (std::size_t i = 0; i < pue.size(); ++i)
        pues +=
            (i == 0 ? "PUE " : ", ") + js::detail::echo(e.s->fleet.sites[i], 12) + " " + js::detail::shortest(pue[i]);
    }
    std::printf("\noperational carbon (%s from %s UTC, %s): window kg / kg per site\n%-13s %10s",
                e.carbon_source.c_str(), e.start_text.c_str(), pues.c_str(), "policy", "carbon_kg");
    for (const auto& site : e.s->fleet.sites) std::printf(" %12s", js::detail::echo(site, 12).c_str());
    std::printf("\n");
    for (const auto& r : rs) {
      std::printf("%-13s %10.3f", r.policy.c_str(), r.carbon_g / 1e3);
      for (const double g : r.carbon_g_by_site) std::printf(" %12.3f", g / 1e3);
      if (o.shift != "off")
        std::printf("   %llu bulk held, mean %.0f s", static_cast<unsigned long long>(r.deferred), r.deferred_mean_s);
      std::printf("\n");
    }
  }
  if (e.plan.planned) {
    std::printf(
        "\nfreesh_plan: %zu windows of %s s planned by GLPK (%s objective, prompt cut %u tokens), %zu without "
        "a plan\n",
        e.plan.windows, js::detail::shortest(e.plan.window_s).c_str(), e.plan.objective.c_str(), e.plan.prompt_cut_tok,
        e.plan.infeasible);
    for (const auto& r : rs)
      if (r.policy == "freesh_plan")
        std::printf("%-13s %llu requests routed outside the plan (least loaded)\n", r.policy.c_str(),
                    static_cast<unsigned long long>(r.plan_fallbacks));
  }
  if (o.queue == "preemptive_llf") {
    std::printf(
        "\npreemptive least laxity first (%s slots, laxity margin %s s, preempted requests %s): running requests "
        "preempted / tokens recomputed\n",
        o.slots > 0 ? std::to_string(o.slots).c_str() : "max_batch", js::detail::shortest(o.laxity_margin_s).c_str(),
        o.resume == "resident" ? "keep their KV" : "recompute");
    for (const auto& r : rs)
      std::printf("%-13s %10llu / %llu\n", r.policy.c_str(), static_cast<unsigned long long>(r.preemptions),
                  static_cast<unsigned long long>(r.recomputed_tok));
  }
  std::printf(
      "\nfairness between %zu clients (--clients %s): service gap (0: equal) / Jain's index (1: equal), over %s\n",
      o.client_shares.size(), o.clients.c_str(), "epochs of a constant backlogged set, length-weighted");
  for (const auto& r : rs)
    std::printf("%-13s %8.3f / %.4f  (%llu epochs, %.0f s)\n", r.policy.c_str(), r.fairness.service_gap,
                r.fairness.jain, static_cast<unsigned long long>(r.fairness.epochs), r.fairness.epoch_s);
  std::printf("\nper device type: utilisation %% / share of bulk tokens %%\n%-13s", "policy");
  for (const auto& t : rs.front().types) std::printf(" %16s", js::detail::echo(t.gpu).c_str());
  std::printf("\n");
  for (const auto& r : rs) {
    std::printf("%-13s", r.policy.c_str());
    for (const auto& t : r.types) std::printf("      %5.1f/%5.1f", 100 * t.utilisation, 100 * t.bulk_share);
    std::printf("\n");
  }
  std::uint64_t read = 0, events = 0;
  double wall = 0, cpu = 0;
  for (const auto& r : rs) {
    read += r.read;
    events += r.events;
    wall += r.wall_s;
    cpu += r.cpu_s;
  }
  std::printf(
      "\nrequests read per policy: %llu; simulator: %.2f M requests/s, %.2f M events/s of wall time "
      "(%.1f s wall, %.1f s CPU)\n",
      static_cast<unsigned long long>(rs.front().read), wall > 0 ? static_cast<double>(read) / wall / 1e6 : 0.0,
      wall > 0 ? static_cast<double>(events) / wall / 1e6 : 0.0, wall, cpu);
}

nlohmann::ordered_json latency_json(const sim::latency_summary& l) {
  return {{"count", l.count},      {"mean_ms", ms(l.mean_s)}, {"p50_ms", ms(l.p50_s)},
          {"p90_ms", ms(l.p90_s)}, {"p99_ms", ms(l.p99_s)},   {"max_ms", ms(l.max_s)}};
}

// Misses by SLO kind: {"any": {"count", "rate"}, "ttft": ..., "tbt": ..., "e2e": ...}; any = violations.
nlohmann::ordered_json misses_json(const sim::slo_misses& m) {
  nlohmann::ordered_json j;
  for (const sim::slo_kind k : {sim::slo_kind::any, sim::slo_kind::ttft, sim::slo_kind::tbt, sim::slo_kind::e2e})
    j[sim::to_string(k)] = {{"count", m.count_of(k)}, {"rate", m.rate_of(k)}};
  return j;
}

nlohmann::ordered_json tier_json(const sim::tier_metrics& t) {
  return {{"requests", t.read},
          {"completed", t.completed},
          {"rejected", t.rejected},
          {"late", t.late},
          {"late_ttft", t.late_ttft},
          {"violations", t.violations},
          {"slo_violation_rate", t.violation_rate},
          {"e2e", latency_json(t.e2e)},
          {"ttft", latency_json(t.ttft)},
          {"tbt", latency_json(t.tbt)},
          {"slo_misses", misses_json(t.misses)}};
}

// One entry per class of the mix (a trace's requests are labelled with the mix's classes too), in mix order.
nlohmann::ordered_json classes_json(const sim::workload_mix& mix, const sim::sim_result& r) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < mix.classes.size(); ++i) {
    const sim::class_metrics c = i < r.classes.size() ? r.classes[i] : sim::class_metrics{};
    a.push_back({{"name", mix.classes[i].name},
                 {"tier", js::to_string(mix.classes[i].tier)},
                 {"requests", c.read},
                 {"completed", c.completed},
                 {"rejected", c.rejected},
                 {"slo_misses", misses_json(c.misses)}});
  }
  return a;
}

nlohmann::ordered_json to_json(const experiment& e, const options& o, const std::vector<std::string>& warnings,
                               const std::vector<sim::sim_result>& rs) {
  nlohmann::ordered_json j;
  j["fleet"] = {{"file", e.s->fleet.source}, {"devices", e.s->devices.size()}, {"summary", type_summary(e)}};
  j["workload"] = {{"name", e.workload_name},
                   {"mean_input_tok", e.s->means.input_tok},
                   {"mean_output_tok", e.s->means.output_tok},
                   {"diurnal", o.diurnal},
                   {"skipped_input_lines", e.trace ? e.trace->skipped : 0},
                   {"reordered_rows", e.trace ? e.trace->reordered : 0},
                   {"trace_requests_not_replayed",
                    e.trace && !rs.empty() ? e.trace->rows.size() * e.trace_copies - rs.front().read : 0}};
  j["warnings"] = warnings;
  j["load"] = {{"utilisation", e.utilisation}, {"saturation_rps", e.s->saturation_rps},
               {"rate_rps", e.rate_rps},       {"load_scale", e.load_scale},
               {"window_s", e.window_s},       {"trace_copies", e.trace ? e.trace_copies : 0}};
  j["settings"] = {{"queue", o.queue},
                   {"estimate_mean_abs_rel_error", o.estimate_error},
                   {"seed", o.seed},
                   {"pi_target", o.pi_target},
                   {"dvfs", e.dvfs_path},
                   {"governor", o.governor},
                   {"client_shares", o.client_shares},
                   {"nominal_batch_fraction", e.s->op.batch_fraction},
                   {"nominal_mean_ctx_tok", e.s->op.mean_ctx_tok}};
  if (e.plan.planned)
    j["plan"] = {{"windows", e.plan.windows},
                 {"without_plan", e.plan.infeasible},
                 {"objective", e.plan.objective},
                 {"prompt_cut_tok", e.plan.prompt_cut_tok},
                 {"capacity_fraction", o.plan_capacity},
                 {"window_s", e.plan.window_s}};
  if (o.queue == "preemptive_llf") {
    j["settings"]["slots"] = o.slots;
    j["settings"]["laxity_margin_s"] = o.laxity_margin_s;
    j["settings"]["resume"] = o.resume;
  }
  nlohmann::ordered_json devs = nlohmann::ordered_json::array();
  for (const auto& r : e.s->fleet.rows) {
    const auto p = sim::nominal_params(r.model, r.site, e.s->op);
    devs.push_back({{"gpu", r.model.gpu},
                    {"count", r.count},
                    {"site", e.s->fleet.sites[r.site]},
                    {"pue", e.s->fleet.site_pue[r.site]},
                    {"latency_ms", e.s->fleet.site_network_s[r.site] * 1e3},
                    {"nominal_batch", sim::nominal_batch(r.model, e.s->op)},
                    {"mu_tok_s", p.rate_tok_s},
                    {"eps_j_per_tok", p.energy_j_per_tok}});
  }
  j["device_params"] = devs;
  nlohmann::ordered_json pols = nlohmann::ordered_json::array();
  for (const auto& r : rs) {
    nlohmann::ordered_json p;
    p["name"] = r.policy;
    p["energy_mj"] = r.energy_j / 1e6;
    p["energy_mj_per_h"] = r.energy_mj_per_h;
    p["avg_power_kw"] = r.avg_power_w / 1e3;
    p["energy_total_mj"] = r.energy_total_j / 1e6;
    p["energy_j_per_output_tok"] = r.energy_j_per_output_tok;
    if (e.grid) {
      p["carbon_kg"] = r.carbon_g / 1e3;
      p["carbon_total_kg"] = r.carbon_total_g / 1e3;
      nlohmann::ordered_json by_site;
      for (std::size_t i = 0; i < e.s->fleet.sites.size(); ++i)
        by_site[e.s->fleet.sites[i]] = r.carbon_g_by_site[i] / 1e3;
      p["carbon_kg_by_site"] = by_site;
      p["deferred"] = r.deferred;
      p["deferred_mean_s"] = r.deferred_mean_s;
    }
    if (o.governor != "off") p["clock_changes"] = r.clock_changes;
    if (r.policy == "freesh_plan") p["plan_fallbacks"] = r.plan_fallbacks;
    if (o.queue == "preemptive_llf") {
      p["preemptions"] = r.preemptions;
      p["recomputed_tok"] = r.recomputed_tok;
    }
    p["fairness"] = {{"clients", r.fairness.clients},
                     {"epochs", r.fairness.epochs},
                     {"epoch_s", r.fairness.epoch_s},
                     {"service_gap", r.fairness.service_gap},
                     {"jain_index", r.fairness.jain}};
    p["p50_ms"] = ms(r.all.e2e.p50_s);
    p["p90_ms"] = ms(r.all.e2e.p90_s);
    p["p99_ms"] = ms(r.all.e2e.p99_s);
    p["ttft_mean_ms"] = ms(r.all.ttft.mean_s);
    p["ttft_p50_ms"] = ms(r.all.ttft.p50_s);
    p["ttft_p90_ms"] = ms(r.all.ttft.p90_s);
    p["ttft_p99_ms"] = ms(r.all.ttft.p99_s);
    p["tbt_mean_ms"] = ms(r.all.tbt.mean_s);
    p["tbt_p50_ms"] = ms(r.all.tbt.p50_s);
    p["tbt_p90_ms"] = ms(r.all.tbt.p90_s);
    p["tbt_p99_ms"] = ms(r.all.tbt.p99_s);
    p["slo_violation_rate"] = r.all.violation_rate;
    p["slo_misses"] = misses_json(r.all.misses);
    p["requests"] = r.read;
    p["completed"] = r.completed;
    p["rejected"] = r.rejected;
    p["rejected_no_fit"] = r.rejected_no_fit;
    p["rejected_no_device"] = r.rejected_no_device;
    p["rejected_device_too_small"] = r.rejected_device_too_small;
    p["skipped_input_lines"] = e.trace ? e.trace->skipped : 0;
    p["output_tok"] = r.output_tok;
    p["tiers"] = {{"interactive", tier_json(r.tiers[0])}, {"bulk", tier_json(r.tiers[1])}};
    p["classes"] = classes_json(e.s->mix, r);
    nlohmann::ordered_json types = nlohmann::ordered_json::array();
    for (const auto& t : r.types)
      types.push_back({{"gpu", t.gpu},
                       {"devices", t.devices},
                       {"utilisation", t.utilisation},
                       {"bulk_share", t.bulk_share},
                       {"energy_mj", t.energy_j / 1e6},
                       {"output_tok", t.output_tok},
                       {"completed", t.completed}});
    p["types"] = types;
    p["window_s"] = r.window_s;
    p["sim_time_s"] = r.sim_time_s;
    p["wall_s"] = r.wall_s;
    p["cpu_s"] = r.cpu_s;
    p["events"] = r.events;
    p["events_per_s"] = r.events_per_wall_s;
    p["requests_per_s"] = r.requests_per_wall_s;
    nlohmann::ordered_json lt = nlohmann::ordered_json::array();
    for (const auto& s : r.lambda_trace) lt.push_back({s.t_s, s.lambda_j_per_s, s.miss_rate});
    p["lambda_trace"] = {{"columns", {"t_s", "lambda_j_per_s", "miss_rate"}}, {"rows", lt}};
    pols.push_back(std::move(p));
  }
  j["policies"] = pols;
  require_finite_numbers(j, "");
  return j;
}

// Opened before the runs, so that a path that cannot be written fails at once, not after the whole comparison.
// It must not be one of the run's inputs: it would be overwritten before it was read.
std::ofstream open_lambda_trace(const options& o) {
  const fs::path out_path(o.lambda_trace_path);
  std::error_code ec;
  for (const std::string& in : {o.trace_path, o.fleet_path})
    if (!in.empty() && fs::equivalent(out_path, fs::path(in), ec))
      throw js::config_error("--lambda-trace: '" + js::detail::echo_path(out_path) +
                             "' is an input of this run (--trace or --fleet); it would be overwritten");
  std::ofstream out(out_path);
  if (!out) throw js::config_error("--lambda-trace: cannot open '" + js::detail::echo_path(out_path) + "' for writing");
  return out;
}

void write_lambda_trace(std::ofstream& out, const std::string& path, const std::vector<sim::sim_result>& rs) {
  out << "policy,t_s,lambda_j_per_s,miss_rate\n";
  out.precision(10);
  for (const auto& r : rs)
    for (const auto& s : r.lambda_trace)
      out << r.policy << ',' << s.t_s << ',' << s.lambda_j_per_s << ',' << s.miss_rate << '\n';
  out.close();  // flushes: a full disk shows here, not never
  if (!out) throw js::config_error("--lambda-trace: writing '" + js::detail::echo_path(path) + "' failed");
}

// What the first run shows about the input (every policy reads the same requests): trace requests cut by the
// window, requests no device can hold, no output token at all.
void note_first_run(const experiment& e, const sim::sim_result& r, std::vector<std::string>& warnings) {
  std::vector<std::string> w;
  if (e.trace) {
    const std::size_t offered = e.trace->rows.size() * e.trace_copies;
    const std::size_t cut = offered - static_cast<std::size_t>(r.read);
    // A tiled replay is cut in its last copy by design; a window shorter than one copy drops part of the trace.
    if (cut > 0 && e.trace_copies == 1)
      w.push_back(std::to_string(cut) + " of the trace's " + std::to_string(offered) + " requests arrive after the " +
                  std::to_string(e.window_s) + " s window and are not replayed");
  } else if (r.rejected_no_fit > 0) {
    w.push_back(std::to_string(r.rejected_no_fit) + " of " + std::to_string(r.read) +
                " requests need more KV cache than any device holds; they were rejected as no_fit");
  }
  if (r.rejected_device_too_small > 0)
    w.push_back(r.policy + ": " + std::to_string(r.rejected_device_too_small) + " of " + std::to_string(r.read) +
                " requests were placed on devices whose KV cache cannot hold them (rejected_device_too_small): the "
                "routers do not know KV capacities");
  if (r.output_tok == 0) w.push_back("no output token was served: J/tok is reported as 0");
  for (const auto& s : w) std::fprintf(stderr, "joulesched-sim: warning: %s\n", s.c_str());
  warnings.insert(warnings.end(), w.begin(), w.end());
}

// freesh_plan: FREESH's program for the fleet and the mix (sim/freesh_program.hpp), every 30-minute window of the
// run solved with GLPK, into the policy's plans. The prompt cut between FREESH's short and long classes is the
// median prompt of the mix (ASSUMPTION: FREESH's inputs do not state theirs); demand is the mix's own rate
// (beta 1: FREESH's beta 2 scales the authors' production demand, not ours), headroom FREESH's 1.1.
plan_summary plan_windows(const experiment& e, const options& o, sim::policy_settings& ps) {
  plan_summary p;
  p.planned = true;
  p.objective = o.plan_objective.empty() ? (e.carbon ? "carbon" : "energy") : o.plan_objective;
  if (p.objective != "carbon" && p.objective != "energy")
    js::detail::fail("--plan-objective", "value", "'" + p.objective + "'", "must be carbon or energy");
  if (p.objective == "carbon" && !e.carbon)
    js::detail::fail("--plan-objective", "value", "'carbon'", "needs --carbon FILE (the sites' grid intensity)");
  if (e.trace)
    js::detail::fail("--policies", "policy", "'freesh_plan'",
                     "plans the default mix's demand; with --trace there is no demand series to plan on");
#if JOULESCHED_SIM_HAVE_GLPK
  constexpr std::size_t draws = 100'000;  // ASSUMPTION: enough draws for the classes' shares within ~0.3 points
  const std::vector<sim::token_pair> lengths = sim::drawn_lengths(e.s->mix, draws, o.seed);
  std::vector<std::uint32_t> prompts;
  prompts.reserve(lengths.size());
  for (const sim::token_pair& l : lengths) prompts.push_back(l.input_tok);
  std::nth_element(prompts.begin(), prompts.begin() + static_cast<std::ptrdiff_t>(prompts.size() / 2), prompts.end());
  p.prompt_cut_tok = prompts[prompts.size() / 2];
  ps.plan_classes = js::freesh_request_classes{p.prompt_cut_tok};
  const auto traffic = sim::freesh_traffic(lengths, ps.plan_classes);
  js::plan::freesh_options po;
  po.beta = 1.0;
  po.objective = p.objective == "carbon" ? js::plan::freesh_objective::carbon : js::plan::freesh_objective::energy;
  const auto steps = static_cast<std::size_t>(std::ceil(e.window_s / js::plan::freesh_step_s));
  const double rate = e.rate_rps;
  const sim::rate_shape shape = e.shape;
  const js::plan::freesh_inputs in = sim::freesh_program(
      e.s->fleet, traffic, std::max<std::size_t>(steps, 1), [&](double t) { return rate * shape.multiplier_at(t); },
      e.carbon ? &*e.carbon : nullptr, o.plan_capacity);
  js::plan::glpk_solver solver;
  const std::vector<js::plan::freesh_window_plan> plans = js::plan::plan_freesh(in, solver, po);
  ps.plan_window_s = js::plan::freesh_step_s * static_cast<double>(po.window_steps);
  p.window_s = ps.plan_window_s;
  for (const auto& w : plans) {
    ps.plans.push_back(sim::freesh_pool_plan(in, w, e.s->devices));
    if (w.status != js::plan::milp_status::optimal) ++p.infeasible;
  }
  p.windows = plans.size();
  if (!o.quiet)
    std::fprintf(stderr,
                 "joulesched-sim: freesh_plan: %zu windows planned (%s objective, prompt cut %u tokens), %zu "
                 "without a plan\n",
                 p.windows, p.objective.c_str(), p.prompt_cut_tok, p.infeasible);
#else
  (void)ps;
  js::detail::fail(
      "--policies", "policy", "'freesh_plan'",
      "needs a MILP solver: this joulesched-sim was built without GLPK (install libglpk-dev, reconfigure)");
#endif
  return p;
}

int run(const options& o) {
  const std::string policy_list = o.policies.empty() ? sim::all_policy_names(!o.carbon_path.empty()) : o.policies;
  const std::vector<sim::policy_kind> kinds = sim::parse_policy_list(policy_list, "--policies");
  for (const sim::policy_kind k : kinds)
    if (sim::needs_carbon(k) && o.carbon_path.empty())
      js::detail::fail("--policies", "policy", "'" + std::string(sim::to_string(k)) + "'", "needs --carbon FILE");
  const sim::slo_kind pi_target = sim::parse_slo_kind(o.pi_target, "--pi-target");
  if (o.pi_target_given && std::none_of(kinds.begin(), kinds.end(), sim::tunes_lambda))
    js::detail::fail("--pi-target", "value", "'" + o.pi_target + "'",
                     "applies only with a PI policy (energy_pi, tiered or energy_profile) in --policies");
  experiment e = build(o);
  e.dvfs_path = !o.dvfs_path.empty()   ? o.dvfs_path
                : o.governor == "miad" ? (fs::path(o.data_dir) / "dvfs" / "a100_perseus.csv").string()
                                       : "";
  if (!o.carbon_path.empty()) {
    e.grid = std::make_shared<const js::intensity_series>(js::load_intensity_series(o.carbon_path));
    e.carbon_source = js::detail::echo_path(o.carbon_path);
    const std::int64_t start_utc_s = o.start ? js::parse_utc_time(*o.start, "--start") : e.grid->start_utc_s();
    e.start_text = js::detail::format_utc_s(start_utc_s);
    e.carbon = sim::carbon_accounting::for_fleet(e.s->fleet, *e.grid, start_utc_s);  // bad zones and start: now
  } else if (o.start) {
    js::detail::fail("--start", "value", "'" + *o.start + "'", "applies only with --carbon");
  }
  if (o.shift != "off" && o.shift != "perfect" && o.shift != "persistence")
    js::detail::fail("--shift", "value", "'" + o.shift + "'", "must be off, perfect or persistence");
  if (o.shift != "off" && !e.grid)
    js::detail::fail("--shift", "value", "'" + o.shift + "'", "applies only with --carbon");
  std::vector<std::string> warnings = e.warnings;  // those of the inputs, then those the first run shows
  std::ofstream lambda_out;
  if (!o.lambda_trace_path.empty()) lambda_out = open_lambda_trace(o);
  if (e.trace && e.trace->skipped > 0) {
    std::fprintf(stderr,
                 "joulesched-sim: %zu trace lines skipped (--lenient: malformed or beyond a bound); first ones:\n",
                 e.trace->skipped);
    for (const auto& m : e.trace->skipped_examples) std::fprintf(stderr, "  %s\n", m.c_str());
  }
  for (const auto& w : warnings) std::fprintf(stderr, "joulesched-sim: warning: %s\n", w.c_str());
  if (e.trace && !o.quiet) std::fprintf(stderr, "joulesched-sim: %s\n", replay_summary(e).c_str());
  sim::policy_settings ps;
  ps.seed = o.seed;
  ps.estimate_mean_abs_rel_error = o.estimate_error;
  ps.pi_target = pi_target;
  ps.capacity_request = e.s->means;
  sim::engine_options eo;
  eo.discipline = parse_queue(o.queue);
  eo.preemption.slots = o.slots;
  eo.preemption.rule.margin_s = o.laxity_margin_s;
  eo.preemption.mode =
      o.resume == "recompute" ? sim::preemption_options::resume::recompute : sim::preemption_options::resume::resident;
  eo.window_s = e.window_s;
  eo.carbon = e.carbon;
  // --shift: bulk requests wait for the cleanest hour (over the fleet's sites) their deadline leaves room for.
  std::vector<js::shift_site> shift_sites;
  if (e.carbon)
    for (std::size_t i = 0; i < e.carbon->zone_of_site.size(); ++i)
      shift_sites.push_back({e.carbon->zone_of_site[i], e.carbon->pue_of_site[i]});
  std::optional<js::perfect_forecast> perfect;
  std::optional<js::persistence_forecast> persistence;
  std::optional<js::temporal_shift<js::perfect_forecast>> shift_perfect;
  std::optional<js::temporal_shift<js::persistence_forecast>> shift_persistence;
  if (o.shift == "perfect") {
    perfect.emplace(*e.grid);
    shift_perfect.emplace(*perfect, *e.grid, shift_sites, e.carbon->offset_s);
    eo.release_at = [&shift_perfect](const sim::request& r, double now) {
      return r.tier == js::tier::bulk ? shift_perfect->release_at(now, r.deadline_s) : now;
    };
  } else if (o.shift == "persistence") {
    persistence.emplace(*e.grid);
    shift_persistence.emplace(*persistence, *e.grid, shift_sites, e.carbon->offset_s);
    eo.release_at = [&shift_persistence](const sim::request& r, double now) {
      return r.tier == js::tier::bulk ? shift_persistence->release_at(now, r.deadline_s) : now;
    };
  }
  if (o.governor != "off" && o.governor != "miad")
    js::detail::fail("--governor", "value", "'" + o.governor + "'", "must be off or miad");
  if (o.governor == "miad") ps.governor = js::miad_config{};
  if (!e.dvfs_path.empty()) {
    e.s->use_clocks(sim::load_dvfs_curve(e.dvfs_path));
    if (!o.quiet)
      std::fprintf(stderr, "joulesched-sim: clock points of %s for every GPU type (by clock fraction)%s\n",
                   e.dvfs_path.c_str(), o.governor == "miad" ? ", MIAD governor per device" : "");
  }
  if (std::find(kinds.begin(), kinds.end(), sim::policy_kind::freesh_plan) != kinds.end()) {
    e.plan = plan_windows(e, o, ps);
  } else if (!o.plan_objective.empty()) {
    js::detail::fail("--plan-objective", "value", "'" + o.plan_objective + "'",
                     "applies only with freesh_plan in --policies");
  } else if (o.plan_capacity != 1.0) {
    js::detail::fail("--plan-capacity", "value", o.plan_capacity, "applies only with freesh_plan in --policies");
  }
  std::vector<sim::sim_result> results;
  for (const auto kind : kinds) {
    const std::string name = sim::to_string(kind);
    if (!o.quiet) {
      eo.progress = [&e, name](double t, std::uint64_t read) {
        std::fprintf(stderr, "  [%s] simulated %.0f / %.0f s, %llu requests read\n", name.c_str(), t, e.window_s,
                     static_cast<unsigned long long>(read));
      };
      std::fprintf(stderr, "joulesched-sim: running %s ...\n", name.c_str());
    }
    auto unlabelled = make_source(e, o);
    // Its own stream of draws (the seed's, offset), so that labelling leaves the requests themselves unchanged.
    sim::client_source src(*unlabelled, o.client_shares, o.seed ^ 0x9E3779B97F4A7C15ull, "--clients");
    // The mix stops at the window by itself; a trace is cut at it unless it is replayed whole (alone, or with
    // --load-scale and no --duration: then the window is the copy's span).
    const bool cut = e.trace && (o.duration_s || o.utilisation || e.trace_copies > 1);
    sim::horizon_source bounded(src, cut ? e.window_s : std::numeric_limits<double>::infinity());
    sim::sim_result r = sim::run_policy(kind, e.s->devices, e.s->setup, bounded, ps, eo);
    r.skipped_input_lines = e.trace ? e.trace->skipped : 0;
    if (r.read == 0)
      js::detail::fail(name, "requests read", 0,
                       "no request arrived in the window of " + std::to_string(e.window_s) +
                           " s; there is nothing to compare (lengthen --duration or raise the load)");
    if (r.rejected_no_fit == r.read)
      js::detail::fail(name, "requests rejected as no_fit", r.read,
                       "every request needs more KV cache than any device of the fleet holds");
    if (!o.quiet)
      std::fprintf(stderr, "joulesched-sim: %s done: %llu requests in %.2f s wall (%.2f M req/s)\n", name.c_str(),
                   static_cast<unsigned long long>(r.read), r.wall_s, r.requests_per_wall_s / 1e6);
    if (results.empty()) note_first_run(e, r, warnings);  // every policy reads the same requests
    results.push_back(std::move(r));
  }
  if (!o.lambda_trace_path.empty()) write_lambda_trace(lambda_out, o.lambda_trace_path, results);
  // Names come from files and may hold any bytes: invalid UTF-8 is replaced (U+FFFD), never a throw.
  if (o.format == "json")
    std::cout << to_json(e, o, warnings, results).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << '\n';
  else print_table(e, o, results);
  std::cout.flush();
  std::fflush(stdout);
  if (!std::cout || std::ferror(stdout)) throw js::config_error("writing the results to standard output failed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  option_text t;
  CLI::App app{"joulesched-sim: energy-aware routing policies on a simulated GPU fleet (discrete-event)"};
  app.add_option("--fleet", o.fleet_path,
                 "fleet file: CSV device_model,count,site (default: <data-dir>/fleets/default.csv)");
  app.add_option("--trace", o.trace_path,
                 "replay a trace (Azure CSV or Mooncake JSONL; 'default' = the bundled Azure excerpt) instead of the "
                 "default mix, at its recorded times; with --utilisation its time is scaled to that load and it is "
                 "tiled to fill the window; requests get classes by the mix's shares");
  app.add_option("--policies", o.policies,
                 "comma-separated, of: " + sim::all_policy_names() + " (default: all; carbon_pi with --carbon only)");
  app.add_option("--seed", t.seed, "seed of the workload, the estimator's errors and power-of-two's draws")
      ->capture_default_str();
  auto* util =
      app.add_option("--utilisation", t.utilisation,
                     "offered load as a fraction of the fleet's saturation throughput, in (0, 2] (default 0.5)");
  auto* scale = app.add_option("--load-scale", t.load_scale,
                               "multiply the arrival rate (mix: of the default utilisation; trace: time compression, "
                               "tiled to fill --duration)");
  util->excludes(scale);
  scale->excludes(util);
  app.add_option("--duration", t.duration_s,
                 "arrival window in simulated seconds, at most a year (default 3600; a trace: its span, or 3600 with "
                 "--utilisation; a trace shorter than the window is tiled)");
  app.add_option("--queue", o.queue,
                 "per-device waiting queue: fcfs, edf, llf, vtc (fair between --clients: the least virtual token "
                 "counter first) or preemptive_llf (FREESH: every 0.1 s the waiting request of least laxity takes the "
                 "slot of the running one of most, see --resume)")
      ->capture_default_str();
  app.add_option("--slots", t.slots,
                 "with --queue preemptive_llf: running requests per device (default 0: each device's max_batch; "
                 "FREESH's instances hold 20)");
  app.add_option("--laxity-margin", t.laxity_margin,
                 "with --queue preemptive_llf: preempt only when the waiting request's laxity is smaller by more "
                 "than this many seconds (default 0, FREESH's pure LLF; a margin damps thrashing)");
  app.add_option("--plan-capacity", t.plan_capacity,
                 "with --policies freesh_plan: an instance's capacity in the plan, as a fraction of its saturation "
                 "rate (default 1: saturation, no margin for bursts)");
  app.add_option("--plan-objective", o.plan_objective,
                 "with --policies freesh_plan: what FREESH's planner minimises, carbon or energy (default: carbon "
                 "with --carbon, else energy)");
  app.add_option("--resume", o.resume,
                 "with --queue preemptive_llf: what a preempted request keeps: resident (its KV: it rejoins the "
                 "batch at no cost, FREESH's slot model) or recompute (its KV is freed and its next prefill "
                 "recomputes its prompt and tokens, vLLM's default)")
      ->capture_default_str();
  app.add_option("--pi-target", o.pi_target,
                 "the SLO miss the PI policies (energy_pi, tiered, energy_profile) hold at 1%: any, ttft, tbt or e2e")
      ->capture_default_str();
  app.add_option("--estimate-error", t.estimate_error, "mean absolute relative error of output-length estimates")
      ->capture_default_str();
  app.add_flag("--diurnal", o.diurnal, "shape the default mix's arrival rate by ServeGen's diurnal curve (m-large)");
  app.add_option("--start-hour", t.start_hour, "time of day at simulated time 0, with --diurnal (default 0)");
  app.add_flag("--lenient", o.lenient, "skip malformed trace lines (counted and reported) instead of failing");
  app.add_option("--format", o.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  app.add_option("--lambda-trace", o.lambda_trace_path, "write lambda over time of the PI policies to this CSV");
  app.add_option("--carbon", o.carbon_path,
                 "account operational carbon with this hourly intensity CSV (datetime_utc, one gCO2/kWh column per "
                 "zone; the fleet file's sites name its zones, at the PUE of its pue column, else 1)");
  app.add_option("--start", o.start,
                 "UTC time 'YYYY-MM-DD HH:MM:SS' at simulated time 0, with --carbon (default: "
                 "the series' first hour)");
  app.add_option("--shift", o.shift,
                 "temporal shifting, with --carbon: bulk requests wait for the cleanest hour within their deadline "
                 "by this forecast: off, perfect (the series) or persistence (day-ahead)")
      ->capture_default_str();
  app.add_option("--dvfs", o.dvfs_path,
                 "give every device the operating points of this SM-clock curve (clock_mhz,clock_fraction,"
                 "time_ratio,power_ratio; data/dvfs/), applied to every GPU type by clock fraction; devices start "
                 "at the top clock (default with --governor miad: <data-dir>/dvfs/a100_perseus.csv)");
  app.add_option("--governor", o.governor,
                 "GPU clock control per device: off, or miad (FREESH's multiplicative-increase, additive-decrease "
                 "governor on p90 TTFT/TBT slack, every 1 s)")
      ->capture_default_str();
  app.add_option("--clients", o.clients,
                 "label requests with clients for fairness and --queue vtc: a count N of equal clients, or their "
                 "shares as a list (e.g. 4,1,1,1); each request's client is a seeded draw")
      ->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "the data folder (devices/, fleets/, traces/)")->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress on stderr");
  // A flag is given or not: '--diurnal=off' must not quietly mean something.
  for (const char* flag : {"--diurnal", "--lenient", "--quiet"}) app.get_option(flag)->disable_flag_override();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The program's own exit code and prefix, not CLI11's (105, 109, ...), so scripts see one convention.
    std::fprintf(stderr, "joulesched-sim: error: %s (see --help)\n", js::detail::echo(e.what(), 400).c_str());
    return 2;
  }
  try {
    // An option given an empty value would silently mean its default (--trace "" the default mix).
    for (const char* name :
         {"--fleet", "--trace", "--lambda-trace", "--data-dir", "--policies", "--queue", "--pi-target", "--carbon",
          "--shift", "--dvfs", "--governor", "--clients", "--resume", "--plan-objective"})
      if (app.count(name) > 0 && app.get_option(name)->as<std::string>().empty())
        js::detail::fail(name, "value", "''", "must not be empty");
    read_numbers(t, o);
    o.pi_target_given = app.count("--pi-target") > 0;
    return run(o);
  } catch (const js::config_error& e) {
    std::fprintf(stderr, "joulesched-sim: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "joulesched-sim: internal error: %s\n", e.what());
    return 3;
  }
}
