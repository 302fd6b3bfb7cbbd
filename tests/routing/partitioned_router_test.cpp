// Partitioned routing, one thread: how the plan deals a fleet into partitions, each partition's router against
// a brute-force argmin over its own devices (with loads the test keeps itself) and against an argmin_router
// over a fleet of the partition's devices, posted releases and a full inbox, draining, bad configuration, and
// the inbox ring's single-thread contract (FIFO, bounded, wraps around).
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <tuple>
#include <vector>

#include "joulesched/cost/joulesched_cost.hpp"
#include "joulesched/cost/service.hpp"
#include "joulesched/detail/mpsc_ring.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/routing/partitioned_router.hpp"
#include "support/brute_force.hpp"
#include "support/errors.hpp"
#include "support/random_fleet.hpp"

using namespace joulesched;
using joulesched::test::brute_force_argmin;
using joulesched::test::check_mentions;
using joulesched::test::error_of;
using joulesched::test::random_fleet;
using joulesched::test::random_request;
using joulesched::test::throws_naming;

namespace {

using prouter = partitioned_router<joulesched_cost>;

// The test's own picture of one partition, by local id: parameters, reserved load and availability, kept by
// hand from the decisions and releases the test makes. Fleet-like, for brute_force_argmin.
struct partition_model {
  std::vector<device_params> ps;
  std::vector<device_load> loads;
  std::vector<bool> avail;

  [[nodiscard]] std::size_t size() const { return ps.size(); }
  [[nodiscard]] bool available(device_id id) const { return avail[id]; }
  [[nodiscard]] const device_params& params(device_id id) const { return ps[id]; }
  [[nodiscard]] device_load load(device_id id) const { return loads[id]; }

  void reserve(device_id id, std::uint64_t work) {
    loads[id].reserved_ns += work;
    loads[id].requests += 1;
  }
  void release(device_id id, std::uint64_t work) {
    REQUIRE(loads[id].reserved_ns >= work);
    REQUIRE(loads[id].requests > 0);
    loads[id].reserved_ns -= work;
    loads[id].requests -= 1;
  }
};

// What a ring or inbox asked for `asked` holds: rounded up to a power of two, and to at least 2.
std::size_t rounded_capacity(std::size_t asked) { return std::bit_ceil(std::max<std::size_t>(asked, 2)); }

// A class key the test computes itself: devices with equal parameters (every field of device_params).
using class_key =
    std::tuple<double, double, site_id, const energy_profile*, double, double, double, double, double, double, double>;
class_key key_of(const device_params& p) {
  return {p.rate_tok_s,        p.energy_j_per_tok,  p.site,      p.profile,
          p.prefill_s_per_tok, p.prefill_j_per_tok, p.request_s, p.request_j,
          p.ctx_s_per_tok,     p.ctx_j_per_tok,     p.batch};
}

// The dealing invariants of a plan over `ps` with `parts` partitions.
void check_plan(const partition_plan& plan, const std::vector<device_params>& ps, std::size_t parts) {
  const std::size_t n = ps.size();
  REQUIRE(plan.parts() == parts);
  REQUIRE(plan.size() == n);
  std::vector<int> seen(n, 0);
  std::size_t total = 0, smallest = n, largest = 0;
  for (std::size_t part = 0; part < parts; ++part) {
    const auto members = plan.members(part);
    const auto mps = plan.member_params(part);
    REQUIRE(mps.size() == members.size());
    total += members.size();
    smallest = std::min(smallest, members.size());
    largest = std::max(largest, members.size());
    for (std::size_t local = 0; local < members.size(); ++local) {
      const device_id id = members[local];
      REQUIRE(id < n);
      ++seen[id];
      CHECK(plan.owner(id) == part);
      CHECK(plan.local_id(id) == local);
      CHECK(mps[local] == ps[id]);
    }
  }
  CHECK(total == n);
  for (device_id id = 0; id < n; ++id) {
    INFO("device " << id);
    REQUIRE(seen[id] == 1);  // owned by exactly one partition
    REQUIRE(plan.owner(id) < parts);
    const auto members = plan.members(plan.owner(id));
    REQUIRE(plan.local_id(id) < members.size());
    CHECK(members[plan.local_id(id)] == id);
  }
  // Dealt round-robin: partition sizes, and each class's devices per partition, within one of each other.
  CHECK(largest - smallest <= 1);
  std::map<class_key, std::vector<std::size_t>> per_class;
  for (device_id id = 0; id < n; ++id) {
    auto& counts = per_class[key_of(ps[id])];
    counts.resize(parts, 0);
    ++counts[plan.owner(id)];
  }
  for (const auto& [key, counts] : per_class) {
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    INFO("class rate " << std::get<0>(key) << " energy " << std::get<1>(key) << " site " << std::get<2>(key));
    CHECK(*hi - *lo <= 1);
  }
}

// The partition model the test starts from: parameters by local id, read from the fleet's own list.
partition_model model_of(const partition_plan& plan, const std::vector<device_params>& ps, std::size_t part) {
  partition_model m;
  for (const device_id id : plan.members(part)) m.ps.push_back(ps[id]);
  m.loads.assign(m.ps.size(), device_load{});
  m.avail.assign(m.ps.size(), true);
  return m;
}

// The router's own state agrees with the model, device by device (local ids).
void check_state(const prouter& r, const partition_model& m) {
  const fleet& s = r.state();
  REQUIRE(s.size() == m.size());
  for (device_id l = 0; l < m.size(); ++l) {
    INFO("local device " << l);
    REQUIRE(s.load(l).reserved_ns == m.loads[l].reserved_ns);
    REQUIRE(s.load(l).requests == m.loads[l].requests);
    REQUIRE(s.available(l) == m.avail[l]);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// partition_plan

TEST_CASE("partition_plan.deals_every_device_once_classes_within_one") {
  std::mt19937_64 rng(11);
  for (unsigned trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + rng() % 60;
    const auto ps = random_fleet(rng, n);
    const std::size_t parts = 1 + rng() % std::min<std::size_t>(n, 8);
    INFO("trial " << trial << ", " << n << " devices, " << parts << " partitions");
    const partition_plan plan(ps, parts);
    check_plan(plan, ps, parts);
  }
}

TEST_CASE("partition_plan.edges_one_partition_and_one_device_each") {
  std::mt19937_64 rng(12);
  const auto ps = random_fleet(rng, 17);
  SUBCASE("one partition holds the whole fleet") {
    const partition_plan plan(ps, 1);
    check_plan(plan, ps, 1);
    CHECK(plan.members(0).size() == 17);
  }
  SUBCASE("as many partitions as devices: one device each") {
    const partition_plan plan(ps, 17);
    check_plan(plan, ps, 17);
    for (std::size_t part = 0; part < 17; ++part) {
      REQUIRE(plan.members(part).size() == 1);
      CHECK(plan.local_id(plan.members(part)[0]) == 0);
    }
  }
}

TEST_CASE("partition_plan.classes_split_evenly_even_when_interleaved") {
  // Two classes interleaved by id (a, b, a, b, ...) and two partitions: dealing by id alone would give every
  // a to partition 0 and every b to partition 1; dealing by class gives each partition half of each.
  const device_params a{1000.0, 0.2}, b{3000.0, 0.1};
  std::vector<device_params> ps;
  for (int i = 0; i < 8; ++i) ps.push_back(i % 2 == 0 ? a : b);
  const partition_plan plan(ps, 2);
  check_plan(plan, ps, 2);
  for (std::size_t part = 0; part < 2; ++part) {
    const auto mps = plan.member_params(part);
    CHECK(std::count(mps.begin(), mps.end(), a) == 2);
    CHECK(std::count(mps.begin(), mps.end(), b) == 2);
  }
  // Classes differing only by site are different classes: 3 of each, 3 partitions -> one of each per partition.
  std::vector<device_params> sites;
  for (int i = 0; i < 6; ++i) sites.push_back(device_params{2000.0, 0.12, static_cast<site_id>(i % 2)});
  const partition_plan by_site(sites, 3);
  check_plan(by_site, sites, 3);
  for (std::size_t part = 0; part < 3; ++part) {
    const auto mps = by_site.member_params(part);
    REQUIRE(mps.size() == 2);
    CHECK(mps[0].site != mps[1].site);
  }
}

TEST_CASE("partition_plan.bad_config_names_field_and_value") {
  const std::vector<device_params> five(5, device_params{1000.0, 0.2});
  CHECK(throws_naming([&] { partition_plan p(five, 0); }, "parts"));
  CHECK(throws_naming([&] { partition_plan p(five, 6); }, "parts"));
  check_mentions(error_of([&] { partition_plan p(five, 0); }), {"parts = 0"});
  check_mentions(error_of([&] { partition_plan p(five, 6); }), {"parts = 6"});
  CHECK(throws_naming([] { partition_plan p(std::vector<device_params>{}, 1); }, "parts"));
  CHECK_NOTHROW(partition_plan(five, 5));

  auto bad_rate = five;
  bad_rate[3].rate_tok_s = 0.0;
  CHECK(throws_naming([&] { partition_plan p(bad_rate, 2); }, "rate_tok_s"));
  check_mentions(error_of([&] { partition_plan p(bad_rate, 2); }), {"device 3", "rate_tok_s = 0"});

  auto bad_energy = five;
  bad_energy[1].energy_j_per_tok = -0.5;
  check_mentions(error_of([&] { partition_plan p(bad_energy, 1); }), {"device 1", "energy_j_per_tok = -0.5"});

  auto nan_rate = five;
  nan_rate[4].rate_tok_s = std::numeric_limits<double>::quiet_NaN();
  CHECK(throws_naming([&] { partition_plan p(nan_rate, 3); }, "rate_tok_s"));

  // The source names where the parameters came from.
  check_mentions(error_of([&] { partition_plan p(bad_rate, 2, "fleet.csv"); }), {"fleet.csv", "rate_tok_s = 0"});
}

// ---------------------------------------------------------------------------------------------------------
// partitioned_router

TEST_CASE("partitioned_router.bad_config_throws") {
  const std::vector<device_params> six(6, device_params{1000.0, 0.2});
  const partition_plan plan(six, 3);
  CHECK(throws_naming([&] { prouter r(plan, 3); }, "part"));
  CHECK(throws_naming([&] { prouter r(plan, 100); }, "part"));
  check_mentions(error_of([&] { prouter r(plan, 3); }), {"part = 3"});
  CHECK(throws_naming([&] { prouter r(plan, 0, joulesched_cost(1.0), 0); }, "inbox_capacity"));
  CHECK(throws_naming([&] { prouter r(plan, 0, joulesched_cost(1.0), (std::size_t{1} << 40) + 1); }, "inbox_capacity"));
  CHECK_NOTHROW(prouter(plan, 2, joulesched_cost(1.0), 2));
}

TEST_CASE("partitioned_router.inbox_capacity_rounds_up_to_a_power_of_two_at_least_two") {
  const partition_plan plan(std::vector<device_params>(2, device_params{1000.0, 0.2}), 1);
  for (const std::size_t asked : {1u, 2u, 3u, 4u, 5u, 8u, 100u, 4096u}) {
    INFO("asked " << asked);
    const prouter r(plan, 0, joulesched_cost(), asked);
    CHECK(r.inbox_capacity() == rounded_capacity(asked));
  }
  const prouter d(plan, 0);
  CHECK(d.inbox_capacity() == prouter::default_inbox_capacity);
  CHECK(d.part() == 0);
}

namespace {

// Random routes, direct releases, posted releases (applied by the next route or apply_posted), drains and
// restores over every partition of random fleets. Before each decision the expected device is the brute-force
// argmin over the partition's devices in local order, with the loads the test keeps; an argmin_router over a
// fleet of plan.member_params(part), fed the same history, must agree too.
void run_equivalence(std::uint64_t seed, unsigned fleets, unsigned ops) {
  std::mt19937_64 rng(seed);
  const std::size_t capacities[] = {1, 2, 3, 4, 16};
  for (unsigned trial = 0; trial < fleets; ++trial) {
    const std::size_t n = 1 + rng() % 40;
    const auto ps = random_fleet(rng, n);
    const std::size_t parts = 1 + rng() % std::min<std::size_t>(n, 5);
    const double lambda = static_cast<double>(rng() % 5) * 3.0;
    const partition_plan plan(ps, parts);
    INFO("trial " << trial << ", " << n << " devices, " << parts << " partitions, lambda " << lambda);

    std::vector<std::unique_ptr<prouter>> routers;
    std::vector<std::unique_ptr<fleet>> ref_fleets;
    std::vector<argmin_router<joulesched_cost>> refs;
    std::vector<partition_model> models;
    std::vector<std::vector<assignment>> outstanding(parts), posted(parts);
    for (std::size_t part = 0; part < parts; ++part) {
      const std::size_t cap = capacities[rng() % std::size(capacities)];
      routers.push_back(std::make_unique<prouter>(plan, part, joulesched_cost(lambda), cap));
      REQUIRE(routers.back()->inbox_capacity() == rounded_capacity(cap));
      REQUIRE(routers.back()->part() == part);
      ref_fleets.push_back(std::make_unique<fleet>(plan.member_params(part)));
      refs.emplace_back(*ref_fleets.back(), joulesched_cost(lambda));
      models.push_back(model_of(plan, ps, part));
    }

    // What route() and apply_posted() do first: apply every posted release, to the model and the reference.
    auto apply_model = [&](std::size_t part) {
      for (const assignment& a : posted[part]) {
        const device_id l = plan.local_id(a.device);
        models[part].release(l, a.work_ns);
        refs[part].release(assignment{l, a.work_ns});
      }
      posted[part].clear();
    };
    auto take_outstanding = [&](std::size_t part) {
      auto& out = outstanding[part];
      const auto i = rng() % out.size();
      const assignment a = out[i];
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      return a;
    };

    for (unsigned op = 0; op < ops; ++op) {
      const std::size_t part = rng() % parts;
      prouter& r = *routers[part];
      partition_model& m = models[part];
      const auto dice = rng() % 20;
      INFO("op " << op << ", partition " << part << ", dice " << dice);
      if (dice < 9 || outstanding[part].empty()) {
        const request_view v = random_request(rng);
        apply_model(part);
        const auto expected = brute_force_argmin(m, r.cost(), v);
        const auto ref = refs[part].route(v);
        const auto got = r.route(v);
        REQUIRE(got.has_value() == expected.has_value());
        REQUIRE(ref.has_value() == expected.has_value());
        if (got) {
          REQUIRE(got->device < n);
          REQUIRE(plan.owner(got->device) == part);  // a fleet-wide id of this partition
          const device_id l = plan.local_id(got->device);
          REQUIRE(l == *expected);
          REQUIRE(l == ref->device);
          REQUIRE(plan.members(part)[l] == got->device);
          // The work the request costs on the chosen device's parameters, in whole nanoseconds.
          REQUIRE(got->work_ns == reserved_work_ns(m.params(l), v));
          REQUIRE(m.available(l));
          m.reserve(l, reserved_work_ns(m.params(l), v));
          outstanding[part].push_back(*got);
        } else {
          REQUIRE(std::none_of(m.avail.begin(), m.avail.end(), [](bool b) { return b; }));
        }
      } else if (dice < 12) {
        const assignment a = take_outstanding(part);
        r.release(a);
        const device_id l = plan.local_id(a.device);
        m.release(l, a.work_ns);
        refs[part].release(assignment{l, a.work_ns});
      } else if (dice < 17) {
        const assignment a = outstanding[part][rng() % outstanding[part].size()];
        const bool room = posted[part].size() < r.inbox_capacity();
        REQUIRE(r.post_release(a) == room);  // refused exactly when inbox_capacity() releases wait
        if (room) {
          posted[part].push_back(a);
          outstanding[part].erase(std::find(outstanding[part].begin(), outstanding[part].end(), a));
        }
      } else if (dice < 18) {
        const std::size_t waiting = posted[part].size();
        CHECK(r.apply_posted() == waiting);
        apply_model(part);
      } else {
        const device_id l = static_cast<device_id>(rng() % m.size());
        const bool on = rng() % 3 != 0;
        r.set_available(plan.members(part)[l], on);
        ref_fleets[part]->set_available(l, on);
        m.avail[l] = on;
      }
      // Posted releases stay unapplied until the owner routes or applies: the model holds them too.
      check_state(r, m);
    }

    // Give everything back, half directly, half through the inboxes; every load returns to zero.
    for (std::size_t part = 0; part < parts; ++part) {
      prouter& r = *routers[part];
      for (const assignment& a : outstanding[part]) {
        if (rng() % 2 == 0) {
          r.release(a);
        } else {
          while (!r.post_release(a)) {
            const std::size_t waiting = posted[part].size();
            REQUIRE(waiting == r.inbox_capacity());
            REQUIRE(r.apply_posted() == waiting);
            posted[part].clear();
          }
          posted[part].push_back(a);
        }
      }
      CHECK(r.apply_posted() == posted[part].size());
      CHECK(r.apply_posted() == 0);
      for (device_id l = 0; l < r.state().size(); ++l) {
        CHECK(r.state().load(l).reserved_ns == 0);
        CHECK(r.state().load(l).requests == 0);
      }
    }
  }
}

}  // namespace

TEST_CASE("partitioned_router.matches_brute_force_and_argmin_router_per_partition") { run_equivalence(2024, 500, 120); }

TEST_CASE("partitioned_router.ties_break_by_local_order_not_fleet_wide_id") {
  // Devices of two classes that cost the same (they differ only by site): device 0 is at site 1, devices 1
  // and 2 at site 0. One partition: the site-0 class comes first inside it, so with equal cost and load the
  // router must follow local order, whatever the fleet-wide ids; it agrees with the brute force over local ids.
  const std::vector<device_params> ps{{2000.0, 0.12, 1}, {2000.0, 0.12, 0}, {2000.0, 0.12, 0}};
  const partition_plan plan(ps, 1);
  prouter r(plan, 0, joulesched_cost(1.0));
  partition_model m = model_of(plan, ps, 0);
  const request_view v{100, 10, 60.0};
  for (int i = 0; i < 6; ++i) {
    const auto expected = brute_force_argmin(m, r.cost(), v);
    const auto got = r.route(v);
    REQUIRE(got);
    REQUIRE(expected);
    CHECK(plan.local_id(got->device) == *expected);
    CHECK(plan.members(0)[*expected] == got->device);
    m.reserve(*expected, reserved_work_ns(m.params(*expected), v));
  }
}

TEST_CASE("partitioned_router.route_applies_posted_releases_before_deciding") {
  // Two identical devices per partition, lambda 0: cost is the same everywhere, so the device with less
  // reserved work wins. Route 101 tokens (first device: 100 decode tokens at 1000 tok/s, 0.1 s), then 51
  // (second: 0.05 s). Post the release of the first: a route that applied it sees 0 < 0.05 s and picks the first
  // device again; one that did not would pick the second (0.05 s < 0.1 s).
  const partition_plan plan(std::vector<device_params>(4, device_params{1000.0, 0.2}), 2);
  for (std::size_t part = 0; part < 2; ++part) {
    INFO("partition " << part);
    prouter r(plan, part, joulesched_cost(0.0));
    const auto first = r.route({101, 0, 10.0});
    const auto second = r.route({51, 0, 10.0});
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->device != second->device);
    CHECK(plan.owner(first->device) == part);
    CHECK(plan.owner(second->device) == part);
    REQUIRE(r.post_release(*first));
    CHECK(r.state().load(plan.local_id(first->device)).reserved_ns == 100'000'000);  // posted, not applied yet
    CHECK(r.state().load(plan.local_id(second->device)).reserved_ns == 50'000'000);
    const auto third = r.route({11, 0, 10.0});
    REQUIRE(third);
    CHECK(third->device == first->device);
    CHECK(r.state().load(plan.local_id(first->device)).reserved_ns == 10'000'000);  // 10 decode tokens: 0.01 s
    CHECK(r.apply_posted() == 0);
    r.release(*second);
    r.release(*third);
    for (device_id l = 0; l < 2; ++l) CHECK(r.state().load(l).reserved_ns == 0);
  }
}

TEST_CASE("partitioned_router.full_inbox_refuses_then_accepts_after_apply") {
  const std::vector<device_params> ps(6, device_params{1000.0, 0.2});
  const partition_plan plan(ps, 2);
  prouter r(plan, 1, joulesched_cost(1.0), 4);
  REQUIRE(r.inbox_capacity() == 4);
  std::vector<assignment> as;
  for (std::uint32_t k = 0; k < 7; ++k) {
    const auto a = r.route({10 + k, 0, 100.0});
    REQUIRE(a);
    CHECK(plan.owner(a->device) == 1);
    as.push_back(*a);
  }
  auto snapshot = [&] {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> s;
    for (device_id l = 0; l < r.state().size(); ++l)
      s.emplace_back(r.state().load(l).reserved_ns, r.state().load(l).requests);
    return s;
  };
  const auto before = snapshot();
  for (std::size_t k = 0; k < 4; ++k) CHECK(r.post_release(as[k]));
  CHECK(snapshot() == before);  // posted, nothing applied yet
  CHECK_FALSE(r.post_release(as[4]));
  CHECK_FALSE(r.post_release(as[5]));
  CHECK(snapshot() == before);  // refused: nothing changed
  CHECK(r.apply_posted() == 4);
  // Exactly as[0..3] were applied: the remaining load is that of as[4..6].
  std::uint64_t left_tok = 0;
  std::uint32_t left_req = 0;
  for (device_id l = 0; l < r.state().size(); ++l) {
    left_tok += r.state().load(l).reserved_ns;
    left_req += r.state().load(l).requests;
  }
  CHECK(left_tok == std::uint64_t{as[4].work_ns} + as[5].work_ns + as[6].work_ns);
  CHECK(left_req == 3);
  // Room again: the refused ones post now, and route() applies them.
  CHECK(r.post_release(as[4]));
  CHECK(r.post_release(as[5]));
  CHECK(r.apply_posted() == 2);
  CHECK(r.apply_posted() == 0);
  CHECK(r.post_release(as[6]));
  const auto extra = r.route({1, 0, 100.0});  // applies as[6] first
  REQUIRE(extra);
  CHECK(r.apply_posted() == 0);
  r.release(*extra);
  for (device_id l = 0; l < r.state().size(); ++l) {
    CHECK(r.state().load(l).reserved_ns == 0);
    CHECK(r.state().load(l).requests == 0);
  }
}

TEST_CASE("partitioned_router.post_releases_posts_all_or_none") {
  const std::vector<device_params> ps(6, device_params{1000.0, 0.2});
  const partition_plan plan(ps, 2);
  prouter r(plan, 0, joulesched_cost(1.0), 4);
  REQUIRE(r.inbox_capacity() == 4);
  std::vector<assignment> as;
  for (std::uint32_t k = 0; k < 6; ++k) as.push_back(*r.route({10 + k, 0, 100.0}));
  auto total = [&] {
    std::uint64_t tok = 0;
    for (device_id l = 0; l < r.state().size(); ++l) tok += r.state().load(l).reserved_ns;
    return tok;
  };
  const std::uint64_t all = total();
  CHECK(r.post_release(as[0]));
  // Three places left: a batch of four is refused whole, a batch of three fits.
  CHECK_FALSE(r.post_releases(std::span<const assignment>(as).subspan(1, 4)));
  CHECK(r.apply_posted() == 1);
  CHECK(total() == all - as[0].work_ns);  // the refused batch left nothing behind
  CHECK(r.post_releases(std::span<const assignment>(as).subspan(1, 4)));
  CHECK_FALSE(r.post_release(as[5]));  // full
  // route() applies the whole batch before deciding.
  const auto extra = r.route({1, 0, 100.0});
  REQUIRE(extra);
  CHECK(total() == as[5].work_ns + extra->work_ns);
  CHECK(r.post_releases(std::vector<assignment>{as[5], *extra}));
  CHECK(r.apply_posted() == 2);
  CHECK(total() == 0);
  CHECK(r.post_releases(std::span<const assignment>()));  // an empty batch posts nothing and succeeds
  CHECK(r.apply_posted() == 0);
}

TEST_CASE("partitioned_router.inbox_holds_exactly_its_rounded_capacity_over_many_cycles") {
  // Asked for 5, the inbox holds 8: eight posts succeed, the ninth fails; over many fill / apply cycles
  // (the ring wraps around) every posted release is applied once and loads return to zero.
  const partition_plan plan(std::vector<device_params>(3, device_params{1000.0, 0.2}), 1);
  prouter r(plan, 0, joulesched_cost(1.0), 5);
  REQUIRE(r.inbox_capacity() == 8);
  for (int cycle = 0; cycle < 50; ++cycle) {
    INFO("cycle " << cycle);
    const std::size_t k = 1 + static_cast<std::size_t>(cycle) % 9;  // 1..9: sometimes one too many
    std::vector<assignment> as;
    for (std::size_t i = 0; i < k; ++i) {
      const auto a = r.route({static_cast<std::uint32_t>(1 + i), 0, 100.0});
      REQUIRE(a);
      as.push_back(*a);
    }
    std::size_t accepted = 0;
    for (const auto& a : as) accepted += r.post_release(a) ? 1u : 0u;
    CHECK(accepted == std::min<std::size_t>(k, 8));
    CHECK(r.apply_posted() == accepted);
    for (std::size_t i = accepted; i < k; ++i) r.release(as[i]);
    for (device_id l = 0; l < 3; ++l) {
      REQUIRE(r.state().load(l).reserved_ns == 0);
      REQUIRE(r.state().load(l).requests == 0);
    }
  }
}

TEST_CASE("partitioned_router.inbox_asked_for_one_holds_what_it_reports") {
  // The smallest inbox the constructor accepts: it holds exactly inbox_capacity() releases (2), refuses the
  // next, and applies each posted release once, lap after lap (a one-cell ring would take a second post into
  // the cell still holding the first and lose both).
  const partition_plan plan(std::vector<device_params>(2, device_params{1000.0, 0.2}), 1);
  prouter r(plan, 0, joulesched_cost(1.0), 1);
  REQUIRE(r.inbox_capacity() == 2);
  for (int lap = 0; lap < 6; ++lap) {
    INFO("lap " << lap);
    std::vector<assignment> as;
    for (std::uint32_t k = 0; k < 3; ++k) {
      const auto a = r.route({10 + k, 0, 100.0});
      REQUIRE(a);
      as.push_back(*a);
    }
    CHECK(r.post_release(as[0]));
    CHECK(r.post_release(as[1]));
    CHECK_FALSE(r.post_release(as[2]));
    CHECK(r.apply_posted() == 2);
    std::uint64_t left = 0;
    for (device_id l = 0; l < 2; ++l) left += r.state().load(l).reserved_ns;
    CHECK(left == as[2].work_ns);  // exactly the two posted ones were applied
    CHECK(r.post_release(as[2]));
    CHECK(r.apply_posted() == 1);
    for (device_id l = 0; l < 2; ++l) {
      CHECK(r.state().load(l).reserved_ns == 0);
      CHECK(r.state().load(l).requests == 0);
    }
  }
}

TEST_CASE("partitioned_router.drained_devices_are_never_picked") {
  // One class of four devices in partition 0 of two (eight devices): drain the device that would win (the
  // least loaded, lowest local id) and route many requests: it never gets one and its load stays as it was.
  const std::vector<device_params> ps(8, device_params{1000.0, 0.2});
  const partition_plan plan(ps, 2);
  prouter r(plan, 0, joulesched_cost(1.0));
  const auto members = plan.members(0);
  REQUIRE(members.size() == 4);
  const auto warm = r.route({30, 0, 100.0});
  REQUIRE(warm);
  const device_id drained = members[1];  // idle: it would win the next route
  r.set_available(drained, false);
  CHECK_FALSE(r.state().available(plan.local_id(drained)));
  std::vector<assignment> as{*warm};
  for (int i = 0; i < 40; ++i) {
    const auto a = r.route({static_cast<std::uint32_t>(5 + i % 7), 0, 100.0});
    REQUIRE(a);
    CHECK(a->device != drained);
    CHECK(plan.owner(a->device) == 0);
    as.push_back(*a);
  }
  CHECK(r.state().load(plan.local_id(drained)).reserved_ns == 0);
  CHECK(r.state().load(plan.local_id(drained)).requests == 0);
  // Restored, it is the least loaded again and wins.
  r.set_available(drained, true);
  const auto back = r.route({1, 0, 100.0});
  REQUIRE(back);
  CHECK(back->device == drained);
  as.push_back(*back);
  for (const auto& a : as) r.release(a);
  for (device_id l = 0; l < 4; ++l) CHECK(r.state().load(l).reserved_ns == 0);
}

TEST_CASE("partitioned_router.all_drained_partition_gives_no_device_others_unaffected") {
  std::mt19937_64 rng(5);
  const auto ps = random_fleet(rng, 9);
  const partition_plan plan(ps, 3);
  prouter r0(plan, 0, joulesched_cost(2.0)), r1(plan, 1, joulesched_cost(2.0));
  for (const device_id id : plan.members(0)) r0.set_available(id, false);
  const request_view v{50, 10, 5.0};
  CHECK_FALSE(r0.route(v));
  CHECK_FALSE(r0.route(v));
  for (device_id l = 0; l < r0.state().size(); ++l) CHECK(r0.state().load(l).requests == 0);
  // Another partition still routes, to its own devices.
  const auto other = r1.route(v);
  REQUIRE(other);
  CHECK(plan.owner(other->device) == 1);
  // Restore one device of partition 0: it is the only choice.
  const device_id back = plan.members(0).back();
  r0.set_available(back, true);
  const auto a = r0.route(v);
  REQUIRE(a);
  CHECK(a->device == back);
  // A drained device keeps its load and can still be released, directly or through the inbox.
  r0.set_available(back, false);
  // What the request costs there: 49 decode tokens (and any prefill) on that device's parameters.
  CHECK(a->work_ns == reserved_work_ns(ps[back], v));
  CHECK(a->work_ns > 0);
  CHECK(r0.state().load(plan.local_id(back)).reserved_ns == a->work_ns);
  REQUIRE(r0.post_release(*a));
  CHECK_FALSE(r0.route(v));  // applies the release, still nothing available
  CHECK(r0.state().load(plan.local_id(back)).reserved_ns == 0);
  CHECK(r0.state().load(plan.local_id(back)).requests == 0);
}

// ---------------------------------------------------------------------------------------------------------
// detail::mpsc_ring, one thread

TEST_CASE("mpsc_ring.capacity_rounds_up_to_a_power_of_two_at_least_two") {
  for (const std::size_t asked : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 1000u, 1024u, 1025u}) {
    INFO("asked " << asked);
    const detail::mpsc_ring<int> r(asked);
    CHECK(r.capacity() == rounded_capacity(asked));
    CHECK(r.capacity() >= asked);
    CHECK(std::has_single_bit(r.capacity()));
  }
}

TEST_CASE("mpsc_ring.fifo_bounded_and_a_refused_push_changes_nothing") {
  for (const std::size_t asked : {1u, 2u, 3u, 8u, 13u}) {
    INFO("asked " << asked);
    detail::mpsc_ring<assignment> r(asked);
    const std::size_t cap = r.capacity();
    assignment out{};
    CHECK_FALSE(r.pop(out));
    for (std::size_t i = 0; i < cap; ++i)
      CHECK(r.push(assignment{static_cast<device_id>(i), static_cast<std::uint32_t>(100 + i)}));
    CHECK_FALSE(r.push(assignment{999, 999}));
    CHECK_FALSE(r.push(assignment{998, 998}));
    for (std::size_t i = 0; i < cap; ++i) {
      REQUIRE(r.pop(out));
      CHECK(out == assignment{static_cast<device_id>(i), static_cast<std::uint32_t>(100 + i)});
    }
    CHECK_FALSE(r.pop(out));
    // Freed cells take pushes again, and order holds from there.
    CHECK(r.push(assignment{7, 7}));
    CHECK(r.push(assignment{8, 8}));
    REQUIRE(r.pop(out));
    CHECK(out == assignment{7, 7});
    REQUIRE(r.pop(out));
    CHECK(out == assignment{8, 8});
    CHECK_FALSE(r.pop(out));
  }
}

TEST_CASE("mpsc_ring.wraps_around_against_a_model") {
  // Random pushes, batch pushes and pops against a deque over many laps of the ring: push succeeds exactly
  // when fewer than capacity() values wait, push_all of k values exactly when k places are free (and then
  // all k go in, in order; otherwise none), and pops return values in push order.
  std::mt19937_64 rng(77);
  for (const std::size_t asked : {1u, 2u, 4u, 5u, 16u}) {
    INFO("asked " << asked);
    detail::mpsc_ring<std::uint64_t> r(asked);
    std::deque<std::uint64_t> model;
    std::uint64_t next = 0;
    for (int op = 0; op < 20000; ++op) {
      const auto dice = rng() % 4;
      if (dice == 0) {
        const bool room = model.size() < r.capacity();
        REQUIRE(r.push(next) == room);
        if (room) model.push_back(next);
        ++next;
      } else if (dice == 1) {
        const std::size_t k = rng() % (r.capacity() + 1);  // 0..capacity()
        std::vector<std::uint64_t> batch(k);
        for (auto& x : batch) x = next++;
        const bool room = model.size() + k <= r.capacity();
        REQUIRE(r.push_all(batch) == room);
        if (room) model.insert(model.end(), batch.begin(), batch.end());
      } else {
        std::uint64_t out = 0;
        REQUIRE(r.pop(out) == !model.empty());
        if (!model.empty()) {
          REQUIRE(out == model.front());
          model.pop_front();
        }
      }
    }
    CHECK(next > 100 * r.capacity());  // many laps
  }
}

TEST_CASE("mpsc_ring.asked_for_one_holds_what_it_reports") {
  // Asked for 1, the ring holds capacity() values: that many pushes succeed, the next is refused, and every
  // value comes out once, in order, lap after lap.
  detail::mpsc_ring<int> r(1);
  const std::size_t cap = r.capacity();
  REQUIRE(cap >= 1);
  int next_in = 0, next_out = 0;
  for (int lap = 0; lap < 8; ++lap) {
    INFO("lap " << lap);
    for (std::size_t i = 0; i < cap; ++i) CHECK(r.push(next_in++));
    CHECK_FALSE(r.push(-1));
    int out = -2;
    for (std::size_t i = 0; i < cap; ++i) {
      REQUIRE(r.pop(out));
      CHECK(out == next_out++);
    }
    CHECK_FALSE(r.pop(out));
    // One in, one out: the alternating pattern a lone completer produces.
    CHECK(r.push(next_in++));
    REQUIRE(r.pop(out));
    CHECK(out == next_out++);
  }
}

// Misuse: a release twice (direct or posted) wrapped the partition's load; a device id outside the
// plan read past the plan's tables; a batch larger than the ring aliased its own cells. All refused now.
TEST_CASE("partitioned_router.release_twice_and_ids_outside_the_plan_are_refused") {
  const partition_plan plan(std::vector<device_params>(4, device_params{1000.0, 0.2}), 2);
  prouter r(plan, 0, joulesched_cost(0.0));
  const auto a = r.route({100, 0, 10.0});
  REQUIRE(a);
  const device_id local = plan.local_id(a->device);
  CHECK(r.release(*a));
  CHECK_FALSE(r.release(*a));
  CHECK(r.state().load(local).reserved_ns == 0);
  CHECK(r.state().load(local).requests == 0);
  // Posted twice: both are taken from the inbox, the second refused when applied.
  const auto b = r.route({40, 0, 10.0});
  REQUIRE(b);
  REQUIRE(r.post_release(*b));
  REQUIRE(r.post_release(*b));
  CHECK(r.apply_posted() == 2);
  CHECK(r.state().load(plan.local_id(b->device)).reserved_ns == 0);
  // Ids beyond the plan.
  CHECK_FALSE(r.release(assignment{4, 1}));
  CHECK_FALSE(r.release(assignment{fleet::no_device, 1}));
  r.set_available(4, false);
  CHECK(r.state().available_ids().size() == 2);
}

TEST_CASE("mpsc_ring.push_all_of_more_than_capacity_is_refused") {
  detail::mpsc_ring<assignment> ring(4);
  const std::vector<assignment> five(5, assignment{1, 1});
  CHECK_FALSE(ring.push_all(five));
  assignment out{};
  CHECK_FALSE(ring.pop(out));
  CHECK(ring.push_all(std::span(five).first(4)));
  for (int i = 0; i < 4; ++i) CHECK(ring.pop(out));
  CHECK_FALSE(ring.pop(out));

  const partition_plan plan(std::vector<device_params>(2, device_params{1000.0, 0.2}), 1);
  prouter r(plan, 0, joulesched_cost(0.0), 2);
  const std::vector<assignment> three(3, assignment{0, 0});
  CHECK_FALSE(r.post_releases(three));
  CHECK(r.apply_posted() == 0);
}
