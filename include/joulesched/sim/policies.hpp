/// @file policies.hpp
/// @brief The routing policies of the default experiment, by name, each built from the library's own routers,
/// cost model, tier classifier and lambda controller, and run through the simulator.
///
/// When to use: to run the standard comparison (`joulesched-sim --policies ...`, tests, benchmarks). To try a
/// policy of your own, build a router and a controller and call `simulator` directly (engine.hpp).
///
/// The policies (names as on the command line):
/// - `round_robin`:  round_robin_router.
/// - `capacity_rr`:  FREESH's carbon- and energy-oblivious baseline, capacity-proportional round-robin:
///                   plan_router over one class whose groups are the device types (by site), each weighted by its
///                   devices' summed capacity (policy_settings::capacity_request), shared by smooth weighted
///                   round-robin and least loaded within a group.
/// - `least_loaded`: least_loaded_router (least reserved work, in device-seconds).
/// - `power_of_two`: power_of_d_router<joulesched_cost> with d = 2 and the fixed lambda.
/// - `energy_fixed`: argmin_router<joulesched_cost> with the fixed lambda (exact, class-indexed).
/// - `energy_pi`:    argmin_router<joulesched_cost>, lambda tuned by lambda_controller to hold the miss rate of
///                   all requests at the target (1%); a miss is of the kind policy_settings::pi_target (any
///                   kind by default).
/// - `energy_profile`: argmin_router<profile_cost> (the exact scan, O(devices) per decision), lambda tuned as
///                   energy_pi's: the decode's energy and rate read from each device's profile (model_profile.hpp)
///                   at the batch it would run with this request, so that it sees the batch effect (a device
///                   already running a big batch serves the next request for fewer joules per token).
/// - `tiered`:       tiered_router<declared_tier_classifier, ...>: interactive requests by argmin over
///                   joulesched_cost with lambda tuned by its own lambda_controller on interactive outcomes only;
///                   bulk requests by argmin over joulesched_cost with the fixed lambda. Bulk deadlines are long,
///                   so for bulk the lateness term is zero until a deadline is at risk and the choice is the most
///                   energy-efficient device class (least loaded within it): energy first, deadline-safe.
/// - `carbon_pi`:    argmin_router<carbon_cost>: grams of CO2 (predicted joules x the site's PUE x its grid's
///                   intensity now) + lambda x lateness, lambda tuned as energy_pi's with every lambda setting
///                   scaled from J/s to g/s by the fleet's mean g/J over the series; the sites' intensities follow
///                   the run's carbon accounting hour by hour. Needs engine_options::carbon (--carbon FILE).
/// - `freesh_plan`:  FREESH's request level within its pool plan: plan_router over freesh_request_classes, each class
///                   on the instances the window's plan gives it (policy_settings::plans, one per window, switched
///                   at each window's start by plan_window_control), by planned capacity, least loaded within;
///                   requests of a class the plan misses go least loaded and are counted
///                   (sim_result::plan_fallbacks). Runs only with plans, so it is not in the default list
///                   (all_policy_names); joulesched-sim --policies freesh_plan plans each window with GLPK.
/// Every policy sees the same estimator (noisy_estimator<oracle_estimator>, seeded, with the configured mean
/// absolute relative error) and the same device parameters (fleet_file.hpp's nominal operating point).
///
/// Constants and where they come from:
/// - fixed lambda = lambda_controller_config{}.lambda_initial (100 J/s): the controller's own starting price, so
///   that energy_fixed is "energy_pi without the controller". Not tuned on the results.
/// - PI gains, bounds: lambda_controller_config defaults (the controller author's starting point), target 1%
///   (JouleSched). Update every 1 s of simulated time over a 60 s time window of outcomes (ASSUMPTION: one
///   minute holds thousands of outcomes at fleet scale, so the measured rate is not noise, and is short enough
///   to follow a diurnal swing).
/// Adding a policy: an enumerator of policy_kind and an entry of policy_registry (its name, whether it tunes
/// lambda, whether it needs carbon accounting, and a function that builds its router and controller and runs
/// them); the program, the tests and the benchmarks find it there.
/// Cost: building a policy is O(devices); the run is the simulator's.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/control/lambda_controller.hpp"
#include "joulesched/control/miad_governor.hpp"
#include "joulesched/control/miss_window.hpp"
#include "joulesched/control/price_loop.hpp"
#include "joulesched/control/shared_price.hpp"
#include "joulesched/control/site_carbon.hpp"
#include "joulesched/cost/carbon_cost.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/plan_router.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/sim/clock_governor.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/fleet_setup.hpp"
#include "joulesched/sim/model_profile.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/sim/workload_mix.hpp"
#include "joulesched/tiers/classifiers.hpp"

namespace joulesched::sim {

enum class policy_kind : std::uint8_t {
  round_robin,
  capacity_rr,
  least_loaded,
  power_of_two,
  energy_fixed,
  energy_pi,
  tiered,
  energy_profile,
  carbon_pi,
  freesh_plan
};

/// @brief Settings shared by the policies (see the file note for the source of each default).
struct policy_settings {
  double lambda_fixed_j_per_s = lambda_controller_config{}.lambda_initial;
  lambda_controller_config pi = lambda_controller_config{};  ///< target_miss_rate 0.01 by default
  double control_period_s = 1.0;
  double miss_window_s = 60.0;
  std::size_t miss_window_buckets = 60;
  std::uint32_t power_of_d = 2;
  double estimate_mean_abs_rel_error = 0.12;  ///< JouleSched's length predictor: ~12% MAE (DESIGN-NOTES)
  std::uint64_t seed = 1;                     ///< for the estimator's noise and power-of-d's draws
  /// Most samples a PI policy keeps in `sim_result::lambda_trace` (even, >= 2). Beyond it the trace is thinned
  /// to every second sample, then every fourth, ..., so it stays evenly spaced over the whole run and its
  /// memory bounded. ASSUMPTION: 2^17 samples (3 MB) hold a day and a half at the 1 s control period.
  std::size_t max_lambda_samples = std::size_t{1} << 17;
  /// Which miss the PI controllers hold at the target rate (slo.hpp): `any` (the default: a miss of any kind,
  /// the SLO violation of metrics.hpp), or only ttft, tbt or e2e misses. Rejections miss every kind.
  slo_kind pi_target = slo_kind::any;
  /// FREESH's clock governor (sim/clock_governor.hpp) beside the policy's own controller: none by default. Needs
  /// devices with clock points (fleet_setup.hpp's clocked_fleet; `--dvfs FILE --governor miad`).
  std::optional<miad_config> governor;
  /// The mean request by which capacity_rr sizes each device: the requests/s it sustains saturated by it
  /// (saturation_rps, prefill included), FREESH's capacity of an instance. Zero (the default): the device's
  /// nominal decode throughput, rate_tok_s, which leaves prefill out.
  token_means capacity_request{};
  /// freesh_plan: the pool plan of each planning window in order from time 0 (freesh_program.hpp's
  /// freesh_pool_plan of each solved window; the last one holds past the end), its windows' length (FREESH: 30
  /// minutes) and the classes its router sorts requests by (their prompt cut must be the one the plans were
  /// made with). No plans: the policy cannot run.
  std::vector<pool_plan> plans;
  double plan_window_s = 1800.0;
  freesh_request_classes plan_classes{0};
};

/// @brief The SimControl of the PI policies (energy_pi, energy_profile and tiered's interactive side): the
/// library's price_loop (control/price_loop.hpp) fed the run's outcomes, setting the shared_price that the
/// policy's cost follows, and a record of lambda over time.
class pi_lambda_control {
 public:
  /// @param lambda the price the policy's cost follows (must outlive this).
  /// @param only when set, only outcomes of this tier are observed.
  /// Misses are of the kind `s.pi_target`: the miss rate held at the target, and recorded, is of that kind.
  pi_lambda_control(shared_price& lambda, const policy_settings& s, std::optional<tier> only = std::nullopt)
      : loop_(lambda, s.pi, time_window(s.miss_window_s, s.miss_window_buckets)),
        period_s_(joulesched::detail::require_positive(s.control_period_s, "policy_settings", "control_period_s")),
        only_(only),
        target_(s.pi_target),
        max_samples_(s.max_lambda_samples) {
    if (max_samples_ < 2 || max_samples_ % 2 != 0)
      joulesched::detail::fail("policy_settings", "max_lambda_samples", max_samples_, "must be even and >= 2");
    if (static_cast<std::size_t>(target_) >= slo_kind_count)
      joulesched::detail::fail("policy_settings", "pi_target", static_cast<int>(target_),
                               "must be a slo_kind (any, ttft, tbt or e2e)");
  }
  [[nodiscard]] double period_s() const noexcept { return period_s_; }
  void on_outcome(double now_s, tier t, const slo_outcome& o) noexcept {
    if (!only_ || *only_ == t) loop_.observe(now_s, o.missed(target_));
  }
  void tick(double now_s) {
    const double lambda = loop_.update(now_s);
    if (++since_sample_ < stride_) return;
    if (trace_.size() == max_samples_) {
      thin();  // the last sample is kept, and the stride doubles
      if (since_sample_ < stride_) return;
    }
    since_sample_ = 0;
    trace_.push_back({now_s, lambda, loop_.miss_rate()});
  }
  [[nodiscard]] const std::vector<lambda_sample>& trace() const noexcept { return trace_; }
  std::vector<lambda_sample>&& take_trace() noexcept { return std::move(trace_); }

 private:
  // Keeps the samples of every (2 stride)-th tick, the odd indices, the last one included (the size is even).
  void thin() noexcept {
    std::size_t out = 0;
    for (std::size_t i = 1; i < trace_.size(); i += 2) trace_[out++] = trace_[i];
    trace_.resize(out);
    stride_ *= 2;
  }

  price_loop<time_window> loop_;
  double period_s_;
  std::optional<tier> only_;
  slo_kind target_;
  std::size_t max_samples_;
  std::uint64_t stride_ = 1;        // a sample every stride_ ticks
  std::uint64_t since_sample_ = 0;  // ticks since the last sample
  std::vector<lambda_sample> trace_;
};
static_assert(SimControl<pi_lambda_control>);

/// @brief The SimControl of freesh_plan: at each planning window's start (a tick every plan_window_s) the router
/// takes that window's plan; the first window's is set before the run.
template <class Router>
class plan_window_control {
 public:
  /// @throws config_error when there is no plan or the window is not a positive, finite period.
  plan_window_control(Router& router, const policy_settings& s) : router_(router), s_(s) {
    if (s.plans.empty())
      throw config_error(
          "freesh_plan: no pool plans (policy_settings::plans; joulesched-sim plans each window with GLPK)");
    if (!(s.plan_window_s >= bounds::min_control_period_s && s.plan_window_s <= bounds::max_window_s))
      joulesched::detail::fail("freesh_plan", "plan_window_s", s.plan_window_s, "must be a positive, finite period");
    router_.set_plan(s.plans.front());
  }
  [[nodiscard]] double period_s() const noexcept { return s_.plan_window_s; }
  void on_outcome(double, tier, const slo_outcome&) noexcept {}
  void tick(double now_s) {
    const auto w = static_cast<std::size_t>(std::llround(now_s / s_.plan_window_s));
    if (w < s_.plans.size() && w != window_) {
      window_ = w;
      router_.set_plan(s_.plans[w]);
    }
  }

 private:
  Router& router_;
  const policy_settings& s_;
  std::size_t window_ = 0;
};

/// @brief The SimControl of carbon_pi: the PI loop on lambda (pi_lambda_control), and each site's grid intensity
/// set into a site_carbon from the run's carbon accounting at every tick that enters a new hour of the series.
/// The hour's value holds from the first tick in it (a control period late at most); past the series' end the
/// last hour's holds (the engine refuses such a run anyway).
class carbon_pi_control {
 public:
  /// @param lambda, carbon the price and the per-site g/J the policy's cost follows (must outlive this).
  carbon_pi_control(shared_price& lambda, const policy_settings& s, const carbon_accounting& c, site_carbon& carbon)
      : pi_(lambda, s), accounting_(c), carbon_(carbon) {
    follow(0.0);
  }
  [[nodiscard]] double period_s() const noexcept { return pi_.period_s(); }
  void on_outcome(double now_s, tier t, const slo_outcome& o) noexcept { pi_.on_outcome(now_s, t, o); }
  void tick(double now_s) {
    follow(now_s);
    pi_.tick(now_s);
  }
  std::vector<lambda_sample>&& take_trace() noexcept { return pi_.take_trace(); }

 private:
  void follow(double now_s) {
    const intensity_series& grid = *accounting_.series;
    const double t = std::min(accounting_.offset_s + now_s, grid.span_s() - 1.0);
    const auto h = static_cast<std::size_t>(t / intensity_series::hour_s);
    if (h == hour_) return;
    hour_ = h;
    for (std::size_t site = 0; site < accounting_.zone_of_site.size(); ++site)
      carbon_.set_intensity(static_cast<site_id>(site), grid.value(h, accounting_.zone_of_site[site]));
  }

  pi_lambda_control pi_;
  const carbon_accounting& accounting_;
  site_carbon& carbon_;
  std::size_t hour_ = static_cast<std::size_t>(-1);
};
static_assert(SimControl<carbon_pi_control>);

namespace detail {
/// The scale of carbon_pi's lambda: grams per joule of the fleet's sites on average over the series (PUE x the
/// zone's mean intensity / 3.6e6, averaged over the sites). carbon_pi runs energy_pi's PI loop with every lambda
/// setting (initial, bounds, gains) times this, so that on a fleet of one intensity it makes energy_pi's decisions.
/// @throws config_error when it is 0 (every site's grid is at 0 over the series: nothing to price).
[[nodiscard]] inline double carbon_lambda_scale(const carbon_accounting& c) {
  double sum = 0.0;
  for (std::size_t site = 0; site < c.zone_of_site.size(); ++site) {
    double zone_sum = 0.0;
    for (std::size_t h = 0; h < c.series->hours(); ++h) zone_sum += c.series->value(h, c.zone_of_site[site]);
    sum += c.pue_of_site[site] * zone_sum / static_cast<double>(c.series->hours()) / intensity_series::j_per_kwh;
  }
  const double scale = sum / static_cast<double>(c.zone_of_site.size());
  if (!(scale > 0.0))
    joulesched::detail::fail("carbon_pi", "mean grid intensity", 0, "must be > 0: there is no carbon to price");
  return scale;
}

/// capacity_rr's plan: one group per (device type, site), weighted by its devices' summed capacity: requests/s at
/// saturation by the mean request `mean` (saturation_rps), or rate_tok_s when `mean` is zero.
[[nodiscard]] inline pool_plan capacity_plan(const sim_devices& devices, const fleet& f, const token_means& mean) {
  pool_plan plan(1);
  std::vector<std::pair<std::uint32_t, site_id>> keys;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const std::pair<std::uint32_t, site_id> key{devices.type[i], devices.site[i]};
    auto it = std::find(keys.begin(), keys.end(), key);
    if (it == keys.end()) {
      keys.push_back(key);
      plan[0].emplace_back();
      it = keys.end() - 1;
    }
    plan_group& g = plan[0][static_cast<std::size_t>(it - keys.begin())];
    g.devices.push_back(static_cast<device_id>(i));
    g.capacity_rps += mean.total_tok() > 0.0 ? saturation_rps(*devices.model[i], mean.input_tok, mean.output_tok)
                                             : f.params(static_cast<device_id>(i)).rate_tok_s;
  }
  return plan;
}
}  // namespace detail

/// The estimator every policy is told output lengths by.
using sim_estimator = noisy_estimator<oracle_estimator>;

namespace detail {
template <class R, class C>
sim_result run_with(const sim_devices& devices, fleet& f, R& router, C& control, const policy_settings& s,
                    const engine_options& opts, request_source& src) {
  sim_estimator est(oracle_estimator{}, s.estimate_mean_abs_rel_error, s.seed);
  clock_governor_control<C> governed(control, devices, f, s.governor);
  simulator<R, sim_estimator, clock_governor_control<C>> sim(devices, f, router, est, governed, opts);
  sim_result r = sim.run(src);
  r.clock_changes = governed.changes();
  return r;
}
}  // namespace detail

/// @brief One policy of the registry: its name, whether it tunes lambda with a PI loop (and so fills
/// `lambda_trace` and holds policy_settings::pi_target), and how to run it.
struct policy_entry {
  policy_kind kind;
  const char* name;
  bool tunes_lambda;
  /// Whether it needs the run's carbon accounting (engine_options::carbon); without it, running it is an error.
  bool needs_carbon;
  /// Runs the policy over `devices`, whose routing state is `setup` (parameters in id order, and operating
  /// points when the devices have them), on `src`.
  sim_result (*run)(const sim_devices& devices, const fleet_setup& setup, request_source& src, const policy_settings& s,
                    const engine_options& opts);
};

/// @brief Every policy, in enum order: adding one is an enumerator and an entry here.
inline constexpr std::array<policy_entry, 10> policy_registry = {{
    {policy_kind::round_robin, "round_robin", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       round_robin_router router(f);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::capacity_rr, "capacity_rr", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       plan_router<single_class> router(f, single_class::count, single_class{});
       router.set_plan(detail::capacity_plan(devices, f, s.capacity_request));
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::least_loaded, "least_loaded", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       least_loaded_router router(f);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::power_of_two, "power_of_two", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       power_of_d_router<joulesched_cost> router(f, s.power_of_d, joulesched_cost(s.lambda_fixed_j_per_s), s.seed);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::energy_fixed, "energy_fixed", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       argmin_router<joulesched_cost> router(f, joulesched_cost(s.lambda_fixed_j_per_s));
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::energy_pi, "energy_pi", true, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       shared_price lambda(s.lambda_fixed_j_per_s);
       argmin_router<joulesched_cost> router(f, joulesched_cost(lambda));
       pi_lambda_control c(lambda, s);
       sim_result r = detail::run_with(devices, f, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
       return r;
     }},
    {policy_kind::tiered, "tiered", true, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       using energy_router = argmin_router<joulesched_cost>;
       shared_price lambda(s.lambda_fixed_j_per_s);  // the interactive side's; bulk keeps the fixed one
       tiered_router<declared_tier_classifier, energy_router, energy_router> router(
           declared_tier_classifier{}, energy_router(f, joulesched_cost(lambda)),
           energy_router(f, joulesched_cost(s.lambda_fixed_j_per_s)));
       pi_lambda_control c(lambda, s, tier::interactive);
       sim_result r = detail::run_with(devices, f, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
       return r;
     }},
    {policy_kind::energy_profile, "energy_profile", true, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       // One profile per distinct model (every operating point's too), owned here for the run; the fleet's
       // params point at them.
       std::vector<const device_model*> models;
       const auto add = [&](const device_model* m) {
         if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
       };
       for (const device_model* m : devices.model) add(m);
       for (const auto& table : devices.point_tables)
         for (const device_model& m : table) add(&m);
       std::vector<energy_profile> profiles;
       profiles.reserve(models.size());
       for (const device_model* m : models) profiles.push_back(profile_of(*m));
       const auto profile = [&](const device_model* m) {
         return &profiles[static_cast<std::size_t>(std::find(models.begin(), models.end(), m) - models.begin())];
       };
       fleet_setup with_profiles = setup;
       for (std::size_t i = 0; i < with_profiles.params.size(); ++i)
         with_profiles.params[i].profile = profile(devices.model[i]);
       for (std::size_t t = 0; t < with_profiles.tables.size(); ++t)
         for (std::size_t k = 0; k < with_profiles.tables[t].size(); ++k)
           with_profiles.tables[t][k].profile = profile(&devices.point_tables[t][k]);
       fleet fp = with_profiles.make();
       shared_price lambda(s.lambda_fixed_j_per_s);
       argmin_router<profile_cost> router(fp, profile_cost(lambda));
       pi_lambda_control c(lambda, s);
       sim_result r = detail::run_with(devices, fp, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
       return r;
     }},
    {policy_kind::carbon_pi, "carbon_pi", true, true,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       if (!opts.carbon)
         throw config_error("carbon_pi: needs the run's carbon accounting (engine_options::carbon; --carbon FILE)");
       const carbon_accounting& accounting = *opts.carbon;
       // energy_pi's loop, every lambda setting in grams per second: times the fleet's mean g/J.
       const double scale = detail::carbon_lambda_scale(accounting);
       policy_settings scaled = s;
       scaled.lambda_fixed_j_per_s *= scale;
       scaled.pi.kp *= scale;
       scaled.pi.ki *= scale;
       scaled.pi.lambda_min *= scale;
       scaled.pi.lambda_max *= scale;
       scaled.pi.lambda_initial *= scale;
       fleet f = setup.make();
       site_carbon carbon(accounting.pue_of_site);
       shared_price lambda(scaled.pi.lambda_initial);
       carbon_pi_control c(lambda, scaled, accounting, carbon);
       argmin_router<carbon_cost> router(f, carbon_cost(carbon, lambda));
       sim_result r = detail::run_with(devices, f, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
       return r;
     }},
    {policy_kind::freesh_plan, "freesh_plan", false, false,
     [](const auto& devices, const auto& setup, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f = setup.make();
       plan_router<freesh_request_classes> router(f, freesh_request_classes::count, s.plan_classes);
       plan_window_control<plan_router<freesh_request_classes>> c(router, s);
       sim_result r = detail::run_with(devices, f, router, c, s, opts, src);
       r.plan_fallbacks = router.fallbacks();
       return r;
     }},
}};

inline constexpr std::array<policy_kind, policy_registry.size()> all_policies = [] {
  std::array<policy_kind, policy_registry.size()> ks{};
  for (std::size_t i = 0; i < ks.size(); ++i) ks[i] = policy_registry[i].kind;
  return ks;
}();

/// @brief The registry's entry of a policy.
[[nodiscard]] constexpr const policy_entry& entry_of(policy_kind p) noexcept {
  return policy_registry[static_cast<std::size_t>(p)];
}
static_assert(
    [] {
      for (std::size_t i = 0; i < policy_registry.size(); ++i)
        if (static_cast<std::size_t>(policy_registry[i].kind) != i) return false;
      return true;
    }(),
    "policy_registry must list the policies in enum order");

[[nodiscard]] constexpr const char* to_string(policy_kind p) noexcept { return entry_of(p).name; }

/// @brief Every policy's name, in registry order, joined by commas: the program's default `--policies`, without
/// those that need carbon accounting unless `with_carbon`, and without freesh_plan (it needs plans).
[[nodiscard]] inline std::string all_policy_names(bool with_carbon = true) {
  std::string names;
  for (const policy_entry& e : policy_registry)
    if ((with_carbon || !e.needs_carbon) && e.kind != policy_kind::freesh_plan)
      names += (names.empty() ? "" : ",") + std::string(e.name);
  return names;
}

/// @brief Whether the policy needs the run's carbon accounting (engine_options::carbon).
[[nodiscard]] constexpr bool needs_carbon(policy_kind p) noexcept { return entry_of(p).needs_carbon; }

/// @brief Whether the policy tunes lambda with a PI controller (and so fills lambda_trace and holds pi_target).
[[nodiscard]] constexpr bool tunes_lambda(policy_kind p) noexcept { return entry_of(p).tunes_lambda; }

/// @brief The policy called `name`. @throws config_error naming `where`, the value and the valid names.
[[nodiscard]] inline policy_kind parse_policy(std::string_view name, std::string_view where) {
  std::string valid;
  for (const policy_kind p : all_policies) {
    if (name == to_string(p)) return p;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(p));
  }
  joulesched::detail::fail(where, "policy", "'" + std::string(name) + "'", "must be one of " + valid);
}

/// @brief A comma-separated list of policy names, in order (repeats allowed).
/// @throws config_error for an empty list or an unknown name.
[[nodiscard]] inline std::vector<policy_kind> parse_policy_list(std::string_view list, std::string_view where) {
  std::vector<policy_kind> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) joulesched::detail::fail(where, "policies", "'" + std::string(list) + "'", "has an empty name");
    out.push_back(parse_policy(item, where));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

/// @brief Runs one policy over `devices` (whose routing state is `setup`: a vector of device_params in id order
/// converts to one) on `src`. With policy_settings::governor, FREESH's clock governor runs beside the policy.
/// The result's `policy` is the policy's name; the policies that tune lambda (tunes_lambda) fill `lambda_trace`.
/// @throws config_error for bad settings or a source that breaks its promises.
[[nodiscard]] inline sim_result run_policy(policy_kind kind, const sim_devices& devices, const fleet_setup& setup,
                                           request_source& src, const policy_settings& s, const engine_options& opts) {
  sim_result r = entry_of(kind).run(devices, setup, src, s, opts);
  r.policy = to_string(kind);
  return r;
}

}  // namespace joulesched::sim
