// Compile-only checks: what satisfies each concept, and what must not. If this file compiles, it passed;
// the one runtime case below only records that fact in the test report.
#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/random_router.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/tiers/classifiers.hpp"

namespace {

// Devices adapted through members: data members or member functions.
struct member_device {
  double rate_tok_s;
  double energy_j_per_tok;
};
struct method_device {
  double rate_tok_s() const { return 1.0; }
  double energy_j_per_tok() const { return 1.0; }
  joulesched::site_id site() const { return 2; }
};
// A device with other names, adapted through a traits specialisation.
struct foreign_device {
  float tokens_per_second;
  float joules_per_token;
};
// Not devices: a field missing, or a field of the wrong type.
struct no_energy_device {
  double rate_tok_s;
};
struct text_rate_device {
  const char* rate_tok_s;
  double energy_j_per_tok;
};

struct member_request {
  double input_tok;
  double deadline_s;
};
struct tiered_request {
  unsigned input_tok;
  double deadline_s;
  std::optional<joulesched::tier> declared_tier;
  unsigned output_tok;
  double work_tok;
};
struct no_deadline_request {
  double input_tok;
};

// Cost models: a monotone one, one without the flag, one whose flag is not a constant expression, one
// that may throw.
struct ok_cost {
  static constexpr bool monotone_in_load = false;
  double operator()(const joulesched::device_params&, const joulesched::device_load&,
                    const joulesched::request_view&) const noexcept {
    return 0;
  }
};
struct flagless_cost {
  double operator()(const joulesched::device_params&, const joulesched::device_load&,
                    const joulesched::request_view&) const noexcept {
    return 0;
  }
};
struct runtime_flag_cost {
  static inline bool monotone_in_load = true;
  double operator()(const joulesched::device_params&, const joulesched::device_load&,
                    const joulesched::request_view&) const noexcept {
    return 0;
  }
};
struct throwing_cost {
  [[maybe_unused]] static constexpr bool monotone_in_load = true;
  double operator()(const joulesched::device_params&, const joulesched::device_load&,
                    const joulesched::request_view&) const {
    return 0;
  }
};

struct not_a_router {
  void route(const joulesched::request_view&) {}
};

}  // namespace

template <>
struct joulesched::device_traits<foreign_device> {
  static double rate_tok_s(const foreign_device& d) { return d.tokens_per_second; }
  static double energy_j_per_tok(const foreign_device& d) { return d.joules_per_token; }
  static site_id site(const foreign_device&) { return 0; }
  static const energy_profile* profile(const foreign_device&) { return nullptr; }
};

using namespace joulesched;

static_assert(Device<member_device>);
static_assert(Device<method_device>);
static_assert(Device<foreign_device>);
static_assert(!Device<no_energy_device>);
static_assert(!Device<text_rate_device>);
static_assert(!Device<int>);

static_assert(Request<member_request>);
static_assert(Request<tiered_request>);
static_assert(RequestWithTruth<tiered_request> && !RequestWithTruth<member_request>);
static_assert(RequestWithWork<tiered_request> && !RequestWithWork<member_request>);
static_assert(!Request<no_deadline_request>);
static_assert(!Request<member_device>);

static_assert(CostModel<ok_cost>);
static_assert(CostModel<joulesched_cost> && joulesched_cost::monotone_in_load);
static_assert(CostModel<eta_cost> && CostModel<reserved_work_cost>);
static_assert(!CostModel<flagless_cost>);
static_assert(!CostModel<runtime_flag_cost>);
static_assert(!CostModel<throwing_cost>);
static_assert(weighted_cost<energy_term, slo_penalty_term>::monotone_in_load);
static_assert(!weighted_cost<energy_term, ok_cost>::monotone_in_load);

// A weighted sum has a floor when one term has one and every other term is non-negative.
static_assert(FlooredCostModel<joulesched_cost> && joulesched_cost::floored_term == 0);
static_assert(FlooredCostModel<energy_term> && !FlooredCostModel<eta_cost> && !FlooredCostModel<slo_penalty_term>);
static_assert(weighted_cost<slo_penalty_term, energy_term>::floored_term == 1);
static_assert(weighted_cost<eta_term, energy_term>::floored_term == 1);  // eta is non-negative
static_assert(!FlooredCostModel<reserved_work_cost>);                    // no term has a floor
static_assert(!FlooredCostModel<weighted_cost<energy_term, ok_cost>>);   // ok_cost may be negative
static_assert(!FlooredCostModel<ok_cost>);
namespace {
// A term with a floor that may be negative: it can bound a sum whose other terms are non-negative.
struct signed_floored_term {
  static constexpr bool monotone_in_load = true;
  double operator()(const device_params&, const device_load&, const request_view&) const noexcept { return -1.0; }
  double floor(const device_params&, const request_view&) const noexcept { return -1.0; }
  double floor_key(const device_params&) const noexcept { return 0.0; }
};
}  // namespace
static_assert(weighted_cost<energy_term, signed_floored_term>::floored_term == 1);
static_assert(!FlooredCostModel<weighted_cost<signed_floored_term, signed_floored_term>>);
static_assert(argmin_router<joulesched_cost>::floor_ordered && !scan_router<joulesched_cost>::floor_ordered);
static_assert(!argmin_router<reserved_work_cost>::floor_ordered);

static_assert(Router<argmin_router<joulesched_cost>>);
static_assert(Router<scan_router<ok_cost>>);
static_assert(Router<least_loaded_router> && Router<least_eta_router>);
static_assert(Router<round_robin_router>);
static_assert(Router<random_router<>>);
static_assert(Router<power_of_d_router<joulesched_cost>>);
static_assert(Router<tiered_router<declared_tier_classifier, argmin_router<joulesched_cost>, least_loaded_router>>);
static_assert(!Router<not_a_router>);
static_assert(!Router<int>);
// What tiered_router needs: a router that names its fleet, handing it out mutable only when it is mutable.
static_assert(FleetRouter<argmin_router<joulesched_cost>> && FleetRouter<least_loaded_router> &&
              FleetRouter<round_robin_router> && FleetRouter<random_router<>> &&
              FleetRouter<power_of_d_router<joulesched_cost>>);
static_assert(std::is_same_v<decltype(std::declval<const argmin_router<joulesched_cost>&>().state()), const fleet&>);
namespace {
// Routes and releases, but names no fleet: a Router, not a FleetRouter, so tiered_router refuses it at compile time
// (it used to accept it and then fail inside, calling state()).
struct stateless_router {
  std::optional<assignment> route(const request_view&) { return std::nullopt; }
  bool release(const assignment&) { return true; }
};
}  // namespace
static_assert(Router<stateless_router> && !FleetRouter<stateless_router>);
template <class R>
concept tiered_accepts = requires { typename tiered_router<declared_tier_classifier, R, R>; };
static_assert(tiered_accepts<least_loaded_router> && !tiered_accepts<stateless_router>);

static_assert(TierClassifier<declared_tier_classifier>);
static_assert(!TierClassifier<ok_cost>);

// A non-monotone cost takes the scan even on the automatic path.
static_assert(!argmin_router<ok_cost>::class_indexed);
static_assert(argmin_router<joulesched_cost>::class_indexed);

TEST_CASE("concepts.static_checks_compiled") {
  // The checks above ran at compile time; reading a member device through the traits runs here.
  CHECK(device_traits<method_device>::site(method_device{}) == 2);
  CHECK(device_traits<member_device>::profile(member_device{1, 1}) == nullptr);
}
