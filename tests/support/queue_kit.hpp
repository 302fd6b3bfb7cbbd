// A reusable kit of checks that every request queue must pass (the idea of Boost.Heap's common_heap_tests.hpp):
// order by key, ties in arrival order, cancellation, size, and long random runs against a reference model.
//
// A test file registers the checks over its queue types through a "spec": edf_spec<Q> or llf_spec<Q>, which
// know how to build the queue (with a manual clock) and how to build a request with an exact key. Every queue
// in the kit stores or links kit::request, which embeds a queue_hook so the intrusive queues can use it too
// (value queues copy it; a copied hook is unlinked and unused).
//
// Keys are exact: rate_tok_s is a power of two and keys and work lie on coarse grids, so
// deadline - work / rate gives back the intended key bit for bit and the model can compare with ==.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "joulesched/queues.hpp"
#include "support/manual_clock.hpp"

namespace joulesched::test::kit {

/// The request every kit queue holds. Request and RequestWithWork through its data members.
struct request {
  double deadline_s = 0.0;
  double input_tok = 0.0;
  double work_tok = 0.0;
  int id = -1;
  queue_hook hook;
};
static_assert(RequestWithWork<request>);

/// The service rate of LLF kit queues: a power of two, so work / rate is exact.
inline constexpr double rate_tok_s = 1024.0;

/// EDF: key = deadline.
template <class Q>
struct edf_spec {
  using queue = Q;
  static Q make() { return Q(edf_key{}, manual_clock{}); }
  static request make_request(int id, double key_s, double work_tok) { return request{key_s, 100.0, work_tok, id, {}}; }
};

/// LLF: key = deadline - work / rate, so the deadline is key + work / rate.
template <class Q>
struct llf_spec {
  using queue = Q;
  static Q make() { return Q(llf_key{rate_tok_s}, manual_clock{}); }
  static request make_request(int id, double key_s, double work_tok) {
    return request{key_s + work_tok / rate_tok_s, 100.0, work_tok, id, {}};
  }
};

/// Pops everything and returns the ids in pop order, checking top() against each pop on the way.
template <class Q>
std::vector<int> drain(Q& q) {
  std::vector<int> ids;
  while (!q.empty()) {
    const int top_id = q.top().id;
    const int popped = q.pop().id;
    CHECK(popped == top_id);
    ids.push_back(popped);
  }
  return ids;
}

/// pop returns requests by key, not by deadline or arrival; top_key is the top's key.
template <class S>
void pop_order() {
  // Under LLF the deadlines disagree with the keys (id 0 has key 5 but deadline 8.9; id 2 key 7, deadline 7.1),
  // so an LLF queue that ordered by deadline fails here.
  const double keys[] = {5.0, 1.0, 7.0, 3.0, 0.5, 6.0, 2.0, 4.0};
  const double work[] = {4000.0, 0.0, 100.0, 3000.0, 50.0, 2048.0, 1024.0, 7.0};
  std::vector<request> pool;
  for (int i = 0; i < 8; ++i) pool.push_back(S::make_request(i, keys[i], work[i]));
  auto q = S::make();
  for (auto& r : pool) q.push(r);
  REQUIRE(q.size() == 8);
  const double expected_keys[] = {0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0};
  const int expected_ids[] = {4, 1, 6, 3, 7, 0, 5, 2};
  for (int k = 0; k < 8; ++k) {
    REQUIRE_FALSE(q.empty());
    CHECK(q.top_key() == expected_keys[k]);
    CHECK(q.top().id == expected_ids[k]);
    CHECK(q.pop().id == expected_ids[k]);
    CHECK(q.size() == static_cast<std::size_t>(7 - k));
  }
  CHECK(q.empty());
}

/// Equal keys leave in arrival order, whatever their deadlines and work, and across interleaved pops.
template <class S>
void ties_in_arrival_order() {
  std::vector<request> pool;
  SUBCASE("interleaved keys") {
    // Equal LLF keys with different deadlines (work differs), so a deadline tie-break would fail.
    const double keys[] = {2.0, 1.0, 2.0, 1.0, 2.0, 1.0};
    const double work[] = {0.0, 4096.0, 1024.0, 0.0, 512.0, 2048.0};
    for (int i = 0; i < 6; ++i) pool.push_back(S::make_request(i, keys[i], work[i]));
    auto q = S::make();
    for (auto& r : pool) q.push(r);
    CHECK(drain(q) == std::vector<int>{1, 3, 5, 0, 2, 4});
  }
  SUBCASE("many equal keys") {
    // A heap is not stable by itself: 200 equal keys come out in order only through the arrival number.
    for (int i = 0; i < 200; ++i) pool.push_back(S::make_request(i, 3.0, static_cast<double>((i * 37) % 11) * 64.0));
    auto q = S::make();
    for (auto& r : pool) q.push(r);
    std::vector<int> expected(200);
    for (int i = 0; i < 200; ++i) expected[static_cast<std::size_t>(i)] = i;
    CHECK(drain(q) == expected);
  }
  SUBCASE("pops between pushes") {
    for (int i = 0; i < 4; ++i) pool.push_back(S::make_request(i, 1.0, 0.0));
    auto q = S::make();
    q.push(pool[0]);
    q.push(pool[1]);
    CHECK(q.pop().id == 0);
    q.push(pool[2]);
    q.push(pool[0]);  // pushed again: now the latest arrival
    q.push(pool[3]);
    CHECK(drain(q) == std::vector<int>{1, 2, 0, 3});
  }
}

/// cancel removes exactly the cancelled request, wherever it is, and leaves the others in order.
template <class S>
void cancel_removes_exactly_one() {
  // Arrival order: ids 10..14 with keys 3, 1, 5, 2, 4. By key: 11, 13, 10, 14, 12.
  std::vector<request> pool;
  const double keys[] = {3.0, 1.0, 5.0, 2.0, 4.0};
  for (int i = 0; i < 5; ++i) pool.push_back(S::make_request(10 + i, keys[i], static_cast<double>(i) * 256.0));
  auto q = S::make();
  std::vector<typename S::queue::handle_type> h;
  for (auto& r : pool) h.push_back(q.push(r));
  REQUIRE(q.size() == 5);

  SUBCASE("middle") {
    q.cancel(h[0]);  // key 3
    CHECK(q.size() == 4);
    CHECK(drain(q) == std::vector<int>{11, 13, 14, 12});
  }
  SUBCASE("top") {
    q.cancel(h[1]);  // key 1
    CHECK(q.size() == 4);
    CHECK(q.top().id == 13);
    CHECK(q.top_key() == 2.0);
    CHECK(drain(q) == std::vector<int>{13, 10, 14, 12});
  }
  SUBCASE("last pushed and last in order") {
    q.cancel(h[4]);  // pushed last, key 4
    q.cancel(h[2]);  // key 5, the bottom
    CHECK(q.size() == 3);
    CHECK(drain(q) == std::vector<int>{11, 13, 10});
  }
  SUBCASE("all, then the queue still works") {
    for (int i : {3, 0, 4, 1, 2}) q.cancel(h[static_cast<std::size_t>(i)]);
    CHECK(q.empty());
    q.push(pool[2]);
    q.push(pool[1]);
    CHECK(drain(q) == std::vector<int>{11, 12});
  }
  SUBCASE("after pops") {
    CHECK(q.pop().id == 11);
    q.cancel(h[4]);  // key 4
    CHECK(q.pop().id == 13);
    CHECK(drain(q) == std::vector<int>{10, 12});
  }
}

/// size and empty follow push, pop, cancel and clear.
template <class S>
void size_and_empty() {
  std::vector<request> pool;
  for (int i = 0; i < 4; ++i) pool.push_back(S::make_request(i, static_cast<double>(4 - i), 0.0));
  auto q = S::make();
  CHECK(q.empty());
  CHECK(q.size() == 0);
  const auto h = q.push(pool[0]);  // key 4: stays queued until cancelled
  CHECK_FALSE(q.empty());
  CHECK(q.size() == 1);
  q.push(pool[1]);
  q.push(pool[2]);
  CHECK(q.size() == 3);
  CHECK(q.pop().id == 2);
  CHECK(q.size() == 2);
  q.cancel(h);
  CHECK(q.size() == 1);
  CHECK(q.pop().id == 1);
  CHECK(q.empty());
  CHECK(q.size() == 0);
  for (auto& r : pool) q.push(r);
  CHECK(q.size() == 4);
  q.clear();
  CHECK(q.empty());
  q.push(pool[1]);  // a cleared request can be pushed again
  CHECK(q.size() == 1);
  CHECK(q.top().id == 1);
}

/// top_slack_s is top_key minus the queue's own clock; it may be negative.
template <class S>
void slack_follows_clock() {
  std::vector<request> pool{S::make_request(0, 10.0, 512.0), S::make_request(1, 1.0, 0.0)};
  auto q = S::make();
  q.push(pool[0]);
  CHECK(q.top_slack_s() == 10.0);
  q.clock().advance(2.5);
  CHECK(q.top_slack_s() == 7.5);
  q.push(pool[1]);  // key 1, now 2.5: already late
  CHECK(q.top().id == 1);
  CHECK(q.top_slack_s() == -1.5);
}

/// Random push / pop / cancel against a model (a vector searched for the smallest (key, arrival)); checks every
/// popped request, the top and the size after every operation, then drains.
template <class S>
void random_against_model(std::uint64_t seed, int ops) {
  using Q = typename S::queue;
  struct entry {
    double key_s;
    std::uint64_t seq;
    int id;
    std::size_t slot;
    typename Q::handle_type handle;
  };
  std::mt19937_64 rng(seed);  // raw draws only: the sequence is the same on every platform
  std::vector<request> pool(static_cast<std::size_t>(ops));  // before q: outlives every request q links
  std::vector<std::size_t> free_slots(pool.size());
  for (std::size_t i = 0; i < pool.size(); ++i) free_slots[i] = pool.size() - 1 - i;
  auto q = S::make();
  std::vector<entry> model;
  std::uint64_t seq = 0;
  auto smallest = [&] {
    return std::min_element(model.begin(), model.end(), [](const entry& a, const entry& b) {
      return a.key_s < b.key_s || (a.key_s == b.key_s && a.seq < b.seq);
    });
  };
  INFO("seed " << seed);
  for (int op = 0; op < ops; ++op) {
    INFO("op " << op);
    const auto kind = rng() % 100;
    if (kind < 50 || model.empty()) {
      const std::size_t slot = free_slots.back();
      free_slots.pop_back();
      const double key_s = static_cast<double>(rng() % 64) * 0.25 - 4.0;  // 64 values: many ties
      const double work_tok = static_cast<double>(rng() % 4097);
      pool[slot] = S::make_request(static_cast<int>(seq), key_s, work_tok);
      const auto h = q.push(pool[slot]);
      model.push_back(entry{key_s, seq, static_cast<int>(seq), slot, h});
      ++seq;
    } else if (kind < 80) {
      const auto it = smallest();
      REQUIRE(q.pop().id == it->id);
      free_slots.push_back(it->slot);
      model.erase(it);
    } else {
      const auto it = model.begin() + static_cast<std::ptrdiff_t>(rng() % model.size());
      q.cancel(it->handle);
      free_slots.push_back(it->slot);
      model.erase(it);
    }
    REQUIRE(q.size() == model.size());
    REQUIRE(q.empty() == model.empty());
    if (!model.empty()) {
      const auto it = smallest();
      REQUIRE(q.top().id == it->id);
      REQUIRE(q.top_key() == it->key_s);
    }
  }
  while (!model.empty()) {
    const auto it = smallest();
    REQUIRE(q.pop().id == it->id);
    model.erase(it);
    REQUIRE(q.size() == model.size());
  }
  CHECK(q.empty());
}

}  // namespace joulesched::test::kit
