/// @file least_loaded.hpp
/// @brief Least-loaded baselines: the exact argmin over reserved work (device-seconds of backlog), or over ETA
/// (backlog plus the request's own latency on the device). Both are monotone in load, so both take the
/// class-indexed path.
#pragma once

#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/routing/argmin_router.hpp"

namespace joulesched {

/// The device with the least reserved work, in seconds (ties: lower id).
using least_loaded_router = argmin_router<reserved_work_cost>;
/// The device that would finish the request first.
using least_eta_router = argmin_router<eta_cost>;

}  // namespace joulesched
