// The router-to-dispatcher hand-off: its single-thread contract (FIFO, bounded, a full queue says so), a
// multi-producer stress run (every request exactly once, in each producer's order), and the whole path under
// load: router threads route and hand requests to per-device hand-offs, dispatcher threads drain them into
// EDF queues, serve them and release their load. Fixed numbers of operations; a watchdog only turns a hang
// into a failure.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/queues/deadline_queue.hpp"
#include "joulesched/queues/handoff.hpp"
#include "joulesched/routing/concurrent_router.hpp"

using namespace joulesched;

namespace {

struct item {
  int producer = -1;
  int seq = -1;
  handoff_hook hook;
};
using item_queue = handoff_queue<item, &item::hook>;

// A request as the engine might hold it: Request (deadline_s, input_tok) for the EDF queue, its assignment
// for the release, and the hand-off link.
struct req {
  std::uint64_t id = 0;
  double deadline_s = 0.0;
  double input_tok = 0.0;
  assignment a{};
  handoff_hook hook;
};
static_assert(Request<req>);
using inbox = handoff_queue<req, &req::hook>;

struct watchdog {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  [[nodiscard]] bool expired() const { return std::chrono::steady_clock::now() - start > std::chrono::seconds(60); }
};

}  // namespace

TEST_CASE("handoff_queue.one_thread.fifo_bounded_reusable") {
  CHECK_THROWS_AS(item_queue(0), config_error);
  item_queue q(3);
  CHECK(q.capacity() == 3);
  CHECK(q.pop() == nullptr);
  std::vector<item> items(4);
  for (int i = 0; i < 4; ++i) items[static_cast<std::size_t>(i)].seq = i;
  CHECK(q.push(items[0]));
  CHECK(q.push(items[1]));
  CHECK(q.push(items[2]));
  CHECK_FALSE(q.push(items[3]));  // full: reported, not dropped, not blocked
  CHECK(q.size_approx() == 3);
  CHECK(q.pop() == &items[0]);
  CHECK(q.push(items[3]));
  CHECK(q.pop() == &items[1]);
  CHECK(q.pop() == &items[2]);
  CHECK(q.push(items[0]));  // a popped request may be pushed again
  CHECK(q.pop() == &items[3]);
  CHECK(q.pop() == &items[0]);
  CHECK(q.pop() == nullptr);
  CHECK(q.size_approx() == 0);
  // Many rounds through the stub.
  for (int round = 0; round < 100; ++round) {
    CHECK(q.push(items[static_cast<std::size_t>(round % 4)]));
    CHECK(q.pop() == &items[static_cast<std::size_t>(round % 4)]);
  }
  int seen = 0;
  CHECK(q.push(items[1]));
  CHECK(q.push(items[2]));
  CHECK(q.drain([&](item& it) { seen = seen * 10 + it.seq; }) == 2);
  CHECK(seen == 12);
}

TEST_CASE("handoff_queue.hook_copies_unlinked") {
  item_queue q(2);
  item a;
  a.seq = 7;
  CHECK(q.push(a));
  item b = a;  // copying a queued request copies its data, not its link
  b.seq = 8;
  CHECK(q.push(b));
  CHECK(q.pop() == &a);
  CHECK(q.pop() == &b);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("handoff_queue.push.of_a_request_already_queued_is_refused") {
  // Before: push(a); push(a) made a's link point to itself (pop never ended), and push(a); push(b); push(a)
  // lost b and leaked a place of the capacity.
  item_queue q(8);
  item a;
  item b;
  a.seq = 1;
  b.seq = 2;
  CHECK(q.push(a));
  CHECK_FALSE(q.push(a));
  CHECK(q.size_approx() == 1);
  CHECK(q.push(b));
  CHECK_FALSE(q.push(a));
  CHECK(q.size_approx() == 2);
  item_queue other(2);
  CHECK_FALSE(other.push(a));  // queued in another hand-off through the same hook
  CHECK(other.size_approx() == 0);
  CHECK(q.pop() == &a);
  CHECK(q.pop() == &b);
  CHECK(q.pop() == nullptr);
  CHECK(q.size_approx() == 0);
  CHECK(q.push(a));  // popped: may be pushed again
  CHECK(q.pop() == &a);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("handoff_queue.stress.each_item_once_in_producer_order") {
  constexpr int producers = 3;
  constexpr int per_producer = 50000;
  item_queue q(64);  // small, so producers meet a full queue and must retry
  std::vector<std::unique_ptr<item[]>> items;
  for (int p = 0; p < producers; ++p) {
    items.push_back(std::make_unique<item[]>(per_producer));
    for (int i = 0; i < per_producer; ++i) items.back()[static_cast<std::size_t>(i)] = item{p, i, {}};
  }
  std::atomic<std::uint64_t> full{0};
  std::atomic<bool> hung{false};
  const watchdog dog;
  std::latch go(4);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      go.arrive_and_wait();
      for (int i = 0; i < per_producer && !hung.load(std::memory_order_relaxed); ++i) {
        while (!q.push(items[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)])) {
          full.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  go.arrive_and_wait();  // this thread is the consumer
  std::vector<int> next(producers, 0);
  int received = 0, out_of_order = 0, foreign = 0;
  while (received < producers * per_producer) {
    if (item* it = q.pop()) {
      ++received;
      if (it->producer < 0 || it->producer >= producers) {
        ++foreign;
      } else if (it->seq != next[static_cast<std::size_t>(it->producer)]++) {
        ++out_of_order;
      }
    } else if (dog.expired()) {
      hung = true;
      break;
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& t : threads) t.join();
  REQUIRE_FALSE(hung.load());
  CHECK(foreign == 0);
  CHECK(out_of_order == 0);
  for (int p = 0; p < producers; ++p) CHECK(next[static_cast<std::size_t>(p)] == per_producer);
  CHECK(q.pop() == nullptr);
  CHECK(q.size_approx() == 0);
  MESSAGE("pushes refused because the hand-off was full (then retried): " << full.load());
}

TEST_CASE("handoff.end_to_end.routers_to_dispatchers_each_request_served_once") {
  // 3 router threads route 25,000 requests each over a 24-device fleet and hand each to its device's inbox;
  // 2 dispatcher threads own 12 devices each, drain their inboxes into per-device EDF queues, serve in EDF
  // order and release the load. Each request id must be served exactly once, by the dispatcher of the device
  // it was routed to; every load must return to zero.
  constexpr std::size_t n = 24;
  constexpr int routers = 3;
  constexpr int per_router = 25000;
  constexpr int dispatchers = 2;
  constexpr std::size_t total = routers * per_router;

  std::vector<device_params> ps(n);
  for (std::size_t i = 0; i < n; ++i) ps[i] = i % 3 == 0 ? device_params{900.0, 0.12} : device_params{2500.0, 0.21};
  concurrent_fleet cf(ps, 2);
  std::vector<std::unique_ptr<inbox>> inboxes;
  for (std::size_t i = 0; i < n; ++i) inboxes.push_back(std::make_unique<inbox>(16));
  auto requests = std::make_unique<req[]>(total);
  std::vector<std::atomic<std::uint32_t>> served(total);
  std::atomic<std::uint64_t> served_total{0}, wrong_dispatcher{0}, full{0}, not_in_edf_order{0};
  std::atomic<bool> hung{false};
  const watchdog dog;

  std::latch go(5);  // every thread starts at once, so that they overlap
  std::vector<std::thread> threads;
  for (int r = 0; r < routers; ++r) {
    threads.emplace_back([&, r] {
      go.arrive_and_wait();
      concurrent_argmin_router<joulesched_cost> router(cf, joulesched_cost(10.0));
      std::mt19937_64 rng(static_cast<std::uint64_t>(r) + 1);
      for (int k = 0; k < per_router; ++k) {
        req& q = requests[static_cast<std::size_t>(r * per_router + k)];
        q.id = static_cast<std::uint64_t>(r * per_router + k);
        q.deadline_s = static_cast<double>(rng() % 1000);
        q.input_tok = static_cast<double>(rng() % 500);
        const request_view v{static_cast<std::uint32_t>(1 + rng() % 400), static_cast<std::uint32_t>(q.input_tok),
                             q.deadline_s, tier::interactive};
        for (;;) {
          const auto a = router.route(v);
          if (!a) {  // cannot happen: nothing is drained
            if (dog.expired()) {
              hung = true;
              return;
            }
            continue;
          }
          q.a = *a;
          if (inboxes[a->device]->push(q)) break;
          // Full: give the reservation back and route again (the load changed, so perhaps elsewhere).
          cf.release(*a);
          full.fetch_add(1, std::memory_order_relaxed);
          if (hung.load(std::memory_order_relaxed)) return;
          std::this_thread::yield();
        }
      }
    });
  }
  for (int d = 0; d < dispatchers; ++d) {
    threads.emplace_back([&, d] {
      go.arrive_and_wait();
      std::vector<edf_queue<req>> edf(n);  // used only for the devices this dispatcher owns
      while (served_total.load() < total) {
        bool idle = true;
        for (std::size_t dev = static_cast<std::size_t>(d); dev < n; dev += dispatchers) {
          inboxes[dev]->drain([&](req& q) { edf[dev].push(q); });  // copies the request (its hook unlinked)
          // Serve what has arrived, earliest deadline first.
          double last_deadline = -1.0;
          while (!edf[dev].empty()) {
            const req q = edf[dev].pop();
            idle = false;
            if (q.deadline_s < last_deadline) not_in_edf_order.fetch_add(1, std::memory_order_relaxed);
            last_deadline = q.deadline_s;
            if (q.a.device != dev) wrong_dispatcher.fetch_add(1, std::memory_order_relaxed);
            served[q.id].fetch_add(1, std::memory_order_relaxed);
            cf.release(q.a);
            served_total.fetch_add(1);
          }
        }
        if (idle) {
          if (dog.expired()) {
            hung = true;
            return;
          }
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  REQUIRE_FALSE(hung.load());
  CHECK(served_total.load() == total);
  std::size_t once = 0;
  for (std::size_t i = 0; i < total; ++i) once += served[i].load() == 1 ? 1u : 0u;
  CHECK(once == total);
  CHECK(wrong_dispatcher.load() == 0);
  CHECK(not_in_edf_order.load() == 0);
  for (device_id id = 0; id < n; ++id) {
    CHECK(cf.load(id).reserved_ns == 0);
    CHECK(cf.load(id).requests == 0);
  }
  CHECK(cf.consistent());
  for (const auto& q : inboxes) CHECK(q->pop() == nullptr);
  MESSAGE("requests: " << total << ", pushes refused by a full inbox (released and routed again): " << full.load());
}
