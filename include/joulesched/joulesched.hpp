/// @file joulesched.hpp
/// @brief Umbrella header: includes every public header of the policy library, nothing else.
/// The simulator has its own umbrella, joulesched/sim.hpp.
///
/// @mainpage joulesched API reference
/// joulesched is a C++20 header-only library of energy- and carbon-aware scheduling policies for LLM inference
/// fleets, plus a trace-driven simulator that runs the same policy code on a model of a fleet. Start from:
/// - joulesched::fleet, the state routers read, and joulesched::argmin_router, which routes a request to the
///   device of least cost (cost/ holds the cost models, e.g. joulesched::joulesched_cost);
/// - joulesched::concurrent_fleet and joulesched::concurrent_argmin_router for many router threads;
/// - joulesched::lambda_controller and joulesched::shared_price, which steer the price of lateness;
/// - joulesched::sim::simulator and joulesched::sim::scenario for replaying a workload on a modelled fleet.
///
/// The README in the repository is the user's guide; CONTRIBUTING.md says how to build, test and add a policy.
#pragma once

#include "joulesched/carbon/carbon_meter.hpp"
#include "joulesched/carbon/forecast.hpp"
#include "joulesched/carbon/intensity_file.hpp"
#include "joulesched/carbon/intensity_series.hpp"
#include "joulesched/carbon/temporal_shift.hpp"
#include "joulesched/clock.hpp"
#include "joulesched/concepts.hpp"
#include "joulesched/control/lambda_controller.hpp"
#include "joulesched/control/miad_governor.hpp"
#include "joulesched/control/miss_window.hpp"
#include "joulesched/control/price_loop.hpp"
#include "joulesched/control/shared_price.hpp"
#include "joulesched/control/site_carbon.hpp"
#include "joulesched/cost/carbon_cost.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/lambda_weighted.hpp"
#include "joulesched/cost/profile_cost.hpp"
#include "joulesched/cost/profile_terms.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/cost/terms.hpp"
#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/error.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/plan/exhaustive_solver.hpp"
#include "joulesched/plan/freesh_inputs.hpp"
#include "joulesched/plan/freesh_planner.hpp"
#include "joulesched/plan/milp.hpp"
#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/profiles/profile_file.hpp"
#include "joulesched/queues.hpp"
#include "joulesched/queues/deadline_queue.hpp"
#include "joulesched/queues/handoff.hpp"
#include "joulesched/queues/intrusive_queue.hpp"
#include "joulesched/queues/laxity.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/candidate.hpp"
#include "joulesched/routing/concurrent/concurrent_fleet.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/routing/partitioned_router.hpp"
#include "joulesched/routing/plan_router.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/routing/random_router.hpp"
#include "joulesched/routing/round_robin.hpp"
#include "joulesched/routing/tiered_router.hpp"
#include "joulesched/slo_class.hpp"
#include "joulesched/tiers/classifiers.hpp"
#include "joulesched/traits.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"
#include "joulesched/version.hpp"
