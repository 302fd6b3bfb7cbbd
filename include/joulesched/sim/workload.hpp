/// @file workload.hpp
/// @brief The workload a simulation runs, all of it: a mix of request classes (workload_mix.hpp), the default
/// mix (default_mix.hpp), a seeded synthetic generator (mix_source.hpp), a trace replayer (trace_source.hpp)
/// and a time-varying rate shape (rate_shape.hpp). Include the one you need, or this.
#pragma once

#include "joulesched/sim/default_mix.hpp"
#include "joulesched/sim/mix_source.hpp"
#include "joulesched/sim/rate_shape.hpp"
#include "joulesched/sim/trace_source.hpp"
#include "joulesched/sim/workload_mix.hpp"
