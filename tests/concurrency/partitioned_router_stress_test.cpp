// Stress tests of partitioned routing, run under ThreadSanitizer: each partition's owner thread routes, drains
// and restores its own devices and releases some of its work itself, while completer threads post the rest of
// the releases to the owning partition's inbox (retrying while it is full); and the inbox ring alone with
// several producers. Each test does a fixed number of operations, so it ends whatever the scheduling; nothing
// here depends on timing to pass. A watchdog only turns a hang (a bug) into a failure.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <memory>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/detail/mpsc_ring.hpp"
#include "joulesched/routing/partitioned_router.hpp"
#include "support/stress_kit.hpp"

using namespace joulesched;
using test::a100, test::h100, test::l4, test::random_request, test::watchdog;

namespace {

// Three classes, interleaved by id.
std::vector<device_params> three_class_fleet(std::size_t n) {
  std::vector<device_params> ps(n);
  for (std::size_t i = 0; i < n; ++i) ps[i] = i % 3 == 0 ? a100 : i % 3 == 1 ? h100 : l4;
  return ps;
}

// A routed request on its way to a completer: its number (for counting releases) and its assignment.
struct job {
  std::uint64_t id = 0;
  assignment a{};
};

// The channel from owner threads to completer threads.
using completions = test::channel<job>;

using prouter = partitioned_router<joulesched_cost>;

// `parts` owner threads each route `ops` requests on their own partition of an n-device fleet; two completer
// threads post about half of the releases to the owner's inbox of `inbox` releases. Checks that every routed
// request is released exactly once, that no decision picks a device its owner had drained, and that every
// load is zero once the last posted releases are applied.
void run_partitioned_stress(std::size_t parts, std::size_t n, unsigned ops, std::size_t inbox, std::uint64_t seed) {
  constexpr int completer_count = 2;
  const partition_plan plan(three_class_fleet(n), parts);
  std::vector<std::unique_ptr<prouter>> routers;
  for (std::size_t p = 0; p < parts; ++p)
    routers.push_back(std::make_unique<prouter>(plan, p, joulesched_cost(20.0), inbox));

  const std::size_t ids = parts * ops;
  std::vector<std::uint8_t> routed(ids, 0);  // each owner writes only its own ids; read after join
  std::vector<std::atomic<std::uint32_t>> released(ids);
  for (auto& r : released) r.store(0, std::memory_order_relaxed);
  completions done;
  std::atomic<int> owners_left{static_cast<int>(parts)}, completers_left{completer_count};
  std::atomic<std::uint64_t> decided{0}, empty_routes{0}, bad_owner{0}, picked_drained{0}, bad_empty{0};
  std::atomic<std::uint64_t> refused_posts{0}, to_completers{0};
  std::atomic<bool> hung{false};
  const watchdog dog;

  std::latch go(static_cast<std::ptrdiff_t>(parts) + completer_count);  // every thread starts at once
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < parts; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      prouter& r = *routers[t];
      const auto members = plan.members(t);
      std::mt19937_64 rng(seed + t);
      std::vector<std::uint8_t> drained(members.size(), 0);  // this owner's own record, by local id
      std::size_t drained_count = 0;
      std::vector<job> window;  // released by the owner itself, a few routes later
      auto release_from_window = [&] {
        const auto k = rng() % window.size();
        released[window[k].id].fetch_add(1, std::memory_order_relaxed);
        r.release(window[k].a);
        window.erase(window.begin() + static_cast<std::ptrdiff_t>(k));
      };
      const std::size_t own_batch_size = std::min<std::size_t>(3, r.inbox_capacity());
      std::vector<assignment> own_batch;
      auto post_own_batch = [&] {
        while (!r.post_releases(own_batch)) r.apply_posted();
        own_batch.clear();
      };
      for (unsigned i = 0; i < ops; ++i) {
        const auto dice = rng() % 32;
        if (dice == 0) {
          // Drain or restore one of this partition's devices (owner thread only).
          const auto l = static_cast<device_id>(rng() % members.size());
          if (drained[l] != 0) {
            r.set_available(members[l], true);
            drained[l] = 0;
            --drained_count;
          } else {
            r.set_available(members[l], false);
            drained[l] = 1;
            ++drained_count;
          }
          continue;
        }
        if (dice == 1) {
          r.apply_posted();
          continue;
        }
        const std::uint64_t id = t * ops + i;
        const auto a = r.route(random_request(rng));
        if (!a) {
          empty_routes.fetch_add(1, std::memory_order_relaxed);
          if (drained_count != members.size()) bad_empty.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (a->device >= n || plan.owner(a->device) != t) {
          bad_owner.fetch_add(1, std::memory_order_relaxed);
          continue;  // not this partition's: releasing it here would break the state
        }
        if (drained[plan.local_id(a->device)] != 0) picked_drained.fetch_add(1, std::memory_order_relaxed);
        decided.fetch_add(1, std::memory_order_relaxed);
        routed[id] = 1;
        const auto how = rng() % 8;
        if (how < 5) {
          to_completers.fetch_add(1, std::memory_order_relaxed);
          done.push(job{id, *a});
        } else if (how == 5) {
          // The owner may post to its own inbox too, in batches (post_releases); when full, it applies and
          // tries again.
          released[id].fetch_add(1, std::memory_order_relaxed);
          own_batch.push_back(*a);
          if (own_batch.size() == own_batch_size) post_own_batch();
        } else {
          window.push_back(job{id, *a});
          if (window.size() > 6) release_from_window();
        }
      }
      while (!window.empty()) release_from_window();
      post_own_batch();
      owners_left.fetch_sub(1);
      // Keep applying while completers may still be waiting for room in this inbox.
      while (completers_left.load() > 0) {
        r.apply_posted();
        if (dog.expired()) {
          hung = true;
          break;
        }
        std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < completer_count; ++c) {
    threads.emplace_back([&] {
      go.arrive_and_wait();
      const bool finished = test::consume_until_done(done, owners_left, dog, [&](const job& j) {
        prouter& owner = *routers[plan.owner(j.a.device)];
        while (!owner.post_release(j.a)) {
          refused_posts.fetch_add(1, std::memory_order_relaxed);
          if (dog.expired()) return false;
          std::this_thread::yield();
        }
        released[j.id].fetch_add(1, std::memory_order_relaxed);
        return true;
      });
      if (!finished) hung = true;
      completers_left.fetch_sub(1);
    });
  }
  for (auto& th : threads) th.join();

  REQUIRE_FALSE(hung.load());
  CHECK(bad_owner.load() == 0);
  CHECK(picked_drained.load() == 0);
  CHECK(bad_empty.load() == 0);
  CHECK(decided.load() > 0);
  CHECK(to_completers.load() > 0);
  // Every routed request released exactly once; nothing released that was not routed.
  std::uint64_t routed_count = 0, once = 0, wrong = 0;
  for (std::size_t id = 0; id < ids; ++id) {
    const std::uint32_t r = released[id].load();
    routed_count += routed[id];
    if (routed[id] != 0 && r == 1) ++once;
    if (r != routed[id]) ++wrong;
  }
  CHECK(routed_count == decided.load());
  CHECK(once == routed_count);
  CHECK(wrong == 0);
  // The joined owners' threads are done: this thread applies what is left and reads the states.
  for (std::size_t p = 0; p < parts; ++p) {
    prouter& r = *routers[p];
    r.apply_posted();
    CHECK(r.apply_posted() == 0);
    REQUIRE(r.state().size() == plan.members(p).size());
    for (device_id l = 0; l < r.state().size(); ++l) {
      INFO("partition " << p << ", local device " << l);
      CHECK(r.state().load(l).reserved_ns == 0);
      CHECK(r.state().load(l).requests == 0);
    }
  }
  MESSAGE(parts << " partitions: " << decided.load() << " decisions, " << to_completers.load()
                << " released by completers, " << refused_posts.load() << " posts refused (inbox full), "
                << empty_routes.load() << " routes with every device drained");
}

}  // namespace

TEST_CASE("partitioned_router.stress.three_owners_two_completers_each_request_released_once") {
  run_partitioned_stress(3, 24, 20000, 8, 100);
}

TEST_CASE("partitioned_router.stress.two_owners_tiny_inbox_each_request_released_once") {
  // An inbox of 2 fills often: completers must wait for the owners to apply.
  run_partitioned_stress(2, 7, 20000, 2, 200);
}

TEST_CASE("mpsc_ring.stress.three_producers_single_and_batched_each_value_once_in_producer_order") {
  // A non-atomic payload derived from (producer, seq): a torn or early read shows up as a wrong payload, and
  // under TSan as a race.
  struct msg {
    std::uint32_t producer = 0;
    std::uint32_t seq = 0;
    std::uint64_t payload = 0;
  };
  auto payload_of = [](std::uint32_t p, std::uint32_t s) {
    return (std::uint64_t{p} << 40) ^ (std::uint64_t{s} * 0x9E3779B97F4A7C15ull);
  };
  constexpr std::uint32_t producers = 3;
  constexpr std::uint32_t per_producer = 50000;
  detail::mpsc_ring<msg> ring(16);
  std::atomic<bool> hung{false};
  std::atomic<std::uint64_t> refused{0};
  const watchdog dog;
  std::latch go(producers + 1);
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      go.arrive_and_wait();
      for (std::uint32_t s = 0; s < per_producer;) {
        // Producer 0 pushes one value at a time; the others push batches of 1-5 consecutive values at once.
        const std::uint32_t k = p == 0 ? 1 : std::min<std::uint32_t>(1 + s % 5, per_producer - s);
        std::array<msg, 5> batch{};
        for (std::uint32_t i = 0; i < k; ++i) batch[i] = msg{p, s + i, payload_of(p, s + i)};
        const auto pushed = [&] {
          return p == 0 ? ring.push(batch[0]) : ring.push_all(std::span<const msg>(batch.data(), k));
        };
        while (!pushed()) {
          refused.fetch_add(1, std::memory_order_relaxed);
          if (hung.load(std::memory_order_relaxed) || dog.expired()) {
            hung = true;
            return;
          }
          std::this_thread::yield();
        }
        s += k;
      }
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t received = 0, bad_producer = 0, out_of_order = 0, bad_payload = 0;
  threads.emplace_back([&] {
    go.arrive_and_wait();
    msg m;
    while (received < std::uint64_t{producers} * per_producer) {
      if (!ring.pop(m)) {
        if (hung.load(std::memory_order_relaxed) || dog.expired()) {
          hung = true;
          return;
        }
        std::this_thread::yield();
        continue;
      }
      ++received;
      if (m.producer >= producers) {
        ++bad_producer;
        continue;
      }
      if (m.payload != payload_of(m.producer, m.seq)) ++bad_payload;
      if (m.seq != next[m.producer]) ++out_of_order;
      next[m.producer] = m.seq + 1;
    }
  });
  for (auto& t : threads) t.join();
  REQUIRE_FALSE(hung.load());
  CHECK(received == std::uint64_t{producers} * per_producer);
  CHECK(bad_producer == 0);
  CHECK(bad_payload == 0);
  CHECK(out_of_order == 0);  // with every value received and none out of order, each came exactly once
  for (std::uint32_t p = 0; p < producers; ++p) CHECK(next[p] == per_producer);
  msg extra;
  CHECK_FALSE(ring.pop(extra));
  MESSAGE("mpsc_ring: " << received << " values, " << refused.load() << " pushes refused (full)");
}
