/// @file csv.hpp
/// @brief A small CSV reader shared by every loader (energy profiles, traces, fleet and device-model files),
/// and the two pieces every reader of a text file shares: open_input (opens a file, or says why not) and
/// line_reader (bounded lines, CRLF, BOM).
///
/// Use it to read a table whose columns are named in a header line and whose bad values must be reported as
/// "file:line: field name = 'text': what is wrong". Not for general CSV: a quoted field cannot span lines, and
/// there is no writer. Design: one line buffer (line_reader's) is read per row and split in place into
/// string_views (quotes are undone inside the buffer), so a row costs no allocation once the field vector has
/// grown; numbers are parsed by detail/number.hpp straight from the buffer. Field texts in messages go through
/// echo() (error.hpp). Cost: O(line length) per row.
///
/// The format it reads:
/// - Lines end in LF or CRLF. A UTF-8 byte-order mark at the start of the input is skipped. A line may hold at
///   most sim::bounds::max_line_bytes bytes; a longer one is an error (the input may have no line end at all).
/// - Blank lines (empty or spaces and tabs only) are skipped. So are comment lines, whose first character
///   other than a space or tab is '#'; their text is kept (see comments() and comment_value()), so a file can
///   carry settings such as `# name: A100/Llama-3.1-8B`. (So in a one-column table an empty value must be
///   written `""`.)
/// - The first line that is neither blank nor a comment is the header: the column names. Names must be
///   non-empty and distinct. Every later line is a data row with exactly as many fields as the header.
/// - Fields are separated by commas. Spaces and tabs around a field are dropped. A field may be quoted
///   (RFC 4180): inside double quotes a comma is text and two double quotes stand for one; quote a
///   field to keep its surrounding spaces or to begin a line's first field with '#'. A quoted field ends on
///   the line where it starts.
/// - Line numbers in messages count every physical line from 1, blank and comment lines included.
///
/// @code
/// std::ifstream in = joulesched::detail::open_input(path);          // throws config_error naming the path
/// joulesched::detail::csv_reader csv(in, path.string());            // reads the header
/// const std::size_t rate = csv.require_column("rate_tok_s");        // throws if the header lacks it
/// const std::optional<std::size_t> site = csv.find_column("site");  // optional column
/// while (csv.next()) {
///   const joulesched::detail::csv_row& row = csv.row();
///   double rate_tok_s = row.as_positive(rate);                      // "fleet.csv:7: field rate_tok_s = '0': ..."
///   std::uint32_t s = site ? row.as_unsigned<std::uint32_t>(*site) : 0;
///   if (rate_tok_s > 1e9) row.fail(rate, "must be <= 1e9");          // a loader's own check, same format
/// }
/// @endcode
///
/// Everything here throws joulesched::config_error on bad input and never returns a default in its place.
#pragma once

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "joulesched/detail/number.hpp"
#include "joulesched/error.hpp"
#include "joulesched/sim/input_bounds.hpp"

namespace joulesched::detail {

/// @brief Opens an input file (CSV, JSON lines, anything a reader takes) for reading, in binary mode (the
/// readers handle CRLF). Pipes, FIFOs and /dev/stdin work: only a directory is refused before opening.
/// Complexity: one stat and one open call.
/// @throws config_error "cannot open '<absolute path>': <OS reason>" when the file is missing or cannot be
/// read, "cannot read '<absolute path>': is a directory" for a directory.
[[nodiscard]] inline std::ifstream open_input(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path shown = std::filesystem::absolute(path, ec);
  if (ec) shown = path;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw config_error("cannot open '" + echo_path(shown) + "': no such file or directory");
  if (status.type() == std::filesystem::file_type::directory)
    throw config_error("cannot read '" + echo_path(shown) + "': is a directory, not a file");
  if (ec) throw config_error("cannot open '" + echo_path(shown) + "': " + ec.message());
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw config_error("cannot open '" + echo_path(shown) +
                       "': " + (err != 0 ? std::generic_category().message(err) : std::string("not readable")));
  }
  return in;
}

/// @brief open_input, under the name the CSV loaders have always called.
[[nodiscard]] inline std::ifstream open_csv(const std::filesystem::path& path) { return open_input(path); }

/// @brief An error of an input as a whole (a line too long, a read error), thrown by line_reader: unlike the
/// error of one malformed line, no lenient reader may skip it and go on.
struct input_error : config_error {
  using config_error::config_error;
};

/// @brief Reads a stream line by line, each line at most `max_bytes` long, counting lines; the one line
/// reader of every loader (CSV, JSON lines).
///
/// A line ends in LF; a CR before it is dropped, and so is a UTF-8 byte-order mark at the start of line 1.
/// The line's bytes, without its end (LF or CRLF) and the mark, may number at most `max_bytes`: a longer line
/// is an error of the file (not of the line: its end may be unbounded, as on /dev/zero), so a reader never
/// holds more than max_bytes + 4 bytes of a line. Design: one buffer of max_bytes + 5 bytes, allocated once
/// and not touched beyond the longest line, filled by istream::getline (which scans the stream's buffer, no
/// per-char call).
/// Cost: O(line length) per line; no allocation after construction.
class line_reader {
 public:
  /// @param in the stream; must outlive the reader. @param source the name used in messages.
  line_reader(std::istream& in, std::string source, std::size_t max_bytes = sim::bounds::max_line_bytes)
      : in_(in), source_(std::move(source)), max_(max_bytes), buf_(new char[max_bytes + slack + 1]) {}

  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  /// @brief Advances to the next line; false at the end of the input (or, after hold(), repeats the line).
  /// @throws input_error "source:line: line longer than N bytes", or "source: read error after line L".
  [[nodiscard]] bool next() {
    if (held_) {
      held_ = false;
      return true;
    }
    if (in_.eof()) return false;
    in_.getline(buf_.get(), static_cast<std::streamsize>(max_ + slack + 1));  // stores up to max_ + slack
    const auto got = static_cast<std::size_t>(in_.gcount());
    if (in_.bad()) throw input_error(source_ + ": read error after line " + std::to_string(line_));
    if (got == 0) return false;  // nothing after the last LF (or a stream that was not good to begin with)
    const bool full = in_.fail() && !in_.eof();    // the buffer filled before a LF
    const bool ended = !in_.fail() && !in_.eof();  // the LF was read (and counted by gcount)
    ++line_;
    len_ = ended ? got - 1 : got;
    if (line_ == 1 && std::string_view(buf_.get(), len_).starts_with("\xEF\xBB\xBF")) {
      std::memmove(buf_.get(), buf_.get() + 3, len_ - 3);
      len_ -= 3;
    }
    if (len_ > 0 && buf_[len_ - 1] == '\r') --len_;
    if (full || len_ > max_)
      throw input_error(where() + ": line longer than " + std::to_string(max_) + " bytes (the longest a reader " +
                        "accepts, bounds::max_line_bytes)");
    if (std::memchr(buf_.get(), '\r', len_) != nullptr)  // else the whole file reads as one odd line
      throw input_error(where() + ": a carriage return inside the line: lines must end in LF or CRLF (CR-only " +
                        "line ends, as of classic Mac OS, are not read)");
    return true;
  }

  /// @brief Makes the next call of next() return the current line again (to look at a line first).
  void hold() noexcept { held_ = line_ > 0; }

  /// The current line, its end of line dropped. Valid until next().
  [[nodiscard]] std::string_view line() const noexcept { return {buf_.get(), len_}; }
  /// The current line's bytes, writable in place (a reader may undo quoting inside them).
  [[nodiscard]] char* data() noexcept { return buf_.get(); }
  /// The current line's number, from 1 (0 before the first).
  [[nodiscard]] std::size_t number() const noexcept { return line_; }
  /// The name used in messages.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// "source:line".
  [[nodiscard]] std::string where() const { return source_ + ':' + std::to_string(line_); }

 private:
  static constexpr std::size_t slack = 4;  // room for a BOM (3 bytes) and a CR beyond max_, and one more byte
  std::istream& in_;
  std::string source_;
  std::size_t max_;
  std::unique_ptr<char[]> buf_;
  std::size_t len_ = 0;
  std::size_t line_ = 0;
  bool held_ = false;
};

/// @brief A comment line: its line number and its text after '#', with surrounding spaces dropped.
struct csv_comment {
  std::size_t line = 0;
  std::string text;
};

/// Spaces and tabs.
[[nodiscard]] constexpr bool csv_is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// Drops spaces and tabs at both ends.
[[nodiscard]] constexpr std::string_view csv_trim(std::string_view s) noexcept {
  while (!s.empty() && csv_is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && csv_is_blank(s.back())) s.remove_suffix(1);
  return s;
}

class csv_reader;

/// @brief The current data row of a csv_reader: its fields, and typed access to them that reports bad values
/// as "source:line: field name = 'text': problem".
///
/// A row lives inside its reader and is overwritten by the reader's next(); the string_views it hands out are
/// valid until then. Column indices come from csv_reader::require_column / find_column, so they are always
/// in range (asserted in debug builds).
class csv_row {
 public:
  /// The row's line number (1-based, counting every physical line).
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

  /// Number of fields (always the header's column count).
  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }

  /// "source:line", for messages of a loader's own.
  [[nodiscard]] std::string where() const { return *source_ + ':' + std::to_string(line_); }

  /// @brief The field's text: unquoted, surrounding spaces dropped (kept inside quotes).
  /// Complexity: O(1). Throws: nothing. The view is valid until the reader's next().
  [[nodiscard]] std::string_view text(std::size_t col) const noexcept {
    assert(col < fields_.size());
    return fields_[col];
  }

  /// @brief Whether the field is empty (`a,,b` or `a,"",b`). Lets a loader treat an optional value as absent.
  [[nodiscard]] bool empty(std::size_t col) const noexcept { return text(col).empty(); }

  /// @brief The field's text, copied. Complexity: O(length).
  [[nodiscard]] std::string as_string(std::size_t col) const { return std::string(text(col)); }

  /// @brief The field's text, copied. @throws config_error if the field is empty.
  [[nodiscard]] std::string as_nonempty_string(std::size_t col) const {
    if (empty(col)) fail(col, "must not be empty");
    return as_string(col);
  }

  /// @brief The field as a double, in the grammar of parse_decimal (detail/number.hpp): `[+-]digits[.digits]
  /// [e[+-]digits]`, no blanks inside, no inf, nan or hex; a value too small to represent reads as 0.
  /// Complexity: O(length), no allocation.
  /// @throws config_error "... : not a number" if the field is empty or is not a number in full, "... : out of
  /// range for a double" if its magnitude is too large to represent (1e999).
  [[nodiscard]] double as_double(std::size_t col) const {
    const std::string_view s = text(col);
    if (const auto x = parse_decimal(s)) return *x;
    if (number_detail::check_decimal(s)) fail(col, "out of range for a double");  // 1e999
    fail(col, "not a number");
  }

  /// @brief as_double, and the value must be finite. @throws config_error "... : must be finite".
  [[nodiscard]] double as_finite(std::size_t col) const {
    const double x = as_double(col);
    if (!std::isfinite(x)) fail(col, "must be finite");
    return x;
  }

  /// @brief as_double, and the value must be finite and >= 0.
  /// @throws config_error "... : must be finite and >= 0".
  [[nodiscard]] double as_non_negative(std::size_t col) const {
    const double x = as_double(col);
    if (!(std::isfinite(x) && x >= 0.0)) fail(col, "must be finite and >= 0");
    return x;
  }

  /// @brief as_double, and the value must be finite and > 0.
  /// @throws config_error "... : must be finite and > 0".
  [[nodiscard]] double as_positive(std::size_t col) const {
    const double x = as_double(col);
    if (!(std::isfinite(x) && x > 0.0)) fail(col, "must be finite and > 0");
    return x;
  }

  /// @brief The field as an unsigned integer in [lo, hi] (decimal digits only, a leading '+' accepted).
  /// Complexity: O(length), no allocation.
  /// @throws config_error "... : not an unsigned integer" (empty, sign, fraction, other text), or "... : must be
  /// in [lo, hi]" (including values past the range of T).
  template <std::unsigned_integral T = std::uint64_t>
  [[nodiscard]] T as_unsigned(std::size_t col, T lo = 0, T hi = std::numeric_limits<T>::max()) const {
    const std::string_view s = text(col);
    const std::optional<std::uint64_t> x = parse_unsigned(s);
    if (!x) {
      const std::string_view digits = s.starts_with('+') ? s.substr(1) : s;
      const bool whole =
          !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      fail(col, whole ? range_text(lo, hi) : "not an unsigned integer");  // whole: past the range of uint64
    }
    if (*x < lo || *x > hi) fail(col, range_text(lo, hi));
    return static_cast<T>(*x);
  }

  /// @brief Throws config_error "source:line: field name = 'text': requirement" for this row's field `col`
  /// (name and text through echo(), so bounded and printable). Loaders use it for their own checks so that
  /// every message has the same form.
  [[noreturn]] void fail(std::size_t col, std::string_view requirement) const {
    assert(col < fields_.size() && col < columns_->size());
    throw config_error(describe(where(), "field " + echo((*columns_)[col]), quoted{fields_[col]}, requirement));
  }

  /// @brief Throws config_error "source:line: message" for this row as a whole.
  [[noreturn]] void fail_row(std::string_view message) const {
    throw config_error(where() + ": " + std::string(message));
  }

 private:
  friend class csv_reader;

  template <class T>
  static std::string range_text(T lo, T hi) {
    return "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  }

  const std::string* source_ = nullptr;
  const std::vector<std::string>* columns_ = nullptr;
  std::size_t line_ = 0;
  std::vector<std::string_view> fields_;  // views into the reader's line buffer
};

/// @brief Reads a CSV table with a header line from a stream, one data row at a time.
///
/// Not copyable or movable (the current row points into it). Construct it where it is used.
class csv_reader {
 public:
  /// @brief Reads up to and including the header line.
  /// @param in the stream; must outlive the reader.
  /// @param source the name used in messages, usually the file path.
  /// Complexity: O(length of the lines up to the header).
  /// @throws config_error "source: no header line" if the input holds nothing but blank and comment lines;
  /// "source:line: ..." for an empty or repeated column name or a malformed quoted field.
  csv_reader(std::istream& in, std::string source) : own_(std::in_place, in, std::move(source)), lines_(*own_) {
    read_header();
  }

  /// @brief Reads the header from lines already opened (e.g. after a caller looked at the first line and
  /// hold() it). `lines` must outlive the reader. Same effects and errors as the stream constructor.
  explicit csv_reader(line_reader& lines) : lines_(lines) { read_header(); }

  csv_reader(const csv_reader&) = delete;
  csv_reader& operator=(const csv_reader&) = delete;

  /// The name used in messages.
  [[nodiscard]] const std::string& source() const noexcept { return lines_.source(); }

  /// The header's line number.
  [[nodiscard]] std::size_t header_line() const noexcept { return header_line_; }

  /// The column names, in file order.
  [[nodiscard]] std::span<const std::string> columns() const noexcept { return columns_; }

  /// @brief The index of the column named `name` (exact, case-sensitive), or nothing. Complexity: O(columns).
  [[nodiscard]] std::optional<std::size_t> find_column(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns_.size(); ++i)
      if (columns_[i] == name) return i;
    return std::nullopt;
  }

  /// @brief The index of the column named `name`. Complexity: O(columns).
  /// @throws config_error "source:header_line: missing column 'name' (the header has: a, b, c)".
  [[nodiscard]] std::size_t require_column(std::string_view name) const {
    if (const auto i = find_column(name)) return *i;
    std::string have;
    for (const auto& c : columns_) {
      if (have.size() > sim::bounds::max_echo_chars) break;  // echo() cuts it there anyway
      have += (have.empty() ? "" : ", ") + c;
    }
    throw config_error(source() + ':' + std::to_string(header_line_) + ": missing column '" + echo(name) +
                       "' (the header has " + std::to_string(columns_.size()) + ": " + echo(have) + ")");
  }

  /// @brief Advances to the next data row; false at the end of the input.
  /// Effects: overwrites row() (and invalidates the views it handed out); appends comment lines passed on the
  /// way to comments(). Complexity: O(line length); no allocation once the buffers have grown to the longest
  /// line and widest row.
  /// @throws config_error "source:line: N fields, expected M as in the header (line H)", or for a malformed
  /// quoted field, or on a read error of the stream.
  [[nodiscard]] bool next() {
    if (!read_record()) {
      row_.fields_.clear();
      return false;
    }
    if (row_.fields_.size() != columns_.size())
      throw config_error(where() + ": " + std::to_string(row_.fields_.size()) + " fields, expected " +
                         std::to_string(columns_.size()) + " as in the header (line " + std::to_string(header_line_) +
                         ")");
    return true;
  }

  /// The current row: valid after next() returned true, until the following next().
  [[nodiscard]] const csv_row& row() const noexcept { return row_; }

  /// Every comment line read so far (before the header, and between rows up to the current one).
  [[nodiscard]] const std::vector<csv_comment>& comments() const noexcept { return comments_; }

  /// @brief The value of a `# key: value` comment read so far, as {line, value with spaces dropped}; nothing if
  /// no comment has that key. The key is matched exactly, before the first ':'. Read the whole input first
  /// if such comments may come after the header. Complexity: O(total comment length).
  /// @throws config_error "source:line: comment 'key' given twice (first on line L)".
  [[nodiscard]] std::optional<csv_comment> comment_value(std::string_view key) const {
    std::optional<csv_comment> found;
    for (const auto& c : comments_) {
      const std::string_view text = c.text;
      const auto colon = text.find(':');
      if (colon == std::string_view::npos || csv_trim(text.substr(0, colon)) != key) continue;
      if (found)
        throw config_error(source() + ':' + std::to_string(c.line) + ": comment '" + echo(key) +
                           "' given twice (first on line " + std::to_string(found->line) + ")");
      found = csv_comment{c.line, std::string(csv_trim(text.substr(colon + 1)))};
    }
    return found;
  }

 private:
  [[nodiscard]] std::string where() const { return lines_.where(); }

  // Reads the header line into columns_: names non-empty and distinct (checked in O(n log n), a header may
  // have a million columns).
  void read_header() {
    row_.source_ = &lines_.source();
    row_.columns_ = &columns_;
    if (!read_record()) {
      throw config_error(source() + ": no header line (the input is empty or holds only comments)");
    }
    header_line_ = lines_.number();
    columns_.reserve(row_.fields_.size());
    for (std::size_t i = 0; i < row_.fields_.size(); ++i) {
      if (row_.fields_[i].empty())
        throw config_error(where() + ": column " + std::to_string(i + 1) + " of the header has an empty name");
      columns_.emplace_back(row_.fields_[i]);
    }
    std::vector<std::size_t> order(columns_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return columns_[a] < columns_[b]; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      const std::size_t first = order[k - 1], again = order[k];
      if (columns_[first] == columns_[again])
        throw config_error(where() + ": column '" + echo(columns_[again]) + "' appears twice in the header (columns " +
                           std::to_string(first + 1) + " and " + std::to_string(again + 1) + ")");
    }
    row_.fields_.clear();
    row_.line_ = 0;
  }

  // Reads lines until one that is neither blank nor a comment, and splits it into row_.fields_.
  bool read_record() {
    while (lines_.next()) {
      const std::string_view rest = csv_trim(lines_.line());
      if (rest.empty()) continue;
      if (rest.front() == '#') {
        comments_.push_back(csv_comment{lines_.number(), std::string(csv_trim(rest.substr(1)))});
        continue;
      }
      split();
      row_.line_ = lines_.number();
      return true;
    }
    return false;
  }

  // Splits the line into fields, undoing quotes in place: a quoted field's text is written back over the
  // line from its opening quote on, never past where it is being read, so the views stay inside the line.
  void split() {
    row_.fields_.clear();
    char* const data = lines_.data();
    const std::size_t n = lines_.line().size();
    std::size_t i = 0;
    for (;;) {
      while (i < n && csv_is_blank(data[i])) ++i;
      if (i < n && data[i] == '"') {
        const std::size_t start = i;
        std::size_t w = i;
        ++i;
        for (;;) {
          if (i >= n)
            throw config_error(where() + ": quoted field " + std::to_string(row_.fields_.size() + 1) +
                               " has no closing quote");
          if (data[i] == '"') {
            if (i + 1 < n && data[i + 1] == '"') {
              data[w++] = '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          data[w++] = data[i++];
        }
        row_.fields_.emplace_back(data + start, w - start);
        while (i < n && csv_is_blank(data[i])) ++i;
        if (i < n && data[i] != ',')
          throw config_error(where() + ": field " + std::to_string(row_.fields_.size()) +
                             ": text after the closing quote");
      } else {
        const std::size_t start = i;
        while (i < n && data[i] != ',') ++i;
        row_.fields_.push_back(csv_trim(std::string_view(data + start, i - start)));
      }
      if (i >= n) return;
      ++i;  // the comma
    }
  }

  std::optional<line_reader> own_;  // the lines, when the reader was given a stream
  line_reader& lines_;
  std::vector<std::string> columns_;
  std::vector<csv_comment> comments_;
  std::size_t header_line_ = 0;
  csv_row row_;
};

}  // namespace joulesched::detail
