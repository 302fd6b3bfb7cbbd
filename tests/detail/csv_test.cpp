#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "joulesched/detail/csv.hpp"
#include "joulesched/sim/input_bounds.hpp"
#include "support/errors.hpp"

using joulesched::config_error;
using joulesched::detail::csv_reader;
using joulesched::detail::open_csv;

using namespace joulesched::test;

namespace {

// Reads every row of a table, each as its fields' text.
std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::istringstream in(text);
  csv_reader csv(in, "t.csv");
  std::vector<std::vector<std::string>> rows;
  while (csv.next()) {
    std::vector<std::string> fields;
    for (std::size_t i = 0; i < csv.row().size(); ++i) fields.emplace_back(csv.row().text(i));
    rows.push_back(std::move(fields));
  }
  return rows;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("csv.header.columns_by_name") {
  std::istringstream in("a,b , c\n1,2,3\n");
  csv_reader csv(in, "t.csv");
  CHECK(csv.columns().size() == 3);
  CHECK(csv.require_column("a") == 0);
  CHECK(csv.require_column("b") == 1);  // spaces around a name are dropped
  CHECK(csv.require_column("c") == 2);
  CHECK(csv.find_column("c") == 2);
  CHECK_FALSE(csv.find_column("d").has_value());
  CHECK_FALSE(csv.find_column("A").has_value());  // names are case-sensitive
  CHECK(csv.header_line() == 1);
}

TEST_CASE("csv.header.missing_column_names_file_and_column") {
  std::istringstream in("# comment\nbatch_size,seq_len_tok\n1,2\n");
  csv_reader csv(in, "profiles/a100.csv");
  check_mentions(error_of([&] { (void)csv.require_column("rate_tok_s"); }),
                 {"profiles/a100.csv:2", "missing column 'rate_tok_s'", "batch_size, seq_len_tok"});
}

TEST_CASE("csv.header.absent") {
  for (const std::string text : {"", "\n\n", "# only\n  # comments\n\n"}) {
    CAPTURE(text);
    std::istringstream in(text);
    check_mentions(error_of([&] { csv_reader csv(in, "empty.csv"); }), {"empty.csv", "no header"});
  }
}

TEST_CASE("csv.header.duplicate_or_empty_name") {
  std::istringstream dup("a,b,a\n");
  check_mentions(error_of([&] { csv_reader csv(dup, "d.csv"); }), {"d.csv:1", "'a' appears twice", "1 and 3"});
  std::istringstream empty("# c\na,,b\n");
  check_mentions(error_of([&] { csv_reader csv(empty, "e.csv"); }), {"e.csv:2", "column 2", "empty name"});
}

TEST_CASE("csv.lines.skip_blank_and_comments_and_count_lines") {
  std::istringstream in("# c1\n\nx,y\n  \n1,2\n# c2\n\t# c3\n3,4\n");
  csv_reader csv(in, "t.csv");
  CHECK(csv.header_line() == 3);
  REQUIRE(csv.next());
  CHECK(csv.row().line() == 5);
  CHECK(csv.row().text(0) == "1");
  REQUIRE(csv.next());
  CHECK(csv.row().line() == 8);
  CHECK(csv.row().text(1) == "4");
  CHECK_FALSE(csv.next());
  CHECK_FALSE(csv.next());  // stays at the end
  REQUIRE(csv.comments().size() == 3);
  CHECK(csv.comments()[0].line == 1);
  CHECK(csv.comments()[0].text == "c1");
  CHECK(csv.comments()[2].line == 7);
  CHECK(csv.comments()[2].text == "c3");
}

TEST_CASE("csv.lines.crlf_and_bom") {
  CHECK(rows_of("\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n3,\"4\"\r\n") == std::vector<strings>{{"1", "2"}, {"3", "4"}});
  std::istringstream in("\xEF\xBB\xBFx,y\r\n1.5,2\r\n");
  csv_reader csv(in, "t.csv");
  CHECK(csv.require_column("x") == 0);
  REQUIRE(csv.next());
  CHECK(csv.row().as_double(1) == 2.0);  // no '\r' left on the last field
}

TEST_CASE("csv.lines.cr_only_line_ends_are_named") {
  // A file saved with classic Mac line ends is one line to the reader: say so, not "column appears twice".
  std::istringstream in("TIMESTAMP,ContextTokens\r2023-11-16 18:00:00,300\r2023-11-16 18:00:01,300\r");
  CHECK(has(error_of([&] { csv_reader csv(in, "mac.csv"); }), "mac.csv:1: a carriage return inside the line"));
}

TEST_CASE("csv.lines.no_final_newline") { CHECK(rows_of("x,y\n1,2") == std::vector<strings>{{"1", "2"}}); }

TEST_CASE("csv.fields.quoting") {
  const auto rows = rows_of(
      "a,b,c\n"
      "\"x,y\",\"say \"\"hi\"\"\",\"\"\n"
      "\" padded \" , plain , \"#not a comment\"\n"
      "\"#\",\"\"\"\",\"a\"\"\"\"b\"\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == strings{"x,y", "say \"hi\"", ""});
  CHECK(rows[1] == strings{" padded ", "plain", "#not a comment"});
  CHECK(rows[2] == strings{"#", "\"", "a\"\"b"});
}

TEST_CASE("csv.fields.empty_fields_and_trailing_comma") {
  CHECK(rows_of("a,b,c\n,,\n1,,\n") == std::vector<strings>{{"", "", ""}, {"1", "", ""}});
  std::istringstream in("a,b\n1,\n");
  csv_reader csv(in, "t.csv");
  REQUIRE(csv.next());
  CHECK(csv.row().empty(1));
  CHECK_FALSE(csv.row().empty(0));
  check_mentions(error_of([&] { (void)csv.row().as_nonempty_string(1); }), {"t.csv:2", "field b = ''", "empty"});
}

TEST_CASE("csv.fields.bad_quoting") {
  {
    std::istringstream in("a,b\n1,\"open\n");
    csv_reader csv(in, "q.csv");
    check_mentions(error_of([&] { (void)csv.next(); }), {"q.csv:2", "field 2", "no closing quote"});
  }
  {
    std::istringstream in("a,b\n\"x\"y,1\n");
    csv_reader csv(in, "q.csv");
    check_mentions(error_of([&] { (void)csv.next(); }), {"q.csv:2", "field 1", "after the closing quote"});
  }
}

TEST_CASE("csv.row.wrong_field_count") {
  std::istringstream in("# c\na,b,c\n1,2,3\n\n1,2\n");
  csv_reader csv(in, "w.csv");
  REQUIRE(csv.next());
  check_mentions(error_of([&] { (void)csv.next(); }), {"w.csv:5", "2 fields", "expected 3", "line 2"});

  std::istringstream more("a\n1,2\n");
  csv_reader csv2(more, "m.csv");
  check_mentions(error_of([&] { (void)csv2.next(); }), {"m.csv:2", "2 fields", "expected 1"});

  // A comma inside quotes is not a separator.
  std::istringstream quoted("a,b\n\"1,5\",2\n");
  csv_reader csv3(quoted, "q.csv");
  REQUIRE(csv3.next());
  CHECK(csv3.row().text(0) == "1,5");
}

namespace {
// One-column table "v" holding `field` on line 2; returns the reader positioned on that row.
struct one_field {
  std::istringstream in;
  csv_reader csv;
  explicit one_field(const std::string& field) : in("v\n" + field + "\n"), csv(in, "n.csv") { REQUIRE(csv.next()); }
  const joulesched::detail::csv_row& row() const { return csv.row(); }
};
}  // namespace

TEST_CASE("csv.number.double") {
  CHECK(one_field("1.5").row().as_double(0) == 1.5);
  CHECK(one_field(" -2e3 ").row().as_double(0) == -2000.0);
  CHECK(one_field("+0.25").row().as_double(0) == 0.25);
  CHECK(one_field("\"7\"").row().as_double(0) == 7.0);
  CHECK(one_field("1.").row().as_double(0) == 1.0);
  CHECK(one_field("-.5").row().as_double(0) == -0.5);
  CHECK(one_field("1e-999").row().as_double(0) == 0.0);  // too small to represent: 0, not an error
  // One grammar (detail/number.hpp): no inf, nan, hex, blanks inside or thousands separators.
  for (const std::string bad : {"abc", "\"\"", "1.5x", "\"1,5\"", "--1", "+-1", "+", "0x10", "1 2", "inf", "-inf",
                                "nan", "infinity", "\" 1\"", "1e", ".", "0x1p3"}) {
    CAPTURE(bad);
    one_field f(bad);
    check_mentions(error_of([&] { (void)f.row().as_double(0); }), {"n.csv:2", "field v = '", "not a number"});
  }
  check_mentions(error_of([] { (void)one_field("abc").row().as_double(0); }),
                 {"n.csv:2: field v = 'abc': not a number"});
  check_mentions(error_of([] { (void)one_field("1e999").row().as_double(0); }), {"n.csv:2", "'1e999'", "out of range"});
}

TEST_CASE("csv.number.range_helpers") {
  CHECK(one_field("-3").row().as_finite(0) == -3.0);
  for (const std::string bad : {"inf", "-inf", "nan", "1e999"}) {
    CAPTURE(bad);
    one_field f(bad);
    check_mentions(error_of([&] { (void)f.row().as_finite(0); }), {"n.csv:2", "'" + bad + "'"});
  }
  CHECK(one_field("0").row().as_non_negative(0) == 0.0);
  check_mentions(error_of([] { (void)one_field("-0.5").row().as_non_negative(0); }),
                 {"n.csv:2", "field v = '-0.5'", ">= 0"});
  check_mentions(error_of([] { (void)one_field("nan").row().as_non_negative(0); }), {"'nan'", "not a number"});
  CHECK(one_field("3").row().as_positive(0) == 3.0);
  check_mentions(error_of([] { (void)one_field("0").row().as_positive(0); }), {"n.csv:2", "field v = '0'", "> 0"});
  check_mentions(error_of([] { (void)one_field("inf").row().as_positive(0); }), {"'inf'", "not a number"});
}

TEST_CASE("csv.number.unsigned") {
  CHECK(one_field("42").row().as_unsigned(0) == 42u);
  CHECK(one_field("+7").row().as_unsigned<std::uint32_t>(0) == 7u);
  CHECK(one_field("18446744073709551615").row().as_unsigned(0) == UINT64_MAX);
  CHECK(one_field("255").row().as_unsigned<std::uint8_t>(0) == 255);
  for (const std::string bad : {"-1", "1.5", "\"\"", "x", "1e3", "- 1", "+", "++1", "0x10", "\"1,000\""}) {
    CAPTURE(bad);
    one_field f(bad);
    check_mentions(error_of([&] { (void)f.row().as_unsigned(0); }),
                   {"n.csv:2", "field v = '", "not an unsigned integer"});
  }
  check_mentions(error_of([] { (void)one_field("256").row().as_unsigned<std::uint8_t>(0); }),
                 {"n.csv:2", "'256'", "must be in [0, 255]"});
  check_mentions(error_of([] { (void)one_field("18446744073709551616").row().as_unsigned(0); }),
                 {"n.csv:2", "must be in [0, 18446744073709551615]"});
  check_mentions(error_of([] { (void)one_field("0").row().as_unsigned<std::uint32_t>(0, 1, 64); }),
                 {"field v = '0'", "must be in [1, 64]"});
}

TEST_CASE("csv.row.fail_names_field_and_text") {
  std::istringstream in("a,gpu\n1,\"H100 SXM\"\n");
  csv_reader csv(in, "fleet.csv");
  REQUIRE(csv.next());
  CHECK(csv.row().as_string(1) == "H100 SXM");
  CHECK(csv.row().where() == "fleet.csv:2");
  CHECK(error_of([&] { csv.row().fail(1, "unknown device type"); }) ==
        "fleet.csv:2: field gpu = 'H100 SXM': unknown device type");
  CHECK(error_of([&] { csv.row().fail_row("something else"); }) == "fleet.csv:2: something else");
}

TEST_CASE("csv.comments.key_value") {
  std::istringstream in("# name:  A100/Llama \n# note: x: y\na\n# late: 1\n1\n");
  csv_reader csv(in, "c.csv");
  const auto name = csv.comment_value("name");
  REQUIRE(name.has_value());
  CHECK(name->text == "A100/Llama");
  CHECK(name->line == 1);
  CHECK(csv.comment_value("note")->text == "x: y");    // only the first ':' separates
  CHECK_FALSE(csv.comment_value("late").has_value());  // not read yet
  REQUIRE(csv.next());
  CHECK(csv.comment_value("late")->text == "1");
  CHECK_FALSE(csv.comment_value("nam").has_value());

  std::istringstream twice("# name: a\nx\n1\n# name: b\n");
  csv_reader csv2(twice, "c.csv");
  while (csv2.next()) {}
  check_mentions(error_of([&] { (void)csv2.comment_value("name"); }), {"c.csv:4", "'name' given twice", "line 1"});
}

TEST_CASE("csv.open.missing_file_names_path") {
  const std::string path = std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles/no_such_file.csv";
  check_mentions(error_of([&] { (void)open_csv(path); }), {path, "cannot open", "no such file"});
  const std::string dir = std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles";
  check_mentions(error_of([&] { (void)open_csv(dir); }), {dir, "is a directory"});
}

TEST_CASE("csv.open.names_the_absolute_path_and_the_os_reason") {
  const std::filesystem::path rel = "no_such_dir_js/x.csv";
  check_mentions(
      error_of([&] { (void)joulesched::detail::open_input(rel); }),
      {"cannot open '" + (std::filesystem::current_path() / rel).string() + "'", "no such file or directory"});
  check_mentions(error_of([&] { (void)joulesched::detail::open_input("."); }),
                 {"'" + std::filesystem::current_path().string(), "is a directory"});
}

TEST_CASE("csv.open.a_fifo_is_read_like_a_file") {
  const std::filesystem::path fifo =
      std::filesystem::temp_directory_path() / ("js_csv_fifo_" + std::to_string(::getpid()));
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { std::ofstream(fifo) << "a,b\n1,2\n"; });
  std::size_t rows = 0;
  {
    auto in = joulesched::detail::open_input(fifo);
    csv_reader csv(in, fifo.string());
    while (csv.next()) ++rows;
  }
  writer.join();
  std::filesystem::remove(fifo);
  CHECK(rows == 1);
}

TEST_CASE("csv.line.longer_than_the_bound_is_an_error_naming_file_line") {
  using joulesched::sim::bounds::max_line_bytes;
  const std::string ok(max_line_bytes, '7');
  CHECK(rows_of("a\n" + ok + "\n").at(0).at(0) == ok);  // at the bound
  const std::string msg = error_of([&] { (void)rows_of("a\n1\n" + std::string(max_line_bytes + 1, '7') + "\n"); });
  check_mentions(msg, {"t.csv:3: line longer than " + std::to_string(max_line_bytes) + " bytes"});
  CHECK(msg.size() < 200);
  // The same without any end of line, as /dev/zero gives: stops after the bound, not at the end of the input.
  auto zero = joulesched::detail::open_input("/dev/zero");
  check_mentions(error_of([&] { csv_reader csv(zero, "/dev/zero"); }), {"/dev/zero:1: line longer than"});
}

TEST_CASE("csv.messages.echo_is_bounded_and_escaped") {
  using joulesched::sim::bounds::max_echo_chars;
  const std::string big(500'000, 'x');
  const std::string msg = error_of([&] { (void)one_field(big).row().as_double(0); });
  check_mentions(msg, {"n.csv:2: field v = 'xxx", "... (500000 bytes)': not a number"});
  CHECK(msg.size() < max_echo_chars + 80);
  // A binary header: the names in the message are escaped, no raw control or high bytes.
  std::istringstream bin(std::string("\x01\xff\x7f,\x1b[2J\n1,2\n", 11));
  csv_reader csv(bin, "b.csv");
  const std::string missing = error_of([&] { (void)csv.require_column("TIMESTAMP"); });
  check_mentions(missing, {"missing column 'TIMESTAMP'", "\\x01\\xff\\x7f, \\x1b[2J"});
  for (const char c : missing) CHECK((c >= 0x20 && c <= 0x7e));
}

TEST_CASE("csv.header.repeated_column_found_in_a_huge_header") {
  // O(n log n): a header of 100,000 columns (under the line bound) with one repeat is refused at once.
  std::string header;
  for (int i = 0; i < 100'000; ++i) header += (i ? ",c" : "c") + std::to_string(i);
  header += ",c7\n";
  std::istringstream in(header);
  check_mentions(error_of([&] { csv_reader csv(in, "h.csv"); }),
                 {"h.csv:1: column 'c7' appears twice in the header (columns 8 and 100001)"});
}

TEST_CASE("csv.bom_then_comment_then_header") {
  CHECK(rows_of("\xEF\xBB\xBF# c\na\n1\n") == std::vector<strings>{{"1"}});
}

TEST_CASE("csv.open.reads_a_file") {
  auto in = open_csv(std::string(JOULESCHED_TEST_DATA_DIR) + "/profiles/test_bad_rate.csv");
  csv_reader csv(in, "test_bad_rate.csv");
  CHECK(csv.header_line() == 2);
  std::size_t rows = 0;
  while (csv.next()) ++rows;
  CHECK(rows == 4);
}

TEST_CASE("csv.line_reader.bound_exact_edges") {
  using joulesched::detail::line_reader;
  const auto lines_of = [](const std::string& text) {
    std::istringstream in(text);
    line_reader lines(in, "l.txt", 4);
    std::vector<std::string> out;
    while (lines.next()) out.emplace_back(lines.line());
    return out;
  };
  CHECK(lines_of("1234\n\n12\r\n1234") == strings{"1234", "", "12", "1234"});
  CHECK(lines_of("1234\r\n") == strings{"1234"});  // the bound counts neither the end of line
  CHECK(lines_of("\xEF\xBB\xBF"
                 "1234\r\n") == strings{"1234"});  // nor a byte-order mark
  for (const std::string too_long : {"12345\n", "12345", "12345\r\n", "1\n123456789\n",
                                     "1\n\xEF\xBB\xBF"
                                     "123\n"}) {
    CAPTURE(too_long);
    check_mentions(error_of([&] { (void)lines_of(too_long); }), {"l.txt:", "line longer than 4 bytes"});
  }
  std::istringstream bad;
  bad.setstate(std::ios::failbit);  // a stream that failed before the reader saw it reads as empty
  line_reader lines(bad, "bad");
  CHECK_FALSE(lines.next());
  // hold() hands the same line out once more
  std::istringstream two("a\nb\n");
  line_reader held(two, "h");
  REQUIRE(held.next());
  held.hold();
  REQUIRE(held.next());
  CHECK(held.line() == "a");
  CHECK(held.number() == 1);
  REQUIRE(held.next());
  CHECK(held.line() == "b");
}
