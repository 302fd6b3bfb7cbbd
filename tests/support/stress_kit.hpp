// What the concurrency stress tests share: the illustrative device types, a random request, a watchdog that
// turns a hang into a failure, a mutex-protected channel from routing threads to completion threads, and the
// completion threads' loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

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

// Hands each item taken from `ch` to `handle` until every producer has counted itself out of `producers_left`
// and the channel is empty. Returns false if the watchdog expired first or `handle` returned false (a hang).
template <class T, class Handle>
bool consume_until_done(channel<T>& ch, const std::atomic<int>& producers_left, const watchdog& dog, Handle&& handle) {
  for (;;) {
    if (const auto x = ch.pop()) {
      if (!handle(*x)) return false;
    } else if (producers_left.load() == 0) {
      // Every push happened before its producer counted itself out, so an empty channel now stays empty.
      const std::lock_guard g(ch.m);
      if (ch.q.empty()) return true;
    } else if (dog.expired()) {
      return false;
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace joulesched::test
