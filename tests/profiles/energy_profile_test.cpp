#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/profiles/profile_file.hpp"
#include "support/errors.hpp"

using joulesched::config_error;
using joulesched::energy_profile;
using joulesched::load_energy_profile;
using joulesched::parse_energy_profile;
using joulesched::profile_point;

using namespace joulesched::test;

namespace {

// batch {1, 8, 32} x seq {512, 2048}, the same values as tests/data/profiles/test_a100_llama8b.csv.
//            seq 512        seq 2048
// batch 1    0.9 J, 40/s    1.1 J, 36/s
// batch 8    0.35, 290      0.42, 250
// batch 32   0.2, 900       0.25, 760
energy_profile grid_3x2() {
  return energy_profile("a100", {1, 8, 32}, {512, 2048}, {0.9, 1.1, 0.35, 0.42, 0.2, 0.25},
                        {40, 36, 290, 250, 900, 760});
}

void check_point(const profile_point& p, double energy_j_per_tok, double rate_tok_s) {
  CHECK(p.energy_j_per_tok == doctest::Approx(energy_j_per_tok).epsilon(1e-12));
  CHECK(p.rate_tok_s == doctest::Approx(rate_tok_s).epsilon(1e-12));
}

energy_profile parse(const std::string& text, std::string_view source = "p.csv") {
  std::istringstream in(text);
  return parse_energy_profile(in, source);
}

std::string parse_error(const std::string& text) {
  return error_of([&] { (void)parse(text); });
}

const std::string header = "batch_size,seq_len_tok,energy_j_per_tok,rate_tok_s\n";

}  // namespace

TEST_CASE("energy_profile.eval.exact_at_grid_points") {
  const auto p = grid_3x2();
  CHECK(p.eval(1, 512) == profile_point{0.9, 40});
  CHECK(p.eval(1, 2048) == profile_point{1.1, 36});
  CHECK(p.eval(8, 512) == profile_point{0.35, 290});
  CHECK(p.eval(8, 2048) == profile_point{0.42, 250});
  CHECK(p.eval(32, 512) == profile_point{0.2, 900});
  CHECK(p.eval(32, 2048) == profile_point{0.25, 760});
  CHECK(p.at(1, 1) == profile_point{0.42, 250});
}

TEST_CASE("energy_profile.eval.linear_between_points") {
  const auto p = grid_3x2();
  // Halfway along the batch axis (1..8) at a grid seq length.
  check_point(p.eval(4.5, 512), (0.9 + 0.35) / 2, (40 + 290) / 2.0);
  // Halfway along the seq axis (512..2048) at a grid batch size.
  check_point(p.eval(8, 1280), (0.35 + 0.42) / 2, (290 + 250) / 2.0);
  // Halfway on both axes, in the cell batch 8..32 x seq 512..2048: the mean of its four corners.
  check_point(p.eval(20, 1280), 0.305, 550);
  // A quarter along both axes (batch 14, seq 896) in the same cell, by hand:
  //   energy at batch 8: 0.75*0.35 + 0.25*0.42 = 0.3675; at batch 32: 0.75*0.2 + 0.25*0.25 = 0.2125;
  //   energy = 0.75*0.3675 + 0.25*0.2125 = 0.32875. Rate likewise: 280, 865, 426.25.
  check_point(p.eval(14, 896), 0.32875, 426.25);
}

TEST_CASE("energy_profile.eval.clamped_outside_the_grid") {
  const auto p = grid_3x2();
  CHECK(p.min_batch() == 1);
  CHECK(p.max_batch() == 32);
  CHECK(p.min_seq_len_tok() == 512);
  CHECK(p.max_seq_len_tok() == 2048);
  CHECK(p.contains(1, 512));
  CHECK(p.contains(32, 2048));
  CHECK(p.contains(20, 1000));

  CHECK(p.eval(1000, 2048) == p.eval(32, 2048));        // above the batch axis
  CHECK(p.eval(0.5, 512) == p.eval(1, 512));            // below it
  CHECK(p.eval(8, 100000) == p.eval(8, 2048));          // past the longest sequence
  CHECK(p.eval(8, 0) == p.eval(8, 512));                // before the shortest
  CHECK(p.eval(1e9, 1e9) == profile_point{0.25, 760});  // corners
  CHECK(p.eval(0, 0) == profile_point{0.9, 40});
  CHECK(p.eval(std::numeric_limits<double>::infinity(), 0) == profile_point{0.2, 900});
  // Clamped on one axis, still interpolated on the other.
  check_point(p.eval(64, 1280), (0.2 + 0.25) / 2, (900 + 760) / 2.0);
  const std::vector<std::pair<double, double>> outside{{0.5, 1000}, {64, 1000}, {8, 100}, {8, 4096}};
  for (const auto& q : outside) {
    CAPTURE(q.first);
    CAPTURE(q.second);
    CHECK_FALSE(p.contains(q.first, q.second));
  }
}

TEST_CASE("energy_profile.eval.single_axis_grids") {
  SUBCASE("one seq length: constant along seq, linear along batch") {
    const energy_profile p("one_seq", {1, 3}, {1024}, {1.0, 0.5}, {10, 30});
    CHECK(p.eval(2, 1024) == profile_point{0.75, 20});
    CHECK(p.eval(2, 0) == p.eval(2, 1e6));
    CHECK(p.eval(2, 0) == profile_point{0.75, 20});
    CHECK(p.eval(5, 10) == profile_point{0.5, 30});
  }
  SUBCASE("one batch size: constant along batch, linear along seq") {
    const energy_profile p("one_batch", {16}, {0, 1000}, {0.2, 0.4}, {500, 300});
    check_point(p.eval(16, 250), 0.25, 450);
    CHECK(p.eval(1, 250) == p.eval(64, 250));
    check_point(p.eval(1, 250), 0.25, 450);
  }
  SUBCASE("one point: constant everywhere") {
    const energy_profile p("one", {8}, {512}, {0.3}, {200});
    CHECK(p.eval(1, 0) == profile_point{0.3, 200});
    CHECK(p.eval(8, 512) == profile_point{0.3, 200});
    CHECK(p.eval(100, 1e5) == profile_point{0.3, 200});
  }
}

TEST_CASE("energy_profile.ctor.rejects_bad_grids") {
  check_mentions(error_of([] { energy_profile("g", {}, {512}, {}, {}); }), {"g: batch_sizes is empty"});
  check_mentions(error_of([] { energy_profile("g", {1}, {}, {}, {}); }), {"g: seq_lens_tok is empty"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 8, 8}, {512}, {1, 1, 1}, {1, 1, 1});
                 }),
                 {"g: batch_sizes[2] = 8", "must be > batch_sizes[1] = 8", "strictly increasing"});
  check_mentions(error_of([] {
                   energy_profile("g", {1}, {2048, 512}, {1, 1}, {1, 1});
                 }),
                 {"g: seq_lens_tok[1] = 512", "must be > seq_lens_tok[0] = 2048"});
  check_mentions(error_of([] {
                   energy_profile("g", {0.5, 8}, {512}, {1, 1}, {1, 1});
                 }),
                 {"g: batch_sizes[0] = 0.5", ">= 1"});
  check_mentions(error_of([] { energy_profile("g", {1}, {-1}, {1}, {1}); }), {"g: seq_lens_tok[0] = -1", ">= 0"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, NAN}, {0}, {1, 1}, {1, 1});
                 }),
                 {"g: batch_sizes[1] = nan", "finite"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 8}, {512, 2048}, {1, 1, 1}, {1, 1, 1, 1});
                 }),
                 {"g: energy_j_per_tok has 3 values, expected 4", "2 batch sizes x 2 seq lengths"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 8}, {512, 2048}, {1, 1, 1, 1}, {1, 1, 1});
                 }),
                 {"g: rate_tok_s has 3 values, expected 4"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 8}, {512, 2048}, {1, 1, -1, 1}, {1, 1, 1, 1});
                 }),
                 {"g: energy_j_per_tok at (batch_size 8, seq_len_tok 512) = -1", "finite and >= 0"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 8}, {512, 2048}, {1, 1, 1, 1}, {1, 0, 1, 1});
                 }),
                 {"g: rate_tok_s at (batch_size 1, seq_len_tok 2048) = 0", "finite and > 0"});
  check_mentions(error_of([] { energy_profile("g", {1}, {512}, {INFINITY}, {1}); }),
                 {"energy_j_per_tok at (batch_size 1, seq_len_tok 512) = inf"});
}

TEST_CASE("energy_profile.ctor.rejects_rates_that_interpolate_to_zero_or_inf") {
  // Before: 5e-324 was accepted (finite, > 0) and eval() between two such points returned rate 0.
  check_mentions(error_of([] {
                   energy_profile("g", {1, 3}, {0}, {1, 1}, {5e-324, 5e-324});
                 }),
                 {"g: rate_tok_s at (batch_size 1, seq_len_tok 0) = 5e-324", "must be in [0.001, 1e300] token/s"});
  check_mentions(error_of([] {
                   energy_profile("g", {1, 3}, {0}, {1, 1}, {1, 1.7e308});
                 }),
                 {"g: rate_tok_s at (batch_size 3, seq_len_tok 0) = 1.7e+308", "must be in [0.001, 1e300]"});
  const energy_profile edge("g", {1, 3}, {0}, {1, 1}, {1e-3, 1e300});
  const double r = edge.eval(2, 0).rate_tok_s;
  CHECK(std::isfinite(r));
  CHECK(r > 0);
  CHECK(energy_profile("g", {1, 3}, {0}, {1, 1}, {1e-3, 1e-3}).eval(2, 0).rate_tok_s > 0);
}

TEST_CASE("energy_profile.load.good_file") {
  const std::string path = std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles/test_a100_llama8b.csv";
  const auto p = load_energy_profile(path);
  CHECK(p.name() == "A100-SXM4-40GB/Llama-3.1-8B-Instruct (test)");
  CHECK(std::vector<double>(p.batch_sizes().begin(), p.batch_sizes().end()) == std::vector<double>{1, 8, 32});
  CHECK(std::vector<double>(p.seq_lens_tok().begin(), p.seq_lens_tok().end()) == std::vector<double>{512, 2048});
  const auto ref = grid_3x2();
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t s = 0; s < 2; ++s) CHECK(p.at(b, s) == ref.at(b, s));
  check_point(p.eval(14, 896), 0.32875, 426.25);
}

TEST_CASE("energy_profile.load.bad_file_names_path_line_and_field") {
  const std::string path = std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles/test_bad_rate.csv";
  check_mentions(error_of([&] { (void)load_energy_profile(path); }),
                 {path + ":6: field rate_tok_s = '0': must be finite and > 0"});
}

TEST_CASE("energy_profile.load.missing_file_names_path") {
  const std::string path = std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles/missing.csv";
  check_mentions(error_of([&] { (void)load_energy_profile(path); }), {path, "cannot open"});
}

TEST_CASE("energy_profile.parse.columns_by_name_and_name") {
  // Free column order, an extra column, CRLF, comments between rows, rows out of order.
  const auto p = parse(
      "# made for a test\r\n"
      "rate_tok_s,source,seq_len_tok,energy_j_per_tok,batch_size\r\n"
      "300,x,1000,0.4,16\r\n"
      "# between rows\r\n"
      "500,\"a, b\",0,0.2,16\r\n",
      "/some/dir/h100_llama8b.csv");
  CHECK(p.name() == "h100_llama8b");  // no '# name:' comment: the file stem
  CHECK(p.eval(16, 0) == profile_point{0.2, 500});
  CHECK(p.eval(16, 1000) == profile_point{0.4, 300});

  CHECK(parse("# name: H100/Llama\n" + header + "1,0,1,1\n").name() == "H100/Llama");
  check_mentions(parse_error("# name:\n" + header + "1,0,1,1\n"), {"p.csv:1", "'name' is empty"});
  check_mentions(parse_error("# name: a\n" + header + "1,0,1,1\n# name: b\n"),
                 {"p.csv:4", "'name' given twice", "line 1"});
}

TEST_CASE("energy_profile.parse.malformed_number_names_line_and_field") {
  check_mentions(parse_error("# c\n" + header + "1,512,0.9,40\n2,512,abc,40\n"),
                 {"p.csv:4: field energy_j_per_tok = 'abc': not a number"});
  check_mentions(parse_error(header + "1,512x,0.9,40\n"), {"p.csv:2: field seq_len_tok = '512x': not a number"});
  check_mentions(parse_error(header + "1,512,,40\n"), {"p.csv:2: field energy_j_per_tok = '': not a number"});
  check_mentions(parse_error(header + "1,512,0.9,1e999\n"), {"p.csv:2: field rate_tok_s = '1e999'", "out of range"});
}

TEST_CASE("energy_profile.parse.malformed_line") {
  check_mentions(parse_error(header + "1,512,0.9\n"), {"p.csv:2", "3 fields, expected 4"});
  check_mentions(parse_error(header + "1,512,0.9,40,5\n"), {"p.csv:2", "5 fields, expected 4"});
  check_mentions(parse_error(header + "1,512,\"0.9,40\n"), {"p.csv:2", "no closing quote"});
}

TEST_CASE("energy_profile.parse.value_out_of_range_names_line_and_field") {
  check_mentions(parse_error(header + "0.5,512,0.9,40\n"), {"p.csv:2: field batch_size = '0.5': must be >= 1"});
  check_mentions(parse_error(header + "inf,512,0.9,40\n"), {"p.csv:2: field batch_size = 'inf': not a number"});
  check_mentions(parse_error(header + "1,-1,0.9,40\n"), {"p.csv:2: field seq_len_tok = '-1': must be finite and >= 0"});
  check_mentions(parse_error(header + "1,512,-0.1,40\n"),
                 {"p.csv:2: field energy_j_per_tok = '-0.1': must be finite and >= 0"});
  check_mentions(parse_error(header + "1,512,nan,40\n"), {"p.csv:2: field energy_j_per_tok = 'nan'"});
  check_mentions(parse_error(header + "1,512,0.9,0\n"), {"p.csv:2: field rate_tok_s = '0': must be finite and > 0"});
  check_mentions(parse_error(header + "1,512,0.9,-3\n"), {"p.csv:2: field rate_tok_s = '-3'"});
}

TEST_CASE("energy_profile.parse.duplicate_point_names_both_lines") {
  check_mentions(parse_error(header + "1,512,0.9,40\n8,512,0.3,200\n\n1.0,512,0.8,41\n"),
                 {"p.csv:5", "duplicate grid point batch_size = 1, seq_len_tok = 512", "first on line 2"});
}

TEST_CASE("energy_profile.parse.hole_names_the_missing_pair") {
  check_mentions(parse_error(header + "1,512,0.9,40\n1,2048,1.1,36\n8,512,0.35,290\n"),
                 {"p.csv", "hole in the grid", "batch_size = 8, seq_len_tok = 2048"});
  // Seq lengths that only some batch sizes have are holes for the others.
  check_mentions(parse_error(header + "1,512,0.9,40\n8,1024,0.35,290\n"),
                 {"p.csv", "hole", "batch_size = 1, seq_len_tok = 1024"});
}

TEST_CASE("energy_profile.parse.empty_table_and_missing_column") {
  check_mentions(parse_error("# nothing\n" + header), {"p.csv:2", "no data rows"});
  check_mentions(parse_error(header + "\n# all\n\n"), {"p.csv:1", "no data rows"});
  check_mentions(parse_error(""), {"p.csv", "no header"});
  check_mentions(parse_error("batch_size,seq_len_tok,energy_j_per_tok\n1,512,0.9\n"),
                 {"p.csv:1", "missing column 'rate_tok_s'"});
}

// ---- input hardening ----

TEST_CASE("energy_profile.parse.bounds_name_line_and_field") {
  check_mentions(parse_error(header + "65537,512,0.9,40\n"),
                 {"p.csv:2: field batch_size = '65537': must be <= 65536 (bounds::max_batch)"});
  check_mentions(parse_error(header + "1,1e9,0.9,40\n"),
                 {"p.csv:2: field seq_len_tok = '1e9': must be <= 10262144 (bounds::max_input_tok + max_output_tok)"});
  check_mentions(parse_error(header + "1,512,1e300,40\n"),
                 {"p.csv:2: field energy_j_per_tok = '1e300': must be <= 1200000 J"});
  check_mentions(parse_error(header + "1,512,0.9,1e-300\n"),
                 {"p.csv:2: field rate_tok_s = '1e-300': must be >= 0.016666666666666666 token/s"});
  CHECK(parse(header + "65536,10262144,1200000,0.016666666666666666\n").max_batch() == 65536);  // at the bounds
  CHECK(parse(header + "+1,+512,+0.9,+40\n").eval(1, 512).rate_tok_s == 40);                    // the one grammar
}

TEST_CASE("energy_profile.parse.a_sparse_grid_fails_without_allocating_it") {
  // 60,000 rows on a diagonal: the axes span 3.6e9 cells; the hole is reported without reserving them.
  std::string text = header;
  for (int i = 1; i <= 60'000; ++i) text += std::to_string(i) + "," + std::to_string(i) + ",1,1\n";
  check_mentions(parse_error(text), {"p.csv: hole in the grid: no row for batch_size = 1, seq_len_tok = 2"});
}

TEST_CASE("energy_profile.load.directory_bom_and_long_line") {
  const auto dir = std::filesystem::path(JOULESCHED_TEST_DATA_DIR) / "profiles";
  check_mentions(error_of([&] { (void)load_energy_profile(dir); }),
                 {"'" + std::filesystem::absolute(dir).string(), "is a directory"});
  CHECK(parse("\xEF\xBB\xBF" + header + "1,512,0.9,40\r\n").eval(1, 512).energy_j_per_tok == 0.9);
  check_mentions(parse_error(header + std::string(2'000'000, '1') + "\n"), {"p.csv:2: line longer than 1048576 bytes"});
}
