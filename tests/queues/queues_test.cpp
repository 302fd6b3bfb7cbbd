// Tests of the per-device EDF and LLF queues: the common kit over every queue type, then what is specific to LLF,
// to the intrusive variant and to bad configuration, and compile-only checks of the RequestQueue concept.
#include <cmath>
#include <concepts>
#include <csignal>
#include <cstdint>
#include <limits>
#include <queue>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <boost/heap/pairing_heap.hpp>

#include "joulesched/clock.hpp"
#include "joulesched/concepts.hpp"
#include "joulesched/error.hpp"
#include "joulesched/queues.hpp"
#include "support/manual_clock.hpp"
#include "support/queue_kit.hpp"

namespace {

using namespace joulesched;
using test::manual_clock;
using test::kit::request;

// ---- The queue types under test, each checked against the concept right after it is named. ----

using pairing_heap_of_requests =
    boost::heap::pairing_heap<queue_entry<request>, boost::heap::compare<queue_entry_after>>;

using edf_dary = edf_queue<request, manual_clock>;
static_assert(RequestQueue<edf_dary>);
using llf_dary = llf_queue<request, manual_clock>;
static_assert(RequestQueue<llf_dary>);
using edf_pairing = deadline_queue<request, edf_key, manual_clock, pairing_heap_of_requests>;
static_assert(RequestQueue<edf_pairing>);
using llf_pairing = deadline_queue<request, llf_key, manual_clock, pairing_heap_of_requests>;
static_assert(RequestQueue<llf_pairing>);
using edf_intrusive = intrusive_edf_queue<request, &request::hook, manual_clock>;
static_assert(RequestQueue<edf_intrusive>);
using llf_intrusive = intrusive_llf_queue<request, &request::hook, manual_clock>;
static_assert(RequestQueue<llf_intrusive>);

using edf_dary_spec = test::kit::edf_spec<edf_dary>;
using llf_dary_spec = test::kit::llf_spec<llf_dary>;
using edf_pairing_spec = test::kit::edf_spec<edf_pairing>;
using llf_pairing_spec = test::kit::llf_spec<llf_pairing>;
using edf_intrusive_spec = test::kit::edf_spec<edf_intrusive>;
using llf_intrusive_spec = test::kit::llf_spec<llf_intrusive>;

// ---- Compile-only: what is and is not a RequestQueue, and what an LLF queue accepts. ----

// With the default clock too.
static_assert(RequestQueue<edf_queue<request>>);
static_assert(RequestQueue<llf_queue<request>>);
static_assert(RequestQueue<intrusive_edf_queue<request, &request::hook>>);
static_assert(RequestQueue<intrusive_llf_queue<request, &request::hook>>);
static_assert(std::same_as<intrusive_edf_queue<request, &request::hook>::handle_type, request*>);

// Close to a queue but not one: no handle_type, no cancel.
static_assert(!RequestQueue<std::priority_queue<int>>);
static_assert(!RequestQueue<std::vector<request>>);
static_assert(!RequestQueue<int>);

// A request without work: fine for EDF, rejected by LLF (it needs RequestWithWork).
struct deadline_only {
  double deadline_s = 0.0;
  double input_tok = 0.0;
};
static_assert(Request<deadline_only> && !RequestWithWork<deadline_only>);
static_assert(QueueKey<edf_key, deadline_only>);
static_assert(!QueueKey<llf_key, deadline_only>);
template <class Q>
concept names_a_queue = requires { typename Q::value_type; };
static_assert(names_a_queue<edf_queue<deadline_only>>);
template <class T>
concept llf_queue_accepts = requires { typename llf_queue<T>; };
static_assert(llf_queue_accepts<request>);
static_assert(!llf_queue_accepts<deadline_only>);
static_assert(!llf_queue_accepts<int>);

}  // namespace

TYPE_TO_STRING_AS("edf_dary", edf_dary_spec);
TYPE_TO_STRING_AS("llf_dary", llf_dary_spec);
TYPE_TO_STRING_AS("edf_pairing", edf_pairing_spec);
TYPE_TO_STRING_AS("llf_pairing", llf_pairing_spec);
TYPE_TO_STRING_AS("edf_intrusive", edf_intrusive_spec);
TYPE_TO_STRING_AS("llf_intrusive", llf_intrusive_spec);

#define JOULESCHED_ALL_QUEUE_SPECS \
  edf_dary_spec, llf_dary_spec, edf_pairing_spec, llf_pairing_spec, edf_intrusive_spec, llf_intrusive_spec

// ---- The kit, over every queue type. ----

TEST_CASE_TEMPLATE("request_queue.pop.order", S, JOULESCHED_ALL_QUEUE_SPECS) { test::kit::pop_order<S>(); }

TEST_CASE_TEMPLATE("request_queue.pop.ties", S, JOULESCHED_ALL_QUEUE_SPECS) { test::kit::ties_in_arrival_order<S>(); }

TEST_CASE_TEMPLATE("request_queue.cancel.exactly_one", S, JOULESCHED_ALL_QUEUE_SPECS) {
  test::kit::cancel_removes_exactly_one<S>();
}

TEST_CASE_TEMPLATE("request_queue.size.empty", S, JOULESCHED_ALL_QUEUE_SPECS) { test::kit::size_and_empty<S>(); }

TEST_CASE_TEMPLATE("request_queue.top_slack_s.clock", S, JOULESCHED_ALL_QUEUE_SPECS) {
  test::kit::slack_follows_clock<S>();
}

TEST_CASE_TEMPLATE("request_queue.random.model", S, JOULESCHED_ALL_QUEUE_SPECS) {
  for (std::uint64_t seed : {1u, 7u, 42u, 2024u, 31337u}) test::kit::random_against_model<S>(seed, 3000);
}

// ---- LLF: the order and the slack follow deadline - work / rate. ----

TEST_CASE_TEMPLATE("llf_queue.pop.differs_from_edf", S, llf_dary_spec, llf_pairing_spec, llf_intrusive_spec) {
  // At 1024 tok/s: a has deadline 10 and 8 s of work (laxity 2), b deadline 5 and none (laxity 5),
  // c deadline 6 and 2 s of work (laxity 4). LLF serves a, c, b; EDF serves b, c, a.
  std::vector<request> pool{request{10.0, 0.0, 8192.0, 0, {}}, request{5.0, 0.0, 0.0, 1, {}},
                            request{6.0, 0.0, 2048.0, 2, {}}};
  auto llf = S::make();
  for (auto& r : pool) llf.push(r);
  CHECK(llf.top_key() == 2.0);
  CHECK(test::kit::drain(llf) == std::vector<int>{0, 2, 1});

  edf_dary edf;
  for (auto& r : pool) edf.push(r);
  CHECK(edf.top_key() == 5.0);
  CHECK(test::kit::drain(edf) == std::vector<int>{1, 2, 0});
}

TEST_CASE_TEMPLATE("llf_queue.top_slack_s.follows_clock", S, llf_dary_spec, llf_pairing_spec, llf_intrusive_spec) {
  request r{10.0, 0.0, 2048.0, 0, {}};  // laxity at t = 0: 10 - 2048 / 1024 = 8 s
  auto q = S::make();
  q.push(r);
  CHECK(q.top_slack_s() == 8.0);
  q.clock().advance(3.0);
  CHECK(q.top_slack_s() == 5.0);
  q.clock().advance(0.5);
  CHECK(q.top_slack_s() == 4.5);
  q.clock().advance(10.0);
  CHECK(q.top_slack_s() == -5.5);  // late: negative laxity, still queued
  CHECK(q.size() == 1);
}

TEST_CASE_TEMPLATE("llf_queue.push.past_deadline", S, llf_dary_spec, llf_pairing_spec, llf_intrusive_spec) {
  std::vector<request> pool{request{200.0, 0.0, 0.0, 0, {}}, request{50.0, 0.0, 1024.0, 1, {}}};  // outlives q
  auto q = S::make();
  q.clock().advance(100.0);
  q.push(pool[0]);
  q.push(pool[1]);  // deadline 50 s ago, 1 s of work
  CHECK(q.size() == 2);
  CHECK(q.top().id == 1);
  CHECK(q.top_key() == 49.0);
  CHECK(q.top_slack_s() == -51.0);
  CHECK(q.pop().id == 1);
  CHECK(q.top_slack_s() == 100.0);
}

// ---- Bad configuration. ----

TEST_CASE("llf_key.rate_tok_s.rejects_bad") {
  for (double bad : {0.0, -0.0, -1.0, -1e-300, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    CAPTURE(bad);
    bool thrown = false;
    try {
      llf_key k(bad);
      (void)k;
    } catch (const config_error& e) {
      thrown = true;
      CHECK(std::string(e.what()).find("rate_tok_s") != std::string::npos);
    }
    CHECK(thrown);
  }
}

TEST_CASE("llf_key.rate_tok_s.accepts_positive") {
  CHECK(llf_key(1e-3).rate_tok_s() == 1e-3);
  const llf_queue<request, manual_clock> q(llf_key{2500.0});
  CHECK(q.key_policy().rate_tok_s() == 2500.0);
}

// ---- Adapting an engine's request through member functions. ----

namespace {
class engine_request {
 public:
  engine_request(double deadline_s, double work_tok, int id) : deadline_s_(deadline_s), work_tok_(work_tok), id_(id) {}
  [[nodiscard]] double deadline_s() const { return deadline_s_; }
  [[nodiscard]] double input_tok() const { return 16.0; }
  [[nodiscard]] double work_tok() const { return work_tok_; }
  [[nodiscard]] int id() const { return id_; }

 private:
  double deadline_s_;
  double work_tok_;
  int id_;
};
static_assert(RequestQueue<llf_queue<engine_request>>);
}  // namespace

TEST_CASE("llf_queue.traits.member_functions") {
  llf_queue<engine_request, manual_clock> q(llf_key{100.0});
  q.push(engine_request{3.0, 0.0, 0});    // key 3
  q.push(engine_request{5.0, 400.0, 1});  // key 1
  CHECK(q.top_key() == 1.0);
  CHECK(q.pop().id() == 1);
  CHECK(q.pop().id() == 0);
}

// ---- Value queues copy; intrusive queues link the object itself. ----

TEST_CASE("deadline_queue.push.stores_a_copy") {
  edf_dary q;
  request r{4.0, 0.0, 0.0, 7, {}};
  q.push(r);
  r.deadline_s = 1.0;
  r.id = 8;
  CHECK(q.top().id == 7);
  CHECK(q.top_key() == 4.0);
  CHECK(q.top().deadline_s == 4.0);
  CHECK_FALSE(r.hook.is_queued());  // a value queue never touches the caller's hook
}

TEST_CASE_TEMPLATE("intrusive_queue.push.links_the_object", S, edf_intrusive_spec, llf_intrusive_spec) {
  std::vector<request> pool{request{4.0, 0.0, 0.0, 0, {}}, request{2.0, 0.0, 0.0, 1, {}},
                            request{3.0, 0.0, 0.0, 2, {}}};
  auto q = S::make();
  CHECK(q.push(pool[0]) == &pool[0]);
  q.push(pool[1]);
  q.push(pool[2]);
  CHECK(&q.top() == &pool[1]);
  CHECK(pool[0].hook.is_queued());

  SUBCASE("pop returns the object and unlinks it") {
    request& r = q.pop();
    CHECK(&r == &pool[1]);
    CHECK_FALSE(pool[1].hook.is_queued());
    CHECK(pool[2].hook.is_queued());
  }
  SUBCASE("cancel from the pointer unlinks it") {
    q.cancel(&pool[2]);
    CHECK_FALSE(pool[2].hook.is_queued());
    CHECK(q.size() == 2);
  }
  SUBCASE("the key is cached at push") {
    pool[0].deadline_s = 0.0;  // does not move a queued request
    CHECK(&q.top() == &pool[1]);
    q.cancel(&pool[0]);
    q.push(pool[0]);  // pushing again takes the new deadline
    CHECK(&q.top() == &pool[0]);
  }
  SUBCASE("clear unlinks every request") {
    q.clear();
    for (const auto& r : pool) CHECK_FALSE(r.hook.is_queued());
  }
  SUBCASE("a copy of a queued request is not queued") {
    const request copy = pool[0];
    CHECK_FALSE(copy.hook.is_queued());
    CHECK(q.size() == 3);
  }
}

TEST_CASE("intrusive_queue.destroy.unlinks") {
  std::vector<request> pool{request{1.0, 0.0, 0.0, 0, {}}, request{2.0, 0.0, 0.0, 1, {}}};
  {
    edf_intrusive q;
    q.push(pool[0]);
    q.push(pool[1]);
    CHECK(pool[0].hook.is_queued());
  }
  CHECK_FALSE(pool[0].hook.is_queued());
  CHECK_FALSE(pool[1].hook.is_queued());
  edf_intrusive again;  // and the requests can be queued again
  again.push(pool[1]);
  CHECK(again.top().id == 1);
}

TEST_CASE("intrusive_queue.move.takes_over") {
  std::vector<request> pool{request{1.0, 0.0, 0.0, 0, {}}, request{2.0, 0.0, 0.0, 1, {}}};
  edf_intrusive a;
  a.push(pool[1]);
  a.push(pool[0]);
  edf_intrusive b(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): documented to be left empty
  CHECK(b.size() == 2);
  CHECK(&b.pop() == &pool[0]);
  b.cancel(&pool[1]);
  CHECK(b.empty());
}

// ---- misuse with a defined result in every build. ----

// A NaN key compared false both ways, so a NaN deadline could sit on top of an EDF queue ahead of real deadlines.
// Now it is queued as +infinity: after every finite key, in arrival order with the infinite ones.
TEST_CASE_TEMPLATE("request_queue.push.nan_key_is_ordered_last", S, JOULESCHED_ALL_QUEUE_SPECS) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<request> pool{S::make_request(0, 3.0, 0.0), S::make_request(1, nan, 64.0), S::make_request(2, 1.0, 0.0),
                            S::make_request(3, inf, 0.0), S::make_request(4, nan, 0.0)};
  auto q = S::make();
  for (auto& r : pool) q.push(r);
  CHECK(q.top().id == 2);
  CHECK(q.top_key() == 1.0);
  CHECK(test::kit::drain(q) == std::vector<int>{2, 0, 1, 3, 4});
  q.push(pool[1]);
  CHECK(q.top_key() == inf);
  q.pop();
}

TEST_CASE_TEMPLATE("request_queue.try_pop.empty_gives_nothing", S, JOULESCHED_ALL_QUEUE_SPECS) {
  std::vector<request> pool{S::make_request(0, 3.0, 0.0)};
  auto q = S::make();
  CHECK(!q.try_pop());
  q.push(pool[0]);
  const auto r = q.try_pop();
  REQUIRE(r);
  CHECK((*r).id == 0);
  CHECK(q.empty());
  CHECK(!q.try_pop());
}

// Pushing a queued request again linked it into the tree a second time: a cycle, and the next walk never ended.
TEST_CASE_TEMPLATE("intrusive_queue.push.twice_is_refused", S, edf_intrusive_spec, llf_intrusive_spec) {
  std::vector<request> pool{S::make_request(0, 3.0, 0.0), S::make_request(1, 2.0, 0.0)};
  auto q = S::make();
  auto other = S::make();
  CHECK(q.push(pool[0]) == &pool[0]);
  CHECK(q.push(pool[0]) == nullptr);
  CHECK(other.push(pool[0]) == nullptr);  // queued elsewhere through the same hook
  CHECK(q.size() == 1);
  CHECK(other.empty());
  q.push(pool[1]);
  CHECK(test::kit::drain(q) == std::vector<int>{1, 0});
}

TEST_CASE_TEMPLATE("intrusive_queue.cancel.of_a_request_not_queued_is_refused", S, edf_intrusive_spec,
                   llf_intrusive_spec) {
  std::vector<request> pool{S::make_request(0, 3.0, 0.0), S::make_request(1, 2.0, 0.0), S::make_request(2, 1.0, 0.0)};
  auto q = S::make();
  for (auto& r : pool) q.push(r);
  CHECK(q.cancel(&pool[1]));
  CHECK_FALSE(q.cancel(&pool[1]));  // cancelled twice
  request& popped = q.pop();
  CHECK(&popped == &pool[2]);
  CHECK_FALSE(q.cancel(&pool[2]));  // popped already
  CHECK_FALSE(q.cancel(nullptr));
  CHECK(q.size() == 1);
  CHECK(q.top().id == 0);
}

// The implicit assignment copied the cached key and arrival number into a queued request's hook, so the tree
// held it under a key it was not sorted by.
TEST_CASE_TEMPLATE("intrusive_queue.assigning_to_a_queued_request_keeps_its_key_and_place", S, edf_intrusive_spec,
                   llf_intrusive_spec) {
  std::vector<request> pool{S::make_request(0, 1.0, 0.0), S::make_request(1, 2.0, 0.0), S::make_request(2, 9.0, 0.0)};
  auto q = S::make();
  q.push(pool[0]);
  q.push(pool[1]);
  q.push(pool[2]);
  auto q2 = S::make();
  request elsewhere = S::make_request(7, 5.0, 0.0);
  q2.push(elsewhere);
  pool[0] = elsewhere;  // the data changes; membership, key and place do not
  CHECK(pool[0].hook.is_queued());
  CHECK(&q.top() == &pool[0]);
  CHECK(q.top_key() == 1.0);
  CHECK(q.top().id == 7);
  q2.clear();
  CHECK(test::kit::drain(q) == std::vector<int>{7, 1, 2});
}

// Destroying a queued request left a dangling node in the tree (in Release: a later walk read freed memory or
// never ended). Now the hook's destructor ends the program with a message. Run in a child process.
TEST_CASE("intrusive_queue.destroying_a_queued_request_terminates_with_a_message") {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out[1], STDERR_FILENO);
    std::signal(SIGABRT, SIG_DFL);  // not doctest's handler: the child must not report a crashed test case
    ::alarm(10);                    // a hang fails the test (SIGALRM, not SIGABRT)
    edf_intrusive q;
    auto* r = new request{1.0, 0.0, 0.0, 0, {}};
    q.push(*r);
    delete r;
    q.clear();
    ::_exit(0);
  }
  ::close(out[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("child's stderr: " << err);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err.find("joulesched: a request was destroyed while queued") != std::string::npos);
}

// ---- The default clock. ----

TEST_CASE("steady_clock_s.now_s.monotone") {
  const steady_clock_s c;
  const double a = c.now_s();
  const double b = c.now_s();
  CHECK(std::isfinite(a));
  CHECK(b >= a);

  edf_queue<request> q;  // default clock
  request r{c.now_s() + 100.0, 0.0, 0.0, 0, {}};
  q.push(r);
  CHECK(q.top_slack_s() <= 100.0);
  CHECK(q.top_slack_s() > 0.0);
}
