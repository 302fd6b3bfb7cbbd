/// @file policies.hpp
/// @brief The routing policies of the default experiment, by name, each built from the library's own routers,
/// cost model, tier classifier and lambda controller, and run through the simulator.
///
/// When to use: to run the standard comparison (`joulesched-sim --policies ...`, tests, benchmarks). To try a
/// policy of your own, build a router and a controller and call `simulator` directly (engine.hpp).
///
/// The policies (names as on the command line):
/// - `round_robin`:  round_robin_router.
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
/// lambda, and a function that builds its router and controller and runs them); the program, the tests and
/// the benchmarks find it there.
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
#include "joulesched/control/miss_window.hpp"
#include "joulesched/control/price_loop.hpp"
#include "joulesched/control/shared_price.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/model_profile.hpp"
#include "joulesched/sim/slo.hpp"
#include "joulesched/tiers/classifiers.hpp"

namespace joulesched::sim {

enum class policy_kind : std::uint8_t {
  round_robin,
  least_loaded,
  power_of_two,
  energy_fixed,
  energy_pi,
  tiered,
  energy_profile
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

/// The estimator every policy is told output lengths by.
using sim_estimator = noisy_estimator<oracle_estimator>;

namespace detail {
template <class R, class C>
sim_result run_with(const sim_devices& devices, fleet& f, R& router, C& control, const policy_settings& s,
                    const engine_options& opts, request_source& src) {
  sim_estimator est(oracle_estimator{}, s.estimate_mean_abs_rel_error, s.seed);
  simulator<R, sim_estimator, C> sim(devices, f, router, est, control, opts);
  return sim.run(src);
}
}  // namespace detail

/// @brief One policy of the registry: its name, whether it tunes lambda with a PI loop (and so fills
/// `lambda_trace` and holds policy_settings::pi_target), and how to run it.
struct policy_entry {
  policy_kind kind;
  const char* name;
  bool tunes_lambda;
  /// Runs the policy over `devices`, whose routing parameters are `params` (in id order), on `src`.
  sim_result (*run)(const sim_devices& devices, const std::vector<device_params>& params, request_source& src,
                    const policy_settings& s, const engine_options& opts);
};

/// @brief Every policy, in enum order: adding one is an enumerator and an entry here.
inline constexpr std::array<policy_entry, 7> policy_registry = {{
    {policy_kind::round_robin, "round_robin", false,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
       round_robin_router router(f);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::least_loaded, "least_loaded", false,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
       least_loaded_router router(f);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::power_of_two, "power_of_two", false,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
       power_of_d_router<joulesched_cost> router(f, s.power_of_d, joulesched_cost(s.lambda_fixed_j_per_s), s.seed);
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::energy_fixed, "energy_fixed", false,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
       argmin_router<joulesched_cost> router(f, joulesched_cost(s.lambda_fixed_j_per_s));
       no_control c;
       return detail::run_with(devices, f, router, c, s, opts, src);
     }},
    {policy_kind::energy_pi, "energy_pi", true,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
       shared_price lambda(s.lambda_fixed_j_per_s);
       argmin_router<joulesched_cost> router(f, joulesched_cost(lambda));
       pi_lambda_control c(lambda, s);
       sim_result r = detail::run_with(devices, f, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
       return r;
     }},
    {policy_kind::tiered, "tiered", true,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       fleet f(params, "simulated fleet");
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
    {policy_kind::energy_profile, "energy_profile", true,
     [](const auto& devices, const auto& params, auto& src, const auto& s, const auto& opts) -> sim_result {
       // One profile per distinct model, owned here for the run; the fleet's params point at them.
       std::vector<const device_model*> models;
       for (const device_model* m : devices.model)
         if (std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
       std::vector<energy_profile> profiles;
       profiles.reserve(models.size());
       for (const device_model* m : models) profiles.push_back(profile_of(*m));
       std::vector<device_params> with_profiles = params;
       for (std::size_t i = 0; i < with_profiles.size(); ++i)
         with_profiles[i].profile = &profiles[static_cast<std::size_t>(
             std::find(models.begin(), models.end(), devices.model[i]) - models.begin())];
       fleet fp(with_profiles, "simulated fleet");
       shared_price lambda(s.lambda_fixed_j_per_s);
       argmin_router<profile_cost> router(fp, profile_cost(lambda));
       pi_lambda_control c(lambda, s);
       sim_result r = detail::run_with(devices, fp, router, c, s, opts, src);
       r.lambda_trace = c.take_trace();
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

/// @brief Every policy's name, in registry order, joined by commas (the program's default `--policies`).
[[nodiscard]] inline std::string all_policy_names() {
  std::string names;
  for (const policy_entry& e : policy_registry) names += (names.empty() ? "" : ",") + std::string(e.name);
  return names;
}

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

/// @brief Runs one policy over `devices` (whose routing parameters are `params`, in id order) on `src`.
/// The result's `policy` is the policy's name; the policies that tune lambda (tunes_lambda) fill `lambda_trace`.
/// @throws config_error for bad settings or a source that breaks its promises.
[[nodiscard]] inline sim_result run_policy(policy_kind kind, const sim_devices& devices,
                                           const std::vector<device_params>& params, request_source& src,
                                           const policy_settings& s, const engine_options& opts) {
  sim_result r = entry_of(kind).run(devices, params, src, s, opts);
  r.policy = to_string(kind);
  return r;
}

}  // namespace joulesched::sim
