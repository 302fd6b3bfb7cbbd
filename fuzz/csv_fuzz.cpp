// Feeds the bytes to detail::csv_reader (csv.hpp): the header, every row, every typed accessor on the
// first 32 fields read, and a `# name:` comment lookup.
// Failure: anything but a result or a config_error; a row whose width is not the header's; a typed value
// outside what its accessor promises (finite, >= 0, > 0, within [lo, hi]).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <istream>

#include "joulesched/detail/csv.hpp"
#include "support.hpp"

namespace {

void check_field(const joulesched::detail::csv_row& row, std::size_t col) {
  fuzz::accepts([&] { (void)row.as_nonempty_string(col); });
  double x = 0;
  if (!fuzz::accepts([&] { x = row.as_double(col); })) return;  // not a number: every accessor below throws
  if (fuzz::accepts([&] { x = row.as_finite(col); })) fuzz::require(std::isfinite(x), "as_finite is finite");
  if (fuzz::accepts([&] { x = row.as_non_negative(col); }))
    fuzz::require(std::isfinite(x) && x >= 0, "as_non_negative is finite and >= 0");
  if (fuzz::accepts([&] { x = row.as_positive(col); })) fuzz::require(std::isfinite(x) && x > 0, "as_positive is > 0");
  std::uint64_t u = 0;
  fuzz::accepts([&] { u = row.as_unsigned(col); });
  std::uint32_t v = 0;
  if (fuzz::accepts([&] { v = row.as_unsigned<std::uint32_t>(col, 1, 1000); }))
    fuzz::require(v >= 1 && v <= 1000, "as_unsigned is within [lo, hi]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_accepts(fuzz::text(data, size), [](std::istream& in) {
    joulesched::detail::csv_reader csv(in, "fuzz.csv");
    const std::size_t width = csv.columns().size();
    fuzz::require(width >= 1, "a header has a column");
    std::size_t budget = 32;  // fields checked per input: each check throws a few exceptions, which are slow
    while (csv.next()) {
      fuzz::require(csv.row().size() == width, "a row has as many fields as the header");
      for (std::size_t col = 0; col < width && budget > 0; ++col, --budget) check_field(csv.row(), col);
    }
    (void)csv.comment_value("name");
  });
  return 0;
}
