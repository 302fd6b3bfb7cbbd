#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

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
  CHECK(t.rows[5].input_tok == 4294967295u);                                 // the largest count
  // across midnight: 2023-11-17 00:00:00.5 - 2023-11-16 18:15:46.68059
  CHECK(t.rows[5].arrival_s == doctest::Approx(5 * 3600 + 44 * 60 + 13.81941).epsilon(1e-12));
}

TEST_CASE("trace.azure.timestamp_forms") {
  // month and year boundaries, leap day, 'T' separator, Z, UTC offsets, 9 fractional digits
  const trace t = azure_text(header +
                             "2023-12-31 23:59:59.999999999,1,1\n"
                             "2024-01-01T00:00:00Z,1,1\n"
                             "2024-02-29 00:00:00,1,1\n"
                             "2024-02-29 02:00:00+02:00,1,1\n"
                             "2024-02-28 22:00:00-02:00,1,1\n");
  REQUIRE(t.rows.size() == 5);
  CHECK(t.rows[1].arrival_s == doctest::Approx(1e-9).epsilon(1e-6));
  CHECK(t.rows[2].arrival_s == doctest::Approx(59 * 86400.0).epsilon(1e-12));
  CHECK(t.rows[3].arrival_s == t.rows[2].arrival_s);  // 02:00+02:00 is 00:00Z
  CHECK(t.rows[4].arrival_s == t.rows[2].arrival_s);  // 22:00-02:00 the day before is 00:00Z
}

TEST_CASE("trace.azure.columns_by_name_and_extra_columns") {
  const trace t = azure_text("GeneratedTokens,Extra,TIMESTAMP,ContextTokens\n7,x,2023-11-16 18:00:00,11\n"
                             "8,y,2023-11-16 18:00:01.25,12\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].arrival_s == 1.25);
  CHECK(t.rows[1].input_tok == 12);
  CHECK(t.rows[1].output_tok == 8);
}

TEST_CASE("trace.azure.crlf_blank_lines_and_comments") {
  const trace t = azure_text("TIMESTAMP,ContextTokens,GeneratedTokens\r\n\r\n# a note\r\n2023-11-16 18:00:00,1,2\r\n"
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
      {R"({"timestamp": -5, "input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = '-5': must be >= 0"},
      {R"({"timestamp": 5, "input_length": -1, "output_length": 1})", "t.jsonl:2: field input_length = '-1': must be >= 0"},
      {R"({"timestamp": 5, "input_length": 1.5, "output_length": 1})", "t.jsonl:2: field input_length = '1.5'"},
      {R"({"timestamp": 5, "input_length": "7", "output_length": 1})", "t.jsonl:2: field input_length = '\"7\"'"},
      {R"({"timestamp": 1e3, "input_length": 1, "output_length": 1})", "t.jsonl:2: field timestamp = '1e3'"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1, "timestamp": 6})", "t.jsonl:2: field timestamp = '6': key given twice"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1} x)", "t.jsonl:2: unexpected text"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1)", "t.jsonl:2: expected ',' or '}'"},
      {R"([1, 2])", "t.jsonl:2: expected a JSON object"},
      {R"({"timestamp": 5, "input_length": 1, "output_length": 1, "hash_ids": [1, 2})", "t.jsonl:2: malformed value"},
      {R"({timestamp: 5})", "t.jsonl:2: expected a quoted key"},
  };
  for (const bad_case& c : cases) {
    CAPTURE(c.line);
    const std::string text = R"({"timestamp": 0, "input_length": 1, "output_length": 2})" "\n" + c.line + "\n";
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
