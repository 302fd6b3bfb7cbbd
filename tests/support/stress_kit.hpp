// What the concurrency stress tests share: the illustrative device types, a random request, a watchdog that
// turns a hang into a failure, and a mutex-protected channel from routing threads to completion threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include "joulesched/types.hpp"

namespace joulesched::test {

// Illustrative device types (not measured values): three classes.
inline constexpr device_params a100{2500.0, 0.21};
inline constexpr device_params h100{4000.0, 0.15};
inline constexpr device_params l4{900.0, 0.12};

inline request_view random_request(std::mt19937_64& rng) {
  request_view v;
  v.work_tok = static_cast<std::uint32_t>(rng() % 600);
  v.input_tok = static_cast<std::uint32_t>(rng() % 2000);
  v.budget_s = static_cast<double>(rng() % 300) / 100.0;
  v.tier = rng() % 3 == 0 ? tier::bulk : tier::interactive;
  return v;
}

// Fails a test that hangs instead of letting it run forever. Not part of any pass condition.
struct watchdog {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  [[nodiscard]] bool expired() const { return std::chrono::steady_clock::now() - start > std::chrono::seconds(60); }
};

// A FIFO channel between threads (a mutex and a deque: the tests' plumbing, not what they test).
template <class T>
struct channel {
  std::mutex m;
  std::deque<T> q;
  void push(const T& x) {
    const std::lock_guard g(m);
    q.push_back(x);
  }
  std::optional<T> pop() {
    const std::lock_guard g(m);
    if (q.empty()) return std::nullopt;
    const T x = q.front();
    q.pop_front();
    return x;
  }
};

}  // namespace joulesched::test
