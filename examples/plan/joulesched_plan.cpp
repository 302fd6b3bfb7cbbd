// joulesched-plan: FREESH's pool-level planner on the authors' inputs (data/freesh/), solved with GLPK.
//
//   joulesched-plan freesh [--data DIR] [--partition a|b] [--beta B] [--objective carbon|energy]
//                          [--window-steps N] [--format csv|json] [--time-limit-ms MS]
//
// One row per 30-minute window: `window,status,objective` (status optimal, infeasible or error; the objective
// in the inputs' own unit: coefficient x J, or J with the energy objective, to 17 significant digits), then the
// window's start and steps, the plan's energy and GPUs in use, the instances it runs as site/class/mode=count,
// and why when there is no plan. A summary goes to stderr. Exit codes: 0 every window solved or proven
// infeasible; 1 a solver error in some window; 2 bad options or input (the message names file, line, field).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "joulesched/plan/freesh_inputs.hpp"
#include "joulesched/plan/freesh_planner.hpp"
#include "joulesched/plan/glpk_solver.hpp"

namespace js = joulesched;
namespace jp = joulesched::plan;

namespace {

struct options {
  std::string data_dir = JOULESCHED_DATA_DIR "/freesh";
  std::string partition = "a";
  std::string objective = "carbon";
  std::string format = "csv";
  int time_limit_ms = 0;
  jp::freesh_options plan;
};

// The GPUs a window's plan keeps busy, over every site and type.
std::uint64_t gpus_in_use(const jp::freesh_inputs& in, const jp::freesh_window_plan& p) {
  std::uint64_t gpus = 0;
  const std::size_t modes = in.profiles.modes.size();
  for (std::size_t j = 0; j < p.instances.size(); ++j)
    gpus += std::uint64_t{p.instances[j]} * in.profiles.at(0, j % modes).gpus;
  return gpus;
}

// "loc1/LS/H100x4=1;loc2/LS/A100x2=3": the instances a plan runs, in (site, class, mode) order.
std::string instances(const jp::freesh_inputs& in, const jp::freesh_window_plan& p) {
  std::string s;
  const std::size_t classes = in.profiles.classes.size(), modes = in.profiles.modes.size();
  for (std::size_t j = 0; j < p.instances.size(); ++j) {
    if (p.instances[j] == 0) continue;
    if (!s.empty()) s += ';';
    s += in.sites.names[j / (classes * modes)] + '/' + in.profiles.classes[j / modes % classes] + '/' +
         in.profiles.modes[j % modes] + '=' + std::to_string(p.instances[j]);
  }
  return s;
}

// A CSV field in double quotes, its quotes doubled (RFC 4180).
std::string csv_quoted(const std::string& s) {
  std::string q = "\"";
  for (const char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + '"';
}

int run(const options& o) {
  if (o.partition != "a" && o.partition != "b")
    js::detail::fail("--partition", "value", js::detail::quoted{o.partition}, "must be a or b");
  jp::freesh_options plan = o.plan;
  if (o.objective == "carbon") plan.objective = jp::freesh_objective::carbon;
  else if (o.objective == "energy") plan.objective = jp::freesh_objective::energy;
  else js::detail::fail("--objective", "value", js::detail::quoted{o.objective}, "must be carbon or energy");
  if (o.format != "csv" && o.format != "json")
    js::detail::fail("--format", "value", js::detail::quoted{o.format}, "must be csv or json");
  plan.validate();

  const jp::freesh_inputs in = jp::load_freesh_inputs(o.data_dir, o.partition);
  jp::glpk_solver solver(o.time_limit_ms);
  const std::vector<jp::freesh_window_plan> plans = jp::plan_freesh(in, solver, plan);

  std::size_t optimal = 0, infeasible = 0, errors = 0;
  double energy_j = 0.0, objective = 0.0;
  nlohmann::json windows = nlohmann::json::array();
  // The first three columns are the issue's `window,status,objective`; the rest explain the plan.
  if (o.format == "csv") std::printf("window,status,objective,start_s,steps,energy_kwh,gpus,instances,message\n");
  for (const jp::freesh_window_plan& p : plans) {
    const bool ok = p.status == jp::milp_status::optimal;
    optimal += ok;
    infeasible += p.status == jp::milp_status::infeasible;
    errors += p.status == jp::milp_status::error;
    if (ok) energy_j += p.energy_j, objective += p.objective;
    const double start_s = static_cast<double>(p.first_step) * jp::freesh_step_s;
    if (o.format == "csv") {
      std::printf("%zu,%s,", p.window, std::string(jp::to_string(p.status)).c_str());
      if (ok)
        std::printf("%.17g,%.0f,%zu,%.6g,%llu,%s,\n", p.objective, start_s, p.steps, p.energy_j / 3.6e6,
                    static_cast<unsigned long long>(gpus_in_use(in, p)), instances(in, p).c_str());
      else std::printf(",%.0f,%zu,,,,%s\n", start_s, p.steps, csv_quoted(p.message).c_str());
    } else {
      nlohmann::json w = {{"window", p.window},
                          {"start_s", start_s},
                          {"steps", p.steps},
                          {"status", std::string(jp::to_string(p.status))}};
      if (ok) {
        w["objective"] = p.objective;
        w["energy_kwh"] = p.energy_j / 3.6e6;
        w["gpus"] = gpus_in_use(in, p);
        w["instances"] = instances(in, p);
      } else {
        w["message"] = p.message;
      }
      windows.push_back(std::move(w));
    }
  }
  if (o.format == "json") {
    const nlohmann::json out = {{"partition", o.partition},
                                {"objective", o.objective},
                                {"beta", plan.beta},
                                {"windows", windows},
                                {"optimal", optimal},
                                {"infeasible", infeasible},
                                {"errors", errors},
                                {"energy_kwh", energy_j / 3.6e6},
                                {"objective_total", objective}};
    std::printf("%s\n", out.dump(2).c_str());
  }
  std::fprintf(stderr,
               "joulesched-plan: partition %s, %s objective, beta %g: %zu windows, %zu optimal, %zu infeasible, "
               "%zu errors; planned energy %.4g kWh over the optimal windows\n",
               o.partition.c_str(), o.objective.c_str(), plan.beta, plans.size(), optimal, infeasible, errors,
               energy_j / 3.6e6);
  return errors > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"joulesched-plan: capacity planners on real inputs, solved with GLPK"};
  app.require_subcommand(1);
  CLI::App* freesh = app.add_subcommand("freesh", "FREESH's pool-level planner, one plan per 30-minute window");
  freesh->add_option("--data", o.data_dir, "folder with the four FREESH tables (data/freesh/README.md)")
      ->capture_default_str();
  freesh->add_option("--partition", o.partition, "which profiles and demand: a or b")->capture_default_str();
  freesh->add_option("--beta", o.plan.beta, "demand is divided by beta")->capture_default_str();
  freesh->add_option("--objective", o.objective, "carbon (energy x emission coefficient) or energy")
      ->capture_default_str();
  freesh->add_option("--window-steps", o.plan.window_steps, "5-minute steps per plan")->capture_default_str();
  freesh->add_option("--format", o.format, "csv or json on stdout")->capture_default_str();
  freesh->add_option("--time-limit-ms", o.time_limit_ms, "per window; 0 for none")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "joulesched-plan: error: %s (see --help)\n", js::detail::echo(e.what(), 400).c_str());
    return 2;
  }
  try {
    return run(o);
  } catch (const js::config_error& e) {
    std::fprintf(stderr, "joulesched-plan: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "joulesched-plan: internal error: %s\n", e.what());
    return 3;
  }
}
