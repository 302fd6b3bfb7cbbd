// plan/freesh_inputs.hpp: the authors' tables load as published, and every malformed table is refused with
// its file, line, field and value.
#include "joulesched/plan/freesh_inputs.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "support/errors.hpp"

namespace jp = joulesched::plan;
using joulesched::test::check_mentions;
using joulesched::test::error_of;

namespace {
const std::filesystem::path data = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data" / "freesh";

const char* const sites_csv = "site,A100,H100\nloc1,4,4\nloc2,2,0\n";
const char* const profiles_csv =
    "request_class,mode,gpu_type,gpus,instance_power_w,max_qps,e2e_latency_s,tbt_ms,ttft_ms\n"
    "SS,A100x2,A100,2,700,5,8,50,100\n"
    "SS,H100x4,H100,4,1200,16,3,20,80\n"
    "LL,A100x2,A100,2,710,0,30,50,150\n"
    "LL,H100x4,H100,4,970,2,17,28,90\n";

jp::freesh_sites sites() {
  std::istringstream in(sites_csv);
  return jp::read_freesh_sites(in, "sites.csv");
}
jp::freesh_profiles profiles(const std::string& text) {
  std::istringstream in(text);
  return jp::read_freesh_profiles(in, "profiles.csv", sites());
}
jp::freesh_series series(const std::string& text, bool allow_negative = false) {
  std::istringstream in(text);
  return jp::read_freesh_series(in, "demand.csv", {"SS", "LL"}, allow_negative, "class of profiles.csv");
}
}  // namespace

TEST_CASE("freesh inputs: the shipped tables load as the authors published them") {
  for (const char* partition : {"a", "b"}) {
    const jp::freesh_inputs in = jp::load_freesh_inputs(data, partition);
    CHECK(in.sites.names == std::vector<std::string>{"loc1", "loc2", "loc3"});
    CHECK(in.sites.gpu_types == std::vector<std::string>{"A100", "H100"});
    CHECK(in.sites.at(1, 0) == 12);  // loc2: 12 A100, 2 H100
    CHECK(in.sites.at(1, 1) == 2);
    CHECK(in.profiles.classes == std::vector<std::string>{"SS", "SL", "LS", "LL"});
    CHECK(in.profiles.modes == std::vector<std::string>{"A100x2", "A100x4", "A100x8", "H100x4"});
    CHECK(in.demand_qps.steps == 288);
    CHECK(in.emission.steps == 288);
  }
  const jp::freesh_inputs a = jp::load_freesh_inputs(data, "a");
  CHECK(a.profiles.at(0, 3).max_qps == 16.38);  // SS on H100x4, line 5 of profiles_partition_a.csv
  CHECK(a.demand_qps.at(0, 2) == 26.4);         // step 0, LS
  CHECK(a.emission.at(0, 0) == 2500.760436);    // step 0, loc1
}

TEST_CASE("freesh inputs: a reordered series is read into the order asked for") {
  const jp::freesh_series s = series("step,start_s,LL,SS\n0,0,1,2\n1,300,3,4\n");
  CHECK(s.at(0, 0) == 2.0);  // SS
  CHECK(s.at(1, 1) == 3.0);  // LL
}

TEST_CASE("freesh inputs: malformed sites are refused with file, line and field") {
  const auto bad = [](const char* text) {
    return error_of([&] {
      std::istringstream in(text);
      (void)jp::read_freesh_sites(in, "sites.csv");
    });
  };
  check_mentions(bad("site,A100\nloc1,4\nloc1,2\n"), {"sites.csv:3", "loc1", "appears twice"});
  check_mentions(bad("site,A100\nloc1,-4\n"), {"sites.csv:2", "A100", "-4"});
  check_mentions(bad("site\nloc1\n"), {"sites.csv", "no GPU-type column"});
  check_mentions(bad("site,A100\n"), {"sites.csv", "no site row"});
}

TEST_CASE("freesh inputs: malformed profiles are refused with file, line and field") {
  const std::string header = "request_class,mode,gpu_type,gpus,instance_power_w,max_qps,e2e_latency_s,tbt_ms,ttft_ms\n";
  const auto bad = [&](const std::string& rows) { return error_of([&] { (void)profiles(header + rows); }); };
  check_mentions(bad("XS,A100x2,A100,2,700,5,8,50,100\n"), {"profiles.csv:2", "request_class", "must start with S"});
  check_mentions(bad("SS,V100x2,V100,2,700,5,8,50,100\n"), {"profiles.csv:2", "gpu_type", "V100", "unknown GPU type"});
  check_mentions(bad("SS,A100x2,A100,2,0,5,8,50,100\n"), {"profiles.csv:2", "instance_power_w"});
  check_mentions(bad("SS,A100x2,A100,2,700,nan,8,50,100\n"), {"profiles.csv:2", "max_qps", "nan"});
  check_mentions(bad("SS,A100x2,A100,2,700,5,8,50,100\nSS,A100x2,A100,2,700,5,8,50,100\n"),
                 {"profiles.csv:3", "given twice", "line 2"});
  check_mentions(bad("SS,A100x2,A100,2,700,5,8,50,100\nLL,A100x2,A100,4,700,5,8,50,100\n"),
                 {"profiles.csv:3", "gpus", "differs"});
  check_mentions(bad("SS,A100x2,A100,2,700,5,8,50,100\nSS,H100x4,H100,4,1200,16,3,20,80\n"
                     "LL,A100x2,A100,2,710,0,30,50,150\n"),
                 {"profiles.csv:4", "LL", "no row for mode 'H100x4'"});
  CHECK(profiles(profiles_csv).rows.size() == 4);
}

TEST_CASE("freesh inputs: malformed series are refused with file, line and field") {
  const auto bad = [](const std::string& text, bool negative = false) {
    return error_of([&] { (void)series(text, negative); });
  };
  check_mentions(bad("step,start_s,SS,LL\n0,0,1,1\n2,600,1,1\n"), {"demand.csv:3", "step", "must be 1"});
  check_mentions(bad("step,start_s,SS,LL\n0,0,1,1\n1,299,1,1\n"), {"demand.csv:3", "start_s", "299"});
  check_mentions(bad("step,start_s,SS,LL\n0,0,-1,1\n"), {"demand.csv:2", "SS", "-1"});
  check_mentions(bad("step,start_s,SS,LL,XX\n0,0,1,1,1\n"), {"demand.csv:1", "XX", "is not a class"});
  check_mentions(bad("step,start_s,SS\n0,0,1\n"), {"demand.csv", "LL"});
  check_mentions(bad("step,start_s,SS,LL\n"), {"demand.csv", "no data row"});
  CHECK(series("step,start_s,SS,LL\n0,0,-1,1\n", true).at(0, 0) == -1.0);  // emission coefficients may be < 0
}

TEST_CASE("freesh inputs: series of different lengths, and a missing file, are refused") {
  std::istringstream s(sites_csv), p(profiles_csv), d("step,start_s,SS,LL\n0,0,1,1\n1,300,1,1\n"),
      e("step,start_s,loc1,loc2\n0,0,1,1\n");
  check_mentions(error_of([&] { (void)jp::read_freesh_inputs(s, "sites.csv", p, "p.csv", d, "d.csv", e, "e.csv"); }),
                 {"e.csv:2", "after 1 steps", "d.csv has 2"});
  check_mentions(error_of([] { (void)jp::load_freesh_inputs(data, "z"); }), {"profiles_partition_z.csv"});
}
