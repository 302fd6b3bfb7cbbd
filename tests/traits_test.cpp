// An engine's trait specialisations written before the prefill, TTFT and pacing fields existed still compile and
// give the defaults: prefill and context not modelled, batch 1, no TTFT budget, no pacing target, SLO class 0.
// Specialisations with only the required members (traits.hpp's own example) satisfy the concepts and route.
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "joulesched/fleet.hpp"
#include "joulesched/request_view.hpp"

namespace legacy {
struct gpu {
  double tokens_per_second;
  double joules_per_token;
};
struct call {
  double prompt_tokens;
  double deadline_unix_s;
};
}  // namespace legacy

template <>
struct joulesched::device_traits<legacy::gpu> {
  static double rate_tok_s(const legacy::gpu& g) { return g.tokens_per_second; }
  static double energy_j_per_tok(const legacy::gpu& g) { return g.joules_per_token; }
  static site_id site(const legacy::gpu&) { return 3; }
  static const energy_profile* profile(const legacy::gpu&) { return nullptr; }
};

template <>
struct joulesched::request_traits<legacy::call> {
  static double input_tok(const legacy::call& c) { return c.prompt_tokens; }
  static double deadline_s(const legacy::call& c) { return c.deadline_unix_s; }
  static std::optional<tier> declared_tier(const legacy::call&) { return tier::bulk; }
};

using namespace joulesched;

TEST_CASE("traits.specialisations_without_the_new_fields_get_their_defaults") {
  const std::vector<legacy::gpu> gpus{{2000.0, 0.1}};
  const fleet f(gpus);
  const device_params& p = f.params(0);
  CHECK(p.rate_tok_s == 2000.0);
  CHECK(p.site == 3);
  CHECK(p.prefill_s_per_tok == 0.0);
  CHECK(p.request_j == 0.0);
  CHECK(p.ctx_s_per_tok == 0.0);
  CHECK(p.batch == 1.0);

  const legacy::call c{512.0, 110.0};
  const request_view v = checked_request_view(c, 100.0, 64.0, "legacy");
  CHECK(v.budget_s == 10.0);
  CHECK(v.ttft_budget_s == max_budget_s);  // none
  CHECK(v.tbt_s == 0.0);
  CHECK(v.tier == tier::bulk);
  CHECK(v.slo_class == bulk_slo_class);  // names no class: its declared tier's default class
  CHECK(make_request_view(c, 100.0, 64.0).input_tok == 512);
}

namespace {
struct optional_ttft_request {
  double input_tok = 10;
  double deadline_s = 100;
  std::optional<double> ttft_deadline_s;
};
}  // namespace

TEST_CASE("traits.an_optional_ttft_deadline_member_reads_as_one") {
  optional_ttft_request r;
  CHECK(make_request_view(r, 0.0, 10.0).ttft_budget_s == max_budget_s);  // empty: no TTFT SLO
  r.ttft_deadline_s = 5.0;
  CHECK(make_request_view(r, 1.0, 10.0).ttft_budget_s == 4.0);
  CHECK(checked_request_view(r, 1.0, 10.0, "engine").ttft_budget_s == 4.0);
}

// traits.hpp's documented example, verbatim, and a request_traits with only its required members.
namespace doc {
struct gpu {
  double tokens_per_second;
  double joules_per_token;
};
struct call {
  double prompt_tokens;
  double deadline_unix_s;
};
}  // namespace doc
template <>
struct joulesched::device_traits<doc::gpu> {
  static double rate_tok_s(const doc::gpu& g) { return g.tokens_per_second; }
  static double energy_j_per_tok(const doc::gpu& g) { return g.joules_per_token; }
};
template <>
struct joulesched::request_traits<doc::call> {
  static double input_tok(const doc::call& c) { return c.prompt_tokens; }
  static double deadline_s(const doc::call& c) { return c.deadline_unix_s; }
};

static_assert(Device<doc::gpu> && Request<doc::call>);

TEST_CASE("traits.the_documented_example_and_required_members_alone_work") {
  const fleet f(std::vector<doc::gpu>{{2000.0, 0.1}, {500.0, 0.3}});
  CHECK(f.params(1).site == 0);  // not provided: the defaults
  CHECK(f.params(1).profile == nullptr);
  const request_view v = checked_request_view(doc::call{100.0, 50.0}, 40.0, 64.0, "doc");
  CHECK(v.tier == tier::interactive);  // no declared tier
  CHECK(v.slo_class == default_slo_class);
  CHECK(v.budget_s == 10.0);
  CHECK(v.input_tok == 100);
}
