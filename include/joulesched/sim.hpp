/// @file sim.hpp
/// @brief Umbrella header of the simulator: includes every header under joulesched/sim/, nothing else.
#pragma once

#include "joulesched/sim/device_model.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/event_queue.hpp"
#include "joulesched/sim/fleet_file.hpp"
#include "joulesched/sim/metrics.hpp"
#include "joulesched/sim/policies.hpp"
#include "joulesched/sim/request.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload.hpp"
