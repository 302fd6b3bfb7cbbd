/// @file queues.hpp
/// @brief Umbrella for the per-device request queues: EDF and LLF on Boost.Heap (deadline_queue.hpp) and their
/// intrusive variant (intrusive_queue.hpp), the lock-free hand-off that feeds them (handoff.hpp), and FREESH's
/// preemptive least-laxity rule (laxity.hpp).
#pragma once

#include "joulesched/queues/deadline_queue.hpp"
#include "joulesched/queues/handoff.hpp"
#include "joulesched/queues/intrusive_queue.hpp"
#include "joulesched/queues/laxity.hpp"
