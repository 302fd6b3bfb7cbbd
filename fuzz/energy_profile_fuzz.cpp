// Feeds the bytes to parse_energy_profile (profiles/energy_profile.hpp) as a stream, then evaluates the
// profile it read at its grid corners, between them and outside them.
// Failure: anything but a profile or a config_error; a profile whose axes are not sorted and distinct, or
// whose eval() gives a negative or non-finite energy or a rate that is not finite and > 0.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>

#include "joulesched/profiles/energy_profile.hpp"
#include "joulesched/profiles/profile_file.hpp"
#include "support.hpp"

namespace {

void check_point(const joulesched::energy_profile& p, double batch, double seq) {
  const joulesched::profile_point v = p.eval(batch, seq);
  fuzz::require(std::isfinite(v.energy_j_per_tok) && v.energy_j_per_tok >= 0, "eval: energy is finite and >= 0");
  fuzz::require(std::isfinite(v.rate_tok_s) && v.rate_tok_s > 0, "eval: rate is finite and > 0");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::read_accepts(fuzz::text(data, size), [](std::istream& in) {
    const joulesched::energy_profile p = joulesched::parse_energy_profile(in, "fuzz.csv");
    const auto strictly_sorted = [](auto axis) {
      return std::adjacent_find(axis.begin(), axis.end(), std::greater_equal<>{}) == axis.end();
    };
    fuzz::require(strictly_sorted(p.batch_sizes()) && strictly_sorted(p.seq_lens_tok()), "axes sorted and distinct");
    const double b0 = p.min_batch(), b1 = p.max_batch(), s0 = p.min_seq_len_tok(), s1 = p.max_seq_len_tok();
    for (const double b : {b0, b1, b0 + (b1 - b0) / 3, b0 + (b1 - b0) / 2, b0 / 2, b1 * 2})
      for (const double s : {s0, s1, s0 + (s1 - s0) / 3, s0 + (s1 - s0) / 2, s0 / 2, s1 * 2}) check_point(p, b, s);
  });
  return 0;
}
