/// @file least_loaded.hpp
/// @brief Least-loaded baselines: the exact argmin over queued tokens, or over ETA (queued work divided by
/// the device's rate). Both are monotone in load, so both take the class-indexed path.
#pragma once

#include "joulesched/cost/weighted_cost.hpp"
#include "joulesched/routing/argmin_router.hpp"

namespace joulesched {

/// The device with the fewest queued tokens (ties: lower id).
using least_loaded_router = argmin_router<queued_tokens_cost>;
/// The device that would finish the request first.
using least_eta_router = argmin_router<eta_cost>;

}  // namespace joulesched
