#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "joulesched/sim/input_bounds.hpp"

#include "joulesched/sim/trace.hpp"
#include "support/errors.hpp"

using namespace joulesched;
using namespace joulesched::sim;
using namespace joulesched::test;

namespace {

const std::filesystem::path traces_dir = std::filesystem::path(JOULESCHED_TEST_DATA_DIR) / "traces";

trace azure_text(const std::string& text, trace_options opts = {}) {
  std::istringstream in(text);
  return read_azure_trace(in, "t.csv", opts);
}

trace mooncake_text(const std::string& text, trace_options opts = {}) {
  std::istringstream in(text);
  return read_mooncake_trace(in, "t.jsonl", opts);
}

const trace_options lenient{.lenient = true};

const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";

}  // namespace

TEST_CASE("trace.azure.parses_file") {
  const trace t = read_azure_trace(traces_dir / "azure_small.csv");
  CHECK(has(t.source, "azure_small.csv"));
  REQUIRE(t.rows.size() == 6);
  CHECK(t.skipped == 0);
  CHECK(t.reordered == 0);
  CHECK(t.rows[0].arrival_s == 0.0);
  CHECK(t.rows[0].input_tok == 374);
  CHECK(t.rows[0].output_tok == 44);
  CHECK(t.rows[1].arrival_s == doctest::Approx(4.314579).epsilon(1e-12));
  CHECK(t.rows[1].input_tok == 396);
  CHECK(t.rows[1].output_tok == 109);
  CHECK(t.rows[3].arrival_s == doctest::Approx(4.710427).epsilon(1e-12));
  CHECK(t.rows[4].arrival_s == doctest::Approx(13.31941).epsilon(1e-12));  // no fraction
  CHECK(t.rows[4].input_tok == 0);
  CHECK(t.rows[5].input_tok == 10'000'000u);  // the largest count (bounds)
  // across midnight: 2023-11-17 00:00:00.5 - 2023-11-16 18:15:46.68059
  CHECK(t.rows[5].arrival_s == doctest::Approx(5 * 3600 + 44 * 60 + 13.81941).epsilon(1e-12));
}

TEST_CASE("trace.azure.timestamp_forms") {
  // month and year boundaries, leap day, 'T' separator, Z, UTC offsets, 9 fractional digits (two traces:
  // a gap above a day splits one)
  const trace t = azure_text(header +
                             "2023-12-31 23:59:59.999999999,1,1\n"
                             "2024-01-01T00:00:00Z,1,1\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_s == doctest::Approx(1e-9).epsilon(1e-6));
  const trace u = azure_text(header +
                             "2024-02-28 00:00:00,1,1\n"
                             "2024-02-29 00:00:00,1,1\n"
                             "2024-02-29 02:00:00+02:00,1,1\n"
                             "2024-02-28 22:00:00-02:00,1,1\n");
  REQUIRE(u.rows.size() == 4);
  CHECK(u.rows[1].arrival_s == 86400.0);
  CHECK(u.rows[2].arrival_s == u.rows[1].arrival_s);  // 02:00+02:00 is 00:00Z
  CHECK(u.rows[3].arrival_s == u.rows[1].arrival_s);  // 22:00-02:00 the day before is 00:00Z
}

TEST_CASE("trace.azure.columns_by_name_and_extra_columns") {
  const trace t = azure_text(
      "GeneratedTokens,Extra,TIMESTAMP,ContextTokens\n7,x,2023-11-16 18:00:00,11\n"
      "8,y,2023-11-16 18:00:01.25,12\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_s == 1.25);
  CHECK(t.rows[1].input_tok == 12);
  CHECK(t.rows[1].output_tok == 8);
}

TEST_CASE("trace.azure.crlf_blank_lines_and_comments") {
  const trace t = azure_text(
      "TIMESTAMP,ContextTokens,GeneratedTokens\r\n\r\n# a note\r\n2023-11-16 18:00:00,1,2\r\n"
      "\r\n2023-11-16 18:00:02,3,4\r\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.skipped == 0);
  CHECK(t.rows[1].arrival_s == 2.0);
}

TEST_CASE("trace.azure.out_of_order_rows_are_sorted_and_counted") {
  const trace t = azure_text(header +
                             "2023-11-16 18:00:05,5,5\n"
                             "2023-11-16 18:00:01,1,1\n"
                             "2023-11-16 18:00:03,3,3\n"
                             "2023-11-16 18:00:03,33,33\n"
                             "2023-11-16 18:00:02,2,2\n");
  CHECK(t.reordered == 2);
  REQUIRE(t.warnings.size() == 1);  // the count reaches the user
  CHECK(has(t.warnings[0], "t.csv: 2 rows have a timestamp below that of the row before them"));
  REQUIRE(t.rows.size() == 5);
  CHECK(t.rows[0].input_tok == 1);
  CHECK(t.rows[0].arrival_s == 0.0);  // relative to the earliest, not the first line
  CHECK(t.rows[1].input_tok == 2);
  CHECK(t.rows[2].input_tok == 3);  // stable among equal timestamps
  CHECK(t.rows[3].input_tok == 33);
  CHECK(t.rows[4].input_tok == 5);
  CHECK(t.rows[4].arrival_s == 4.0);
}

TEST_CASE("trace.azure.each_malformed_line_names_file_line_field") {
  struct bad_case {
    std::string line;
    std::string_view expect;
  };
  const bad_case cases[] = {
      {"2023-11-16 18:00:01,5,-3", "t.csv:3: field GeneratedTokens = '-3': must be >= 0"},
      {"2023-11-16 18:00:01,-1,3", "t.csv:3: field ContextTokens = '-1': must be >= 0"},
      {"2023-11-16 18:00:01,12x,3", "t.csv:3: field ContextTokens = '12x'"},
      {"2023-11-16 18:00:01,1.5,3", "t.csv:3: field ContextTokens = '1.5'"},
      {"2023-11-16 18:00:01,,3", "t.csv:3: field ContextTokens = ''"},
      {"2023-11-16 18:00:01,5,4294967296", "t.csv:3: field GeneratedTokens = '4294967296'"},
      {"2023-11-16 18:00:01,5", "t.csv:3: 2 fields, expected 3"},
      {"2023-11-16 18:00:01,5,3,9", "t.csv:3: 4 fields, expected 3"},
      {"2023-11-16 25:00:01,5,3", "t.csv:3: field TIMESTAMP = '2023-11-16 25:00:01'"},
      {"2023-02-29 10:00:01,5,3", "t.csv:3: field TIMESTAMP = '2023-02-29 10:00:01'"},  // not a leap year
      {"2023-11-16 18:00:01.,5,3", "t.csv:3: field TIMESTAMP"},
      {"2023-11-16 18:00:01.1234567891,5,3", "t.csv:3: field TIMESTAMP"},  // 10 fractional digits
      {"2023-11-16 18:00,5,3", "t.csv:3: field TIMESTAMP"},
      {"16/11/2023 18:00:01,5,3", "t.csv:3: field TIMESTAMP"},
      {"2023-11-16 18:00:01+5,5,3", "t.csv:3: field TIMESTAMP"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.line);
    const std::string text = header + "2023-11-16 18:00:00,1,1\n" + c.line + "\n";
    const std::string msg = error_of([&] { (void)azure_text(text); });
    CHECK(has(msg, c.expect));
    // lenient: skipped and counted, the good row kept
    const trace t = azure_text(text, lenient);
    CHECK(t.rows.size() == 1);
    CHECK(t.skipped == 1);
    REQUIRE(t.skipped_examples.size() == 1);
    CHECK(has(t.skipped_examples[0], c.expect));
  }
}

TEST_CASE("trace.azure.malformed_file_strict_and_lenient") {
  const auto path = traces_dir / "azure_malformed.csv";
  const std::string msg = error_of([&] { (void)read_azure_trace(path); });
  CHECK(has(msg, "azure_malformed.csv:3: field GeneratedTokens = '-3': must be >= 0"));

  const trace t = read_azure_trace(path, lenient);
  CHECK(t.skipped == 4);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].input_tok == 374);
  CHECK(t.rows[1].input_tok == 10);
  CHECK(t.rows[1].arrival_s == doctest::Approx(6.31941).epsilon(1e-12));
  REQUIRE(t.skipped_examples.size() == 4);
  CHECK(has(t.skipped_examples[0], ":3: field GeneratedTokens"));
  CHECK(has(t.skipped_examples[1], ":4: 2 fields"));
  CHECK(has(t.skipped_examples[2], ":5: field TIMESTAMP"));
  CHECK(has(t.skipped_examples[3], ":6: field ContextTokens = '12x'"));
}

TEST_CASE("trace.lenient.count_exact_examples_capped") {
  std::string text = header + "2023-11-16 18:00:00,1,1\n";
  for (int i = 0; i < 12; ++i) text += "2023-11-16 18:00:01,1,x\n";
  text += "2023-11-16 18:00:02,2,2\n";
  const trace t = azure_text(text, lenient);
  CHECK(t.rows.size() == 2);
  CHECK(t.skipped == 12);  // the count stays right when examples are capped
  CHECK(t.skipped_examples.size() == trace_max_skipped_examples);
  CHECK(has(t.skipped_examples.back(), "t.csv:7:"));
}

TEST_CASE("trace.azure.whole_file_problems_always_throw") {
  CHECK(has(error_of([] { (void)azure_text("TIMESTAMP,ContextTokens\n2023-11-16 18:00:00,1\n", lenient); }),
            "t.csv:1: missing column 'GeneratedTokens'"));
  CHECK(has(error_of([] { (void)azure_text("", lenient); }), "t.csv"));
  CHECK(has(error_of([] { (void)azure_text(header); }), "at least one valid row"));
  CHECK(has(error_of([] { (void)azure_text(header + "x,1,1\n", lenient); }), "1 malformed lines skipped"));
  CHECK(has(error_of([] { (void)read_azure_trace(traces_dir / "no_such_file.csv"); }), "no_such_file.csv"));
}

TEST_CASE("trace.mooncake.parses_file") {
  const trace t = read_mooncake_trace(traces_dir / "mooncake_small.jsonl");
  CHECK(has(t.source, "mooncake_small.jsonl"));
  REQUIRE(t.rows.size() == 4);
  CHECK(t.skipped == 0);
  CHECK(t.rows[0].arrival_s == 0.0);
  CHECK(t.rows[0].input_tok == 6955);
  CHECK(t.rows[0].output_tok == 52);
  CHECK(t.rows[1].arrival_s == doctest::Approx(3.053).epsilon(1e-12));
  CHECK(t.rows[1].input_tok == 6472);
  CHECK(t.rows[2].arrival_s == doctest::Approx(7.5285).epsilon(1e-12));  // fractional ms
  CHECK(t.rows[2].output_tok == 0);
  CHECK(t.rows[3].arrival_s == doctest::Approx(12.518).epsilon(1e-12));  // keys in another order
  CHECK(t.rows[3].input_tok == 10);
  CHECK(t.rows[3].output_tok == 20);
}

TEST_CASE("trace.mooncake.each_malformed_line_names_file_line_field") {
  struct bad_case {
    std::string line;
    std::string_view expect;
  };
  const bad_case cases[] = {
      {R"({"timestamp": 5, "input_length": 1})", "t.jsonl:2: field output_length = '': missing"},
      {R"({"input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = '': missing"},
      {R"({"timestamp": -5, "input_length": 1, "output_length": 1})",
       "t.jsonl:2: field timestamp = '-5': must be >= 0"},
      {R"({"timestamp": 5, "input_length": -1, "output_length": 1})",
       "t.jsonl:2: field input_length = '-1': must be >= 0"},
      {R"({"timestamp": 5, "input_length": 1.5, "output_length": 1})", "t.jsonl:2: field input_length = '1.5'"},
      {R"({"timestamp": 5, "input_length": "7", "output_length": 1})", "t.jsonl:2: field input_length = '\"7\"'"},
      {R"({"timestamp": 1e999, "input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = '1e999'"},
      {R"({"timestamp": NaN, "input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = 'NaN'"},
      {R"({"timestamp": 0x10, "input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = '0x10'"},
      {R"({"timestamp": 5, "input_length": 1e3, "output_length": 1})", "t.jsonl:2: field input_length = '1e3'"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1, "timestamp": 6})",
       "t.jsonl:2: field timestamp = '6': key given twice"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1} x)", "t.jsonl:2: unexpected text"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1)", "t.jsonl:2: expected ',' or '}'"},
      {R"([1, 2])", "t.jsonl:2: expected a JSON object"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1, "hash_ids": [1, 2})", "t.jsonl:2: malformed value"},
      {R"({timestamp: 5})", "t.jsonl:2: expected a quoted key"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.line);
    const std::string text = R"({"timestamp": 0, "input_length": 1, "output_length": 2})"
                             "\n" +
                             c.line + "\n";
    const std::string msg = error_of([&] { (void)mooncake_text(text); });
    CHECK(has(msg, c.expect));
    const trace t = mooncake_text(text, lenient);
    CHECK(t.rows.size() == 1);
    CHECK(t.skipped == 1);
    REQUIRE(t.skipped_examples.size() == 1);
    CHECK(has(t.skipped_examples[0], c.expect));
  }
}

TEST_CASE("trace.mooncake.malformed_file_strict_and_lenient") {
  const auto path = traces_dir / "mooncake_malformed.jsonl";
  CHECK(has(error_of([&] { (void)read_mooncake_trace(path); }), "mooncake_malformed.jsonl:2: field output_length"));
  const trace t = read_mooncake_trace(path, lenient);
  CHECK(t.skipped == 3);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_s == 4.0);
  REQUIRE(t.skipped_examples.size() == 3);
  CHECK(has(t.skipped_examples[0], ":2:"));
  CHECK(has(t.skipped_examples[1], ":3:"));
  CHECK(has(t.skipped_examples[2], ":4:"));
}

TEST_CASE("trace.read_trace.chooses_the_reader") {
  CHECK(read_trace(traces_dir / "azure_small.csv").rows.size() == 6);
  CHECK(read_trace(traces_dir / "mooncake_small.jsonl").rows.size() == 4);
  std::istringstream moon("\n  {\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}\n");
  CHECK(sniff_trace_format(moon) == trace_format::mooncake_jsonl);
  const trace m = read_trace(moon, "s");
  REQUIRE(m.rows.size() == 1);
  CHECK(m.rows[0].output_tok == 3);
  std::istringstream az(header + "2023-11-16 18:00:00,1,2\n");
  const trace a = read_trace(az, "s");
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].output_tok == 2);
}

TEST_CASE("trace.azure.bundled_excerpt") {
  const auto path = std::filesystem::path(JOULESCHED_SOURCE_DIR) / "data/traces/azure_conv_2023_excerpt.csv";
  const trace t = read_azure_trace(path);
  CHECK(t.rows.size() == 10000);
  CHECK(t.skipped == 0);
  CHECK(t.reordered == 0);
  CHECK(t.rows.front().arrival_s == 0.0);
  for (std::size_t i = 1; i < t.rows.size(); ++i) REQUIRE(t.rows[i].arrival_s >= t.rows[i - 1].arrival_s);
}

// ---- input hardening: bounds, gaps, BOM, directories, long lines, echoes, format guessing ----

TEST_CASE("trace.azure.timestamp_outside_the_year_bounds_names_the_row") {
  // 9999-01-01 used to overflow int64 nanoseconds and wrap to an accepted time.
  for (const std::string ts : {"9999-01-01 00:00:00", "1999-12-31 23:59:59.999999999", "2100-01-01 00:00:00",
                               "2099-12-31 23:00:00-02:00", "1677-09-21 00:12:43", "0000-03-01 00:00:00"}) {
    CAPTURE(ts);
    const std::string text = header + "2023-11-16 18:00:00,1,1\n" + ts + ",1,1\n";
    check_mentions(error_of([&] { (void)azure_text(text); }),
                   {"t.csv:3: field TIMESTAMP = '" + ts + "'", "must be from 2000-01-01 to before 2100-01-01 UTC"});
    const trace t = azure_text(text, lenient);
    CHECK(t.rows.size() == 1);
    CHECK(t.skipped == 1);
  }
  CHECK(azure_text(header + "2000-01-01 00:00:00,1,1\n").rows.size() == 1);
  CHECK(azure_text(header + "2099-12-31 23:59:59.999999999+00:00,1,1\n").rows.size() == 1);
}

TEST_CASE("trace.azure.token_bounds_per_row") {
  using namespace joulesched::sim::bounds;
  const trace ok = azure_text(header + "2023-11-16 18:00:00," + std::to_string(max_input_tok) + "," +
                              std::to_string(max_output_tok) + "\n");
  CHECK(ok.rows.at(0).input_tok == max_input_tok);
  CHECK(ok.rows.at(0).output_tok == max_output_tok);
  struct bad_case {
    std::string line, expect;
  };
  const bad_case cases[] = {
      {"2023-11-16 18:00:01,4294967295,3", "t.csv:3: field ContextTokens = '4294967295': must be <= 10000000"},
      {"2023-11-16 18:00:01,10000001,3", "t.csv:3: field ContextTokens = '10000001': must be <= 10000000"},
      {"2023-11-16 18:00:01,5,500000", "t.csv:3: field GeneratedTokens = '500000': must be <= 262144"},
      {"2023-11-16 18:00:01,5,262145", "t.csv:3: field GeneratedTokens = '262145': must be <= 262144"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.line);
    const std::string text = header + "2023-11-16 18:00:00,1,1\n" + c.line + "\n";
    check_mentions(error_of([&] { (void)azure_text(text); }), {c.expect});
    const trace t = azure_text(text, lenient);
    CHECK(t.rows.size() == 1);
    CHECK(t.skipped == 1);
    REQUIRE(t.skipped_examples.size() == 1);
    CHECK(has(t.skipped_examples[0], c.expect));
  }
}

TEST_CASE("trace.mooncake.timestamp_and_token_bounds_per_row") {
  struct bad_case {
    std::string line, expect;
  };
  const bad_case cases[] = {
      // above 9.2e15 ms the old parser overflowed before its bound check
      {R"({"timestamp": 9300000000000000, "input_length": 1, "output_length": 1})",
       "t.jsonl:2: field timestamp = '9300000000000000': must be <= 31622400000 ms"},
      {R"({"timestamp": 31622400000.5, "input_length": 1, "output_length": 1})", "field timestamp = '31622400000.5'"},
      {R"({"timestamp": 5, "input_length": 10000001, "output_length": 1})",
       "t.jsonl:2: field input_length = '10000001': must be <= 10000000"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 500000})",
       "t.jsonl:2: field output_length = '500000': must be <= 262144"},
      {R"({"timestamp": -0, "input_length": 1, "output_length": 1})",
       "t.jsonl:2: field timestamp = '-0': must be >= 0"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.line);
    const std::string text = R"({"timestamp": 0, "input_length": 1, "output_length": 2})"
                             "\n" +
                             c.line + "\n";
    check_mentions(error_of([&] { (void)mooncake_text(text); }), {c.expect});
    const trace t = mooncake_text(text, lenient);
    CHECK(t.rows.size() == 1);
    CHECK(t.skipped == 1);
  }
  // The one number grammar: a sign, an exponent, a bare fraction are numbers; the bound itself is fine.
  const trace t = mooncake_text(R"({"timestamp": +1.5e3, "input_length": +3, "output_length": 2})"
                                "\n"
                                R"({"timestamp": .5, "input_length": 1, "output_length": 2})"
                                "\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_s == doctest::Approx(1.4995).epsilon(1e-12));
  CHECK(t.rows[1].input_tok == 3);
}

TEST_CASE("trace.gap.strict_names_the_row_beyond_the_gap") {
  // One row dated 2021 would stretch the span to two years and squeeze the real rows into a burst.
  const std::string text = header + "2021-03-01 00:00:00,9,9\n2023-11-16 18:00:00,1,1\n2023-11-16 18:00:01,2,2\n";
  check_mentions(error_of([&] { (void)azure_text(text); }),
                 {"t.csv:2: field TIMESTAMP = '2021-03-01 00:00:00.000000000'", "before the arrival on line 3",
                  "a gap above 86400 s", "main part has 2 rows"});
  // The far part after the main one: the row nearest the gap is its first.
  const std::string moon = R"({"timestamp": 0, "input_length": 1, "output_length": 1})"
                           "\n"
                           R"({"timestamp": 1000, "input_length": 1, "output_length": 1})"
                           "\n"
                           R"({"timestamp": 17280000000, "input_length": 1, "output_length": 1})"
                           "\n"
                           R"({"timestamp": 17280001000, "input_length": 1, "output_length": 1})"
                           "\n"
                           R"({"timestamp": 2000, "input_length": 1, "output_length": 1})"
                           "\n";
  check_mentions(error_of([&] { (void)mooncake_text(moon); }), {"t.jsonl:3: field timestamp = '17280000000.000'",
                                                                "after the arrival on line 5", "main part has 3 rows"});
  // A gap of exactly the bound is no gap.
  const trace day = mooncake_text(R"({"timestamp": 0, "input_length": 1, "output_length": 1})"
                                  "\n"
                                  R"({"timestamp": 86400000, "input_length": 1, "output_length": 1})"
                                  "\n");
  CHECK(day.rows.at(1).arrival_s == 86400.0);
}

TEST_CASE("trace.gap.lenient_keeps_the_largest_part_and_warns") {
  const std::string text = header +
                           "2023-11-16 18:00:00,1,1\n2021-03-01 00:00:00,9,9\n2023-11-16 18:00:01,2,2\n"
                           "2023-11-20 00:00:00,7,7\n2023-11-20 00:00:01,8,8\n2023-11-16 18:00:02,3,3\n";
  const trace t = azure_text(text, lenient);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0].input_tok == 1);
  CHECK(t.rows[2].input_tok == 3);
  CHECK(t.rows[2].arrival_s == 2.0);
  CHECK(t.skipped == 3);
  REQUIRE(t.skipped_examples.size() == 3);
  CHECK(has(t.skipped_examples[0], "t.csv:3: field TIMESTAMP = '2021-03-01 00:00:00.000000000'"));
  CHECK(has(t.skipped_examples[1], "t.csv:5:"));
  REQUIRE(t.warnings.size() == 2);  // reordered, then the parts skipped
  CHECK(has(t.warnings[1], "t.csv: skipped 3 rows in 2 parts of the trace"));
  CHECK(has(t.warnings[1], "main part of 3 rows"));
  // Equal parts: the earliest is kept, and strict names the first row of the later one.
  const std::string tie = header + "2023-11-16 18:00:00,1,1\n2023-11-20 00:00:00,2,2\n";
  CHECK(azure_text(tie, lenient).rows.at(0).input_tok == 1);
  CHECK(has(error_of([&] { (void)azure_text(tie); }), "t.csv:3: field TIMESTAMP"));
}

TEST_CASE("trace.span_above_the_bound_throws_in_both_modes") {
  // Rows 20 hours apart: no gap above a day, but 460 of them span 383 days.
  std::string text = header;
  for (int i = 0; i < 460; ++i) {
    const int day = i * 20 / 24, hour = i * 20 % 24;
    const int y = 2023 + (day >= 365), doy = day % 365;  // 2023 is not a leap year
    int m = 1, d = doy;
    constexpr int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (d >= len[m - 1]) d -= len[m++ - 1];
    char row[64];
    std::snprintf(row, sizeof row, "%04d-%02d-%02d %02d:00:00,1,1\n", y, m, d + 1, hour);
    text += row;
  }
  for (const trace_options o : {trace_options{}, lenient})
    check_mentions(error_of([&] { (void)azure_text(text, o); }),
                   {"t.csv:461: field TIMESTAMP", "ends a trace spanning", "(bounds::max_trace_span_s)"});
}

TEST_CASE("trace.files_with_outliers_strict_and_lenient") {
  check_mentions(error_of([] { (void)read_azure_trace(traces_dir / "azure_outliers.csv"); }),
                 {"azure_outliers.csv:3: field TIMESTAMP = '9999-01-01 00:00:00'"});
  const trace a = read_azure_trace(traces_dir / "azure_outliers.csv", lenient);
  REQUIRE(a.rows.size() == 3);
  CHECK(a.skipped == 5);  // four rows beyond a bound, one beyond a gap
  CHECK(a.rows[2].input_tok == 7);
  CHECK(a.rows[2].arrival_s == doctest::Approx(3.32).epsilon(1e-12));
  check_mentions(error_of([] { (void)read_mooncake_trace(traces_dir / "mooncake_outliers.jsonl"); }),
                 {"mooncake_outliers.jsonl:2: field timestamp = '9300000000000000'"});
  const trace m = read_mooncake_trace(traces_dir / "mooncake_outliers.jsonl", lenient);
  REQUIRE(m.rows.size() == 2);
  CHECK(m.skipped == 4);
  CHECK(m.rows[1].arrival_s == 1.5);
}

TEST_CASE("trace.bom_and_crlf_in_every_format") {
  const trace m = read_mooncake_trace(traces_dir / "mooncake_bom_crlf.jsonl");  // used to fail on line 1
  REQUIRE(m.rows.size() == 2);
  CHECK(m.rows[1].arrival_s == 1.0);
  CHECK(read_trace(traces_dir / "mooncake_bom_crlf.jsonl").rows.size() == 2);
  std::istringstream bom("\xEF\xBB\xBF" + header + "2023-11-16 18:00:00,1,1\n");
  CHECK(read_trace(bom, "s").rows.size() == 1);
  std::istringstream bom_moon("\xEF\xBB\xBF{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}\n");
  CHECK(sniff_trace_format(bom_moon) == trace_format::mooncake_jsonl);
}

TEST_CASE("trace.a_directory_or_unopenable_path_is_named") {
  const std::string abs = std::filesystem::absolute(traces_dir).string();
  for (const auto& read : {+[](const std::filesystem::path& p) { (void)read_trace(p); },
                           +[](const std::filesystem::path& p) { (void)read_azure_trace(p); },
                           +[](const std::filesystem::path& p) { (void)read_mooncake_trace(p); }}) {
    check_mentions(error_of([&] { read(traces_dir); }), {"'" + abs, "is a directory"});
    check_mentions(error_of([&] { read(traces_dir / "none.jsonl"); }), {abs + "/none.jsonl'", "no such file"});
  }
}

TEST_CASE("trace.an_endless_line_stops_at_the_bound") {
  // /dev/zero is one line without end: the reader stops after bounds::max_line_bytes, lenient or not.
  for (const trace_options o : {trace_options{}, lenient}) {
    check_mentions(error_of([&] { (void)read_trace("/dev/zero", o); }),
                   {"/dev/zero:1: line longer than 1048576 bytes"});
    const std::string long_line = R"({"timestamp": 1, "input_length": 2, "output_length": 3, "x": ")" +
                                  std::string(joulesched::sim::bounds::max_line_bytes, 'y') + "\"}\n";
    check_mentions(error_of([&] {
                     (void)mooncake_text(R"({"timestamp": 0, "input_length": 1, "output_length": 1})"
                                         "\n" +
                                             long_line,
                                         o);
                   }),
                   {"t.jsonl:2: line longer than"});
    check_mentions(error_of([&] { (void)azure_text(header + std::string(2'000'000, '7') + "\n", o); }),
                   {"t.csv:2: line longer than"});
  }
}

TEST_CASE("trace.messages_echo_bounded_escaped_values") {
  const std::string field(200'000, '9');
  const std::string msg =
      error_of([&] { (void)azure_text(header + "2023-11-16 18:00:00,1,1\n2023-11-16 18:00:01," + field + ",1\n"); });
  check_mentions(msg, {"t.csv:3: field ContextTokens = '999", "... (200000 bytes)'"});
  CHECK(msg.size() < 300);
  const std::string bin = error_of([] {
    (void)mooncake_text(
        std::string("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"k\x01\xfe\": }\n"));
  });
  check_mentions(bin, {"t.jsonl:1: malformed value of key \"k\\x01\\xfe\""});
  const std::string head = error_of([] { (void)azure_text(std::string("\x89PNG\r\n\x1a\n", 8)); });
  check_mentions(head, {"missing column 'TIMESTAMP'", "\\x89PNG"});
  for (const char c : head) CHECK((c >= 0x20 && c <= 0x7e));
}

TEST_CASE("trace.read_trace.content_wins_over_the_extension_with_a_warning") {
  const trace m = read_trace(traces_dir / "mooncake_named.csv");
  REQUIRE(m.rows.size() == 2);
  REQUIRE_FALSE(m.warnings.empty());
  check_mentions(m.warnings[0], {"mooncake_named.csv: the format was guessed from the content",
                                 "read as Mooncake JSON lines, not as the Azure CSV its extension '.csv' says",
                                 "(line 1) starts with '{'"});
  const trace a = read_trace(traces_dir / "azure_named.jsonl");
  REQUIRE(a.rows.size() == 2);
  REQUIRE_FALSE(a.warnings.empty());
  check_mentions(a.warnings[0], {"read as Azure CSV, not as the Mooncake JSON lines its extension '.jsonl' says",
                                 "does not start with '{'"});
  CHECK(read_trace(traces_dir / "azure_small.csv").warnings.empty());  // agreeing: no warning
  // An error of a guessed read says the format was guessed.
  const auto bad = std::filesystem::temp_directory_path() / "js_trace_guess_bad.jsonl";
  std::ofstream(bad) << "not,a,trace\n1,2,3\n";
  check_mentions(error_of([&] { (void)read_trace(bad); }),
                 {"missing column 'TIMESTAMP'", "(the format was guessed from the content: read as Azure CSV"});
  std::filesystem::remove(bad);
}
