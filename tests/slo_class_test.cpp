#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "joulesched/request_view.hpp"
#include "joulesched/slo_class.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using joulesched::test::throws_naming;

TEST_CASE("slo_class_set.default_holds_interactive_and_bulk_at_the_tiers_default_ids") {
  const slo_class_set s;
  REQUIRE(s.size() == 2);
  CHECK(s.name(interactive_slo_class) == "interactive");
  CHECK(s.name(bulk_slo_class) == "bulk");
  CHECK(s.id("bulk") == default_slo_class_of(tier::bulk));
  CHECK(s.id("interactive") == default_slo_class_of(tier::interactive));
}

TEST_CASE("slo_class_set.is_open_ids_in_the_order_named") {
  slo_class_set s(std::vector<std::string>{"chat", "rag", "batch"}, "mix.csv");
  CHECK(s.id("batch") == 2);
  CHECK(!s.find("bulk"));
  CHECK(s.add("embeddings") == 3);
  CHECK(s.name(3) == "embeddings");
  CHECK(s.size() == 4);
}

TEST_CASE("slo_class_set.refuses_empty_repeated_and_unknown_names") {
  CHECK(throws_naming([] { slo_class_set s(std::vector<std::string>{"chat", "chat"}, "mix.csv"); }, "classes[1]"));
  CHECK(throws_naming([] { slo_class_set s(std::vector<std::string>{"chat", ""}); }, "classes[1]"));
  CHECK(throws_naming([] { slo_class_set s(std::vector<std::string>{}); }, "classes"));
  const slo_class_set s;
  CHECK(throws_naming([&] { (void)s.id("chat", "--pi-class"); }, "slo_class"));
  CHECK(throws_naming([&] { (void)s.name(2); }, "slo_class"));
}

namespace {
struct bulk_job {
  double input_tok = 100;
  double deadline_s = 50;
  std::optional<tier> declared_tier = tier::bulk;
};
struct chat_turn {
  double input_tok = 100;
  double deadline_s = 50;
  slo_class_id slo_class = 7;
  std::optional<tier> declared_tier = tier::bulk;
};
}  // namespace

TEST_CASE("slo_class.a_request_that_names_none_is_in_its_declared_tiers_default_class") {
  CHECK(make_request_view(bulk_job{}, 0.0, 10.0).slo_class == bulk_slo_class);
  CHECK(make_request_view(chat_turn{}, 0.0, 10.0).slo_class == 7);  // a named class wins
}
