// Checked mode (include/joulesched/usage_error.hpp): this program is compiled with JOULESCHED_CHECKED=1, and every
// documented precondition of the hot path that a caller breaks throws usage_error naming the call and the value.
// Each case would have been undefined (or an assertion) before; where the unchecked build gives a defined result,
// the state after the throw is that result.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "joulesched/control/lambda_controller.hpp"
#include "joulesched/control/miss_window.hpp"
#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/detail/mpsc_ring.hpp"
#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/queues.hpp"
#include "joulesched/queues/handoff.hpp"
#include "joulesched/request_view.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/concurrent_router.hpp"
#include "joulesched/routing/partitioned_router.hpp"
#include "joulesched/routing/power_of_d.hpp"
#include "joulesched/usage_error.hpp"
#include "support/errors.hpp"
#include "support/manual_clock.hpp"
#include "support/queue_kit.hpp"

using namespace joulesched;

static_assert(JOULESCHED_CHECKED == 1 && checked_mode, "this program must be compiled with JOULESCHED_CHECKED=1");
static_assert(std::is_base_of_v<std::logic_error, usage_error>);

namespace {

const double nan_v = std::numeric_limits<double>::quiet_NaN();

/// Checks that f throws usage_error whose message contains `text` (the call, the field and the value).
template <class F>
void check_usage_error(F&& f, std::string_view text) {
  const std::string what = test::error_of<usage_error>(f);
  INFO("what(): " << what);
  INFO("expected: " << std::string(text));
  CHECK(what.find(text) != std::string::npos);
}

/// Routes a request and releases it; a second release must throw usage_error containing `text` and leave the
/// device's load as after the first.
template <class R>
void check_second_release_throws(R& router, std::string_view text) {
  const auto a = router.route({40, 10, 5.0});
  REQUIRE(a);
  CHECK(router.release(*a));
  check_usage_error([&] { router.release(*a); }, text);
  CHECK(router.state().load(a->device).reserved_ns == 0);
  CHECK(router.state().load(a->device).requests == 0);
}

const std::vector<device_params> three{{100, 0.2}, {200, 0.1}, {200, 0.1}};

using test::kit::request;
using edf = edf_queue<request, test::manual_clock>;
using intrusive_edf = intrusive_edf_queue<request, &request::hook, test::manual_clock>;

struct view_req {
  double input_tok;
  double deadline_s;
};

struct slo_req {
  double input_tok;
  double deadline_s;
  double ttft_deadline_s;
  double tbt_s;
};

}  // namespace

TEST_CASE("checked.fleet.release_twice_and_ids_out_of_range_throw") {
  fleet f(three);
  f.reserve(0, 100);
  CHECK(f.release({0, 100}));
  check_usage_error([&] { f.release({0, 100}); }, "fleet::release: work_ns = 100: must not exceed");
  CHECK(f.load(0).reserved_ns == 0);  // unchanged: the refusal happens before anything is touched
  CHECK(f.load(0).requests == 0);
  check_usage_error([&] { f.release({3, 1}); }, "fleet::release: device = 3: must be < size()");
  check_usage_error([&] { f.set_available(7, false); }, "fleet::set_available: id = 7: must be < size()");
  CHECK(f.available_ids().size() == 3);
  check_usage_error([&] { f.reserve(3, 1); }, "fleet::reserve: id = 3: must be < size()");
  check_usage_error([&] { (void)f.load(3); }, "fleet::load: id = 3");
  check_usage_error([&] { (void)f.params(4); }, "fleet::params: id = 4");
  check_usage_error([&] { (void)f.available(5); }, "fleet::available: id = 5");
  check_usage_error([&] { (void)f.class_of(6); }, "fleet::class_of: id = 6");
  check_usage_error([&] { (void)f.class_top(2); }, "fleet::class_top: class = 2: must be < class_count()");
  const fleet unindexed(three, "fleet", fleet_index::none);
  check_usage_error([&] { (void)unindexed.class_top(0); }, "fleet::class_top: index = none");
}

TEST_CASE("checked.fleet.correct_of_what_release_would_refuse_throws") {
  fleet f(three);
  f.reserve(1, 40);
  assignment out{3, 1};
  check_usage_error([&] { (void)f.correct(out, 5); }, "fleet::correct: device = 3: must be < size()");
  assignment big{1, 41};
  check_usage_error([&] { (void)f.correct(big, 5); }, "fleet::correct: work_ns = 41: must not exceed");
  assignment a{1, 40};
  CHECK(f.correct(a, 70));
  CHECK(f.release(a));
  check_usage_error([&] { (void)f.correct(a, 5); }, "fleet::correct: work_ns = 70: must not exceed");
  // Unchanged by every refusal.
  CHECK(out.work_ns == 1);
  CHECK(big.work_ns == 41);
  CHECK(a.work_ns == 70);
  CHECK(f.load(1).reserved_ns == 0);
  CHECK(f.load(1).requests == 0);
}

TEST_CASE("checked.fleet.set_point_outside_the_table_throws_and_changes_nothing") {
  const device_params p{100, 0.2};
  fleet f(std::vector<operating_points>{{p, {200, 0.1}}}, {{0, 0}});
  check_usage_error([&] { (void)f.set_point(0, 2); }, "fleet::set_point: point = 2: must be <");
  check_usage_error([&] { (void)f.set_point(1, 0); }, "fleet::set_point: id = 1: must be < size()");
  fleet plain(std::vector<device_params>{p});
  check_usage_error([&] { (void)plain.set_point(0, 0); }, "fleet::set_point: tables = none");
  CHECK(f.point_of(0).point == 0);
  CHECK(f.params(0) == p);
}

TEST_CASE("checked.routers.release_twice_and_a_view_that_is_not_finite_throw") {
  fleet f(three);
  argmin_router<joulesched_cost> exact(f, joulesched_cost(5.0));
  // {40, 10, 5.0} goes to device 1 (0.1 J/token): 39 decode tokens / 200 tok/s = 0.195 s reserved.
  check_second_release_throws(exact, "fleet::release: work_ns = 195000000");
  check_usage_error(
      [&] {
        (void)exact.route({40, 10, nan_v});
      },
      "argmin_router::route: budget_s = nan: must be finite");
  check_usage_error(
      [&] {
        (void)exact.route({40, 10, std::numeric_limits<double>::infinity()});
      },
      "argmin_router::route: budget_s = inf");
  scan_router<joulesched_cost> scan(f, joulesched_cost(5.0));
  check_usage_error([&] { (void)scan.route({40, 10, nan_v}); }, "argmin_router::route: budget_s = nan");
  power_of_d_router<joulesched_cost> pod(f, 2, joulesched_cost(5.0), 1);
  check_usage_error([&] { (void)pod.route({40, 10, nan_v}); }, "power_of_d_router::route: budget_s = nan");
  for (device_id id = 0; id < f.size(); ++id) CHECK(f.load(id).reserved_ns == 0);  // nothing was reserved
}

TEST_CASE("checked.concurrent.release_twice_and_ids_out_of_range_throw") {
  concurrent_fleet f(three);
  concurrent_argmin_router<joulesched_cost> exact(f, joulesched_cost(5.0));
  check_second_release_throws(exact, "concurrent_fleet::release: device = ");
  check_usage_error([&] { f.release({3, 1}); }, "concurrent_fleet::release: device = 3: must be < size()");
  check_usage_error([&] { f.reserve(3, 1); }, "concurrent_fleet::reserve: id = 3");
  check_usage_error([&] { (void)f.load(9); }, "concurrent_fleet::load: id = 9");
  check_usage_error([&] { (void)exact.route({40, 10, nan_v}); }, "concurrent_argmin_router::route: budget_s = nan");
  concurrent_power_of_d_router<joulesched_cost> pod(f, 2, joulesched_cost(5.0), 1);
  check_usage_error([&] { (void)pod.route({40, 10, nan_v}); }, "concurrent_power_of_d_router::route: budget_s = nan");
  CHECK(f.consistent());
}

TEST_CASE("checked.partitioned.foreign_and_out_of_range_assignments_throw") {
  const partition_plan plan(std::vector<device_params>(4, device_params{1000.0, 0.2}), 2);
  partitioned_router<joulesched_cost> r0(plan, 0, joulesched_cost(0.0), 2);
  const device_id foreign = plan.members(1)[0];
  check_usage_error([&] { r0.release({foreign, 1}); }, "partitioned_router::release: device = ");
  check_usage_error([&] { (void)r0.post_release({foreign, 1}); }, "partitioned_router::post_release: device = ");
  check_usage_error(
      [&] {
        r0.release({4, 1});
      },
      "partitioned_router::release: device = 4: must be < the plan's size()");
  check_usage_error([&] { r0.set_available(4, false); }, "partitioned_router::set_available: id = 4");
  const std::vector<assignment> three_posts(3, assignment{plan.members(0)[0], 0});
  check_usage_error([&] { (void)r0.post_releases(three_posts); }, "partitioned_router::post_releases: size = 3");
  const auto a = r0.route({11, 0, 1.0});  // 10 decode tokens at 1000 tok/s: 0.01 s
  REQUIRE(a);
  CHECK(r0.release(*a));
  check_usage_error([&] { r0.release(*a); }, "fleet::release: work_ns = 10000000");
}

TEST_CASE("checked.request_view.overflowing_or_out_of_range_inputs_throw") {
  check_usage_error(
      [] {
        (void)make_request_view(view_req{1, 1.7e308}, -1.7e308, 1.0);
      },
      "make_request_view: budget_s (deadline_s - now_s) = inf");
  check_usage_error(
      [] {
        (void)make_request_view(view_req{1, 2e12}, 0.0, 1.0);
      },
      "make_request_view: budget_s (deadline_s - now_s) = 2e+12");
  check_usage_error(
      [] {
        (void)make_request_view(view_req{1, nan_v}, 0.0, 1.0);
      },
      "budget_s (deadline_s - now_s) = nan");
  check_usage_error([] { (void)make_request_view(view_req{-1, 5.0}, 0.0, 1.0); }, "make_request_view: input_tok = -1");
  check_usage_error(
      [] {
        (void)make_request_view(view_req{1, 5.0}, 0.0, 5e9);
      },
      "make_request_view: output_estimate_tok = 5e+09");
  CHECK(make_request_view(view_req{1, 5.0}, 1.0, 2.0).budget_s == 4.0);
  check_usage_error(
      [] {
        (void)make_request_view(slo_req{1, 5.0, 1.0, nan_v}, 0.0, 1.0);
      },
      "make_request_view: tbt_s = nan");
  check_usage_error(
      [] {
        (void)make_request_view(slo_req{1, 5.0, 1.0, -1.0}, 0.0, 1.0);
      },
      "make_request_view: tbt_s = -1");
  check_usage_error(
      [] {
        (void)make_request_view(slo_req{1, 5.0, nan_v, 0.0}, 0.0, 1.0);
      },
      "make_request_view: ttft_budget_s (ttft_deadline_s - now_s) = nan");
  check_usage_error(
      [] {
        (void)make_request_view(slo_req{1, 5.0, 2e12, 0.0}, 0.0, 1.0);
      },
      "make_request_view: ttft_budget_s (ttft_deadline_s - now_s) = 2e+12");
  CHECK(make_request_view(slo_req{1, 5.0, -3.0, 0.01}, 1.0, 2.0).ttft_budget_s == -4.0);  // already missed: legal
  // checked_request_view still throws config_error (bad input, not misuse).
  CHECK_THROWS_AS((void)checked_request_view(view_req{1, 1.7e308}, -1.7e308, 1.0, "x"), config_error);
}

TEST_CASE("checked.deadline_queue.empty_nan_and_stale_handles_throw") {
  edf q;
  check_usage_error([&] { (void)q.top(); }, "deadline_queue::top: size = 0: must be > 0");
  check_usage_error([&] { (void)q.pop(); }, "deadline_queue::pop: size = 0");
  check_usage_error([&] { (void)q.top_key(); }, "deadline_queue::top_key: size = 0");
  CHECK(!q.try_pop());
  check_usage_error([&] { (void)q.push(request{nan_v, 0, 0, 1, {}}); }, "deadline_queue::push: key = nan");
  CHECK(q.empty());
  const auto h0 = q.push(request{2.0, 0, 0, 0, {}});
  const auto h1 = q.push(request{1.0, 0, 0, 1, {}});
  const auto h2 = q.push(request{3.0, 0, 0, 2, {}});
  q.cancel(h0);
  check_usage_error([&] { q.cancel(h0); },
                    "deadline_queue::cancel: handle of arrival number = 0: its request is no longer queued");
  CHECK(q.pop().id == 1);
  check_usage_error([&] { q.cancel(h1); }, "handle of arrival number = 1");
  q.clear();
  check_usage_error([&] { q.cancel(h2); }, "handle of arrival number = 2");
  CHECK(q.empty());
}

TEST_CASE("checked.deadline_queue.cancel_of_a_default_handle_throws") {
  // Before: the checked set matched arrival number 0, and the heap erased through a null handle (segfault).
  edf q;
  (void)q.push(request{1.0, 0, 0, 0, {}});  // arrival number 0 is queued
  check_usage_error([&] { q.cancel(edf::handle_type{}); },
                    "deadline_queue::cancel: handle = default-constructed: must come from push() on this queue");
  CHECK(q.size() == 1);
  CHECK(q.pop().id == 0);
}

TEST_CASE("checked.handoff.push_of_a_request_already_queued_throws") {
  struct item {
    int id = 0;
    handoff_hook hook;
  };
  handoff_queue<item, &item::hook> q(4);
  item a;
  item b;
  CHECK(q.push(a));
  check_usage_error([&] { (void)q.push(a); }, "handoff_queue::push: request = ");
  CHECK(q.push(b));
  check_usage_error([&] { (void)q.push(a); }, "is already queued");
  CHECK(q.size_approx() == 2);
  CHECK(q.pop() == &a);
  CHECK(q.pop() == &b);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("checked.partition_plan.ids_and_parts_out_of_range_throw") {
  // Before: unchecked in both modes (heap overflow).
  const partition_plan plan(three, 2);
  check_usage_error([&] { (void)plan.owner(3); }, "partition_plan::owner: device = 3: must be < size()");
  check_usage_error([&] { (void)plan.local_id(3); }, "partition_plan::local_id: device = 3: must be < size()");
  check_usage_error([&] { (void)plan.members(2); }, "partition_plan::members: part = 2: must be < parts()");
  check_usage_error([&] { (void)plan.member_params(5); }, "partition_plan::member_params: part = 5");
  CHECK(plan.owner(2) < 2);
  CHECK(plan.members(1).size() + plan.members(0).size() == 3);
}

TEST_CASE("checked.intrusive_queue.empty_twice_nan_and_another_queue_throw") {
  std::vector<request> pool{request{1.0, 0, 0, 0, {}}, request{2.0, 0, 0, 1, {}}, request{nan_v, 0, 0, 2, {}}};
  intrusive_edf q;
  intrusive_edf other;
  check_usage_error([&] { (void)q.top(); }, "intrusive_deadline_queue::top: size = 0");
  check_usage_error([&] { (void)q.pop(); }, "intrusive_deadline_queue::pop: size = 0");
  CHECK(q.try_pop() == nullptr);
  q.push(pool[0]);
  check_usage_error([&] { (void)q.push(pool[0]); }, "intrusive_deadline_queue::push: request = ");
  check_usage_error([&] { (void)other.push(pool[0]); }, "is already queued");
  check_usage_error([&] { (void)q.push(pool[2]); }, "intrusive_deadline_queue::push: key = nan");
  CHECK_FALSE(pool[2].hook.is_queued());
  other.push(pool[1]);
  check_usage_error([&] { (void)q.cancel(&pool[1]); }, "intrusive_deadline_queue::cancel: request = ");
  check_usage_error([&] { (void)q.cancel(&pool[1]); }, "is queued in another queue");
  CHECK(other.size() == 1);
  CHECK(q.cancel(&pool[0]));
  check_usage_error([&] { (void)q.cancel(&pool[0]); }, "is not queued");
  check_usage_error([&] { (void)q.cancel(nullptr); }, "is not queued");
  CHECK(q.empty());
  other.clear();
}

TEST_CASE("checked.mpsc_ring.push_all_beyond_capacity_is_refused_in_every_mode") {
  detail::mpsc_ring<assignment> ring(2);
  const std::vector<assignment> three_posts(3, assignment{0, 0});
  CHECK_FALSE(ring.push_all(three_posts));
}

TEST_CASE("checked.control.a_time_that_is_not_finite_throws") {
  // Before: only asserted (unchecked release builds filed a NaN time into a clamped bucket).
  time_window w(10.0, 10);
  check_usage_error([&] { w.record(nan_v, true); }, "time_window::record: now_s = nan: must be finite");
  check_usage_error([&] { (void)w.miss_rate(std::numeric_limits<double>::infinity()); },
                    "time_window::miss_rate: now_s = inf");
  check_usage_error([&] { (void)w.samples(nan_v); }, "time_window::samples: now_s = nan");
  CHECK(w.samples(0.0) == 0);
  lambda_controller<time_window> ctl(lambda_controller_config{}, time_window(10.0, 10));
  check_usage_error([&] { ctl.observe(nan_v, true); }, "lambda_controller::observe: now_s = nan: must be finite");
  check_usage_error([&] { (void)ctl.update(-std::numeric_limits<double>::infinity()); },
                    "lambda_controller::update: now_s = -inf");
  lambda_controller<count_window> cc(lambda_controller_config{}, count_window(4));
  check_usage_error([&] { cc.observe(nan_v, false); }, "lambda_controller::observe: now_s = nan");
  CHECK(cc.window().samples() == 0);
}

TEST_CASE("checked.energy_profile.at_out_of_range_throws") {
  // Before: only asserted.
  const energy_profile p("g", {1, 8}, {512}, {1, 2}, {10, 20});
  check_usage_error([&] { (void)p.at(2, 0); }, "energy_profile::at: b = 2: must be < batch_sizes().size()");
  check_usage_error([&] { (void)p.at(0, 1); }, "energy_profile::at: s = 1: must be < seq_lens_tok().size()");
  CHECK(p.at(1, 0).rate_tok_s == 20);
}

TEST_CASE("checked.estimators.slo_class_out_of_range_throws") {
  // Unchecked, a class id at or above class_count() reads as the last class (never out of bounds).
  struct r0 {
    double input_tok = 1;
    double deadline_s = 1;
  };
  const fixed_estimator fixed(std::vector<double>{5.0, 6.0, 7.0});
  check_usage_error([&] { (void)fixed.estimate(r0{}, slo_class_id{3}); },
                    "fixed_estimator::estimate: slo_class = 3: must be < class_count()");
  percentile_estimator pct({.prior_tok = {1.0, 2.0}});
  check_usage_error([&] { pct.observe(slo_class_id{2}, 10.0); },
                    "percentile_estimator::observe: slo_class = 2: must be < class_count()");
  CHECK(pct.observations(slo_class_id{1}) == 0);
}
