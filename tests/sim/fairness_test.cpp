// Fairness between clients (sim/fairness.hpp): the service gap and Jain's index as defined there, by hand; and the
// fair queue (queue_discipline::vtc) against FCFS on one device that two clients both keep backlogged.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "joulesched/estimation/length_estimators.hpp"
#include "joulesched/routing/least_loaded.hpp"
#include "joulesched/sim/client_source.hpp"
#include "joulesched/sim/engine.hpp"
#include "joulesched/sim/fairness.hpp"
#include "support/errors.hpp"
#include "support/sim_kit.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

TEST_CASE("sim_fairness.meter_by_hand") {
  fairness_meter m;
  m.arrive(0, 0.0);
  m.arrive(1, 0.0);  // [0, 10): both backlogged, served 100 and 300
  m.serve(0, 100);
  m.serve(1, 300);
  m.leave(0, 10.0);  // [10, 20): client 1 alone, not compared; its service then is not carried over
  m.serve(1, 1000);
  m.serve(2, 500);  // client 2 has never waited: not counted
  m.arrive(0, 20.0);
  m.serve(0, 50);  // [20, 30): both again, equal
  m.serve(1, 50);
  m.leave(1, 30.0);
  m.leave(0, 35.0);
  const fairness_metrics f = m.finish(40.0);
  CHECK(f.clients == 2);
  CHECK(f.epochs == 2);
  CHECK(f.epoch_s == doctest::Approx(20.0));
  // Epoch 1: gap (300 - 100) / 200 = 1, Jain 400^2 / (2 (100^2 + 300^2)) = 0.8. Epoch 2: 0 and 1. By length.
  CHECK(f.service_gap == doctest::Approx(0.5));
  CHECK(f.jain == doctest::Approx(0.9));
}

TEST_CASE("sim_fairness.meter_without_competition_is_fair") {
  fairness_meter m;
  m.arrive(0, 0.0);
  m.serve(0, 10);
  m.leave(0, 1.0);
  const fairness_metrics f = m.finish(2.0);
  CHECK(f.epochs == 0);
  CHECK(f.service_gap == 0.0);
  CHECK(f.jain == 1.0);
}

namespace {
// One device of batch 4, least-loaded routing, no controller.
struct one_device {
  device_model m = joulesched::test::simple_model(4, 1'000'000);
  sim_devices devs = joulesched::test::devices_of({&m});
  fleet f{joulesched::test::params_of({&m})};
  least_loaded_router router{f};
  oracle_estimator est;
  no_control ctl;

  sim_result run(vector_source& src, const engine_options& eo) {
    simulator sim(devs, f, router, est, ctl, eo);
    return sim.run(src);
  }
};

// Client 0 sends 200 requests at t = 0, then client 1 sends 200 at t = 0.001, all alike.
sim_result burst(queue_discipline q) {
  engine_options eo;
  eo.discipline = q;
  vector_source src;
  for (std::uint64_t i = 0; i < 400; ++i) {
    request r;
    r.id = i;
    r.arrival_s = i < 200 ? 0.0 : 0.001;
    r.input_tok = 100;
    r.output_tok = 20;
    r.deadline_s = r.ttft_deadline_s = 1e6;
    r.client = i < 200 ? 0 : 1;
    src.requests.push_back(r);
  }
  one_device d;
  return d.run(src, eo);
}
}  // namespace

TEST_CASE("sim_fairness.vtc_shares_a_device_that_fcfs_gives_to_whoever_came_first") {
  const sim_result fcfs = burst(queue_discipline::fcfs);
  const sim_result vtc = burst(queue_discipline::vtc);
  CHECK(fcfs.completed == 400);
  CHECK(vtc.completed == 400);
  CHECK(fcfs.fairness.clients == 2);
  // FCFS serves client 0's 200 before any of client 1's while both wait: one gets everything.
  CHECK(fcfs.fairness.service_gap > 1.5);
  CHECK(fcfs.fairness.jain < 0.6);
  // The fair queue alternates between them: near-equal service while both are backlogged.
  CHECK(vtc.fairness.service_gap < 0.1);
  CHECK(vtc.fairness.jain > 0.99);
  // Same work, same energy: only the order differs.
  CHECK(vtc.energy_j == doctest::Approx(fcfs.energy_j));
}

TEST_CASE("sim_fairness.client_source_draws_by_share") {
  vector_source inner;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    request r;
    r.id = i;
    inner.requests.push_back(r);
  }
  client_source src(inner, {3.0, 1.0, 0.0}, 7);
  std::vector<int> n(3, 0);
  request r;
  while (src.next(r)) ++n[r.client];
  CHECK(n[0] + n[1] == 20000);
  CHECK(n[2] == 0);
  CHECK(static_cast<double>(n[0]) / 20000 == doctest::Approx(0.75).epsilon(0.02));
  vector_source empty;
  check_mentions(error_of([&] { client_source bad(empty, {}, 1); }), {"clients", "at least one"});
  check_mentions(error_of([&] { client_source bad(empty, {1.0, -1.0}, 1); }), {"share of client 1", "-1"});
  check_mentions(error_of([&] { client_source bad(empty, {0.0, 0.0}, 1); }), {"not all be 0"});
}

TEST_CASE("sim_fairness.client_ids_beyond_the_bound_are_refused") {
  vector_source src;
  request r;
  r.input_tok = 10;
  r.output_tok = 10;
  r.deadline_s = r.ttft_deadline_s = 10;
  r.client = bounds::max_clients;
  src.requests.push_back(r);
  one_device d;
  check_mentions(error_of([&] { (void)d.run(src, engine_options{}); }), {"request 0", "client", "max_clients"});
}
