/// @file energy_profile.hpp
/// @brief Energy per token and throughput of one (device type, serving model) pair as functions of batch size
/// and sequence length, measured offline and interpolated at run time.
///
/// Use it when a cost model needs eps_n and mu_n at the batch a device is actually running (energy per token
/// falls steeply with batch size), or for a simulator's device model. When one number per device is enough,
/// device_params' own rate_tok_s and energy_j_per_tok are cheaper. Design: a full grid of measured points over
/// (batch size x sequence length), bilinear interpolation inside it, clamped to its edges outside it. Cost:
/// eval() is two binary searches over the axes (O(log batches + log seq lengths)) and four loads; no
/// allocation, no throw. Immutable after construction, so const calls may run concurrently.
///
/// Reading one from a CSV file: profiles/profile_file.hpp (kept apart, so that a cost model that includes this
/// header includes no file I/O).
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief What a profile gives at one (batch size, sequence length).
struct profile_point {
  double energy_j_per_tok = 0.0;  ///< joules per token, >= 0
  double rate_tok_s = 0.0;        ///< tokens per second, > 0

  friend bool operator==(const profile_point&, const profile_point&) = default;
};

class energy_profile {
 public:
  /// @brief Builds a profile from its grid.
  /// @param name e.g. "A100-SXM4-40GB/Llama-3.1-8B-Instruct"; also names the profile in messages.
  /// @param batch_sizes strictly increasing, each finite and >= 1; at least one.
  /// @param seq_lens_tok strictly increasing, each finite and >= 0; at least one.
  /// @param energy_j_per_tok, rate_tok_s one value per grid point, batch-major: the value at
  ///        (batch_sizes[b], seq_lens_tok[s]) is at index b * seq_lens_tok.size() + s. Energy finite and >= 0,
  ///        rate in [min_grid_rate_tok_s, max_grid_rate_tok_s] = [0.001, 1e300] token/s: eval() mixes four
  ///        points with weights summing to 1, and a rate like 5e-324 (finite, > 0) would interpolate to 0, one
  ///        near DBL_MAX to inf. ASSUMPTION: a device making fewer than one token per 1,000 s serves nothing.
  /// Complexity: O(grid points).
  /// @throws config_error naming the profile, the field and the grid point, e.g. "a100: field energy_j_per_tok
  /// at (batch_size 8, seq_len_tok 512) = -1: must be finite and >= 0".
  energy_profile(std::string name, std::vector<double> batch_sizes, std::vector<double> seq_lens_tok,
                 const std::vector<double>& energy_j_per_tok, const std::vector<double>& rate_tok_s)
      : name_(std::move(name)), batch_sizes_(std::move(batch_sizes)), seq_lens_tok_(std::move(seq_lens_tok)) {
    check_axis(batch_sizes_, "batch_sizes", 1.0);
    check_axis(seq_lens_tok_, "seq_lens_tok", 0.0);
    const std::size_t points = batch_sizes_.size() * seq_lens_tok_.size();
    check_count(energy_j_per_tok, "energy_j_per_tok", points);
    check_count(rate_tok_s, "rate_tok_s", points);
    grid_.reserve(points);
    for (std::size_t k = 0; k < points; ++k) {
      const double e = energy_j_per_tok[k], r = rate_tok_s[k];
      if (!(std::isfinite(e) && e >= 0.0))
        detail::fail(name_, point_field("energy_j_per_tok", k), e, "must be finite and >= 0");
      if (!(std::isfinite(r) && r > 0.0))
        detail::fail(name_, point_field("rate_tok_s", k), r, "must be finite and > 0");
      if (!(r >= min_grid_rate_tok_s && r <= max_grid_rate_tok_s))
        detail::fail(name_, point_field("rate_tok_s", k), r,
                     "must be in [0.001, 1e300] token/s (so that every rate eval() interpolates is finite and > 0)");
      grid_.push_back(profile_point{e, r});
    }
  }

  /// The range of a grid point's rate_tok_s the constructor accepts (see the constructor).
  static constexpr double min_grid_rate_tok_s = 1e-3;
  static constexpr double max_grid_rate_tok_s = 1e300;

  /// e.g. "A100-SXM4-40GB/Llama-3.1-8B-Instruct".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// The batch-size axis: strictly increasing, >= 1.
  [[nodiscard]] std::span<const double> batch_sizes() const noexcept { return batch_sizes_; }

  /// The sequence-length axis in tokens: strictly increasing, >= 0.
  [[nodiscard]] std::span<const double> seq_lens_tok() const noexcept { return seq_lens_tok_; }

  /// @brief The measured value at grid point (batch_sizes()[b], seq_lens_tok()[s]). Precondition: b <
  /// batch_sizes().size() and s < seq_lens_tok().size() (checked mode: usage_error).
  [[nodiscard]] const profile_point& at(std::size_t b, std::size_t s) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(b < batch_sizes_.size(), "energy_profile::at", "b", b, "must be < batch_sizes().size()");
    JOULESCHED_EXPECTS(s < seq_lens_tok_.size(), "energy_profile::at", "s", s, "must be < seq_lens_tok().size()");
    return point(b, s);
  }

  [[nodiscard]] double min_batch() const noexcept { return batch_sizes_.front(); }
  [[nodiscard]] double max_batch() const noexcept { return batch_sizes_.back(); }
  [[nodiscard]] double min_seq_len_tok() const noexcept { return seq_lens_tok_.front(); }
  [[nodiscard]] double max_seq_len_tok() const noexcept { return seq_lens_tok_.back(); }

  /// @brief Whether (batch, seq_len_tok) lies inside the measured grid (edges included), i.e. whether eval()
  /// interpolates rather than clamps there.
  [[nodiscard]] bool contains(double batch, double seq_len_tok) const noexcept {
    return batch >= min_batch() && batch <= max_batch() && seq_len_tok >= min_seq_len_tok() &&
           seq_len_tok <= max_seq_len_tok();
  }

  /// @brief Energy per token and throughput at a batch size and sequence length.
  ///
  /// Effects: bilinear interpolation between the four surrounding grid points; exact at grid points. Outside
  /// the grid each coordinate is clamped to the nearest edge first (so a batch of 1,000 on a grid that ends
  /// at 256 gets the batch-256 values): the profile never extrapolates a trend it did not measure. Use
  /// contains() to see whether a point is outside. An axis with one value is constant.
  /// Precondition: neither argument is NaN (asserted in debug builds; a NaN is treated as below the grid).
  /// Complexity: O(log batches + log seq lengths). Throws: nothing. No allocation.
  [[nodiscard]] profile_point eval(double batch, double seq_len_tok) const noexcept {
    assert(!std::isnan(batch) && !std::isnan(seq_len_tok));
    const cell b = locate(batch_sizes_, batch);
    const cell s = locate(seq_lens_tok_, seq_len_tok);
    const profile_point& p00 = point(b.lo, s.lo);
    const profile_point& p01 = point(b.lo, s.hi);
    const profile_point& p10 = point(b.hi, s.lo);
    const profile_point& p11 = point(b.hi, s.hi);
    auto mix = [&](double v00, double v01, double v10, double v11) {
      const double lo = (1.0 - s.t) * v00 + s.t * v01;
      const double hi = (1.0 - s.t) * v10 + s.t * v11;
      return (1.0 - b.t) * lo + b.t * hi;
    };
    return profile_point{mix(p00.energy_j_per_tok, p01.energy_j_per_tok, p10.energy_j_per_tok, p11.energy_j_per_tok),
                         mix(p00.rate_tok_s, p01.rate_tok_s, p10.rate_tok_s, p11.rate_tok_s)};
  }

 private:
  [[nodiscard]] const profile_point& point(std::size_t b, std::size_t s) const noexcept {
    assert(b < batch_sizes_.size() && s < seq_lens_tok_.size());
    return grid_[b * seq_lens_tok_.size() + s];
  }

  // Interpolate between axis[lo] and axis[hi] with weight t on hi; lo == hi and t == 0 at and past the edges.
  struct cell {
    std::size_t lo;
    std::size_t hi;
    double t;
  };

  static cell locate(const std::vector<double>& axis, double x) noexcept {
    const std::size_t n = axis.size();
    if (!(x > axis.front())) return {0, 0, 0.0};  // below the grid, on its first point, or NaN
    if (x >= axis.back()) return {n - 1, n - 1, 0.0};
    // Here n >= 2 and axis.front() < x < axis.back(), so hi is in [1, n - 1].
    const auto hi = static_cast<std::size_t>(std::upper_bound(axis.begin(), axis.end(), x) - axis.begin());
    const std::size_t lo = hi - 1;
    return {lo, hi, (x - axis[lo]) / (axis[hi] - axis[lo])};
  }

  void check_axis(const std::vector<double>& axis, std::string_view field, double min) const {
    if (axis.empty()) throw config_error(name_ + ": " + std::string(field) + " is empty: need at least one value");
    for (std::size_t i = 0; i < axis.size(); ++i) {
      const std::string where_field = std::string(field) + '[' + std::to_string(i) + ']';
      if (!(std::isfinite(axis[i]) && axis[i] >= min)) {
        std::ostringstream req;
        req << "must be finite and >= " << min;
        detail::fail(name_, where_field, axis[i], req.str());
      }
      if (i > 0 && !(axis[i] > axis[i - 1])) {
        std::ostringstream req;
        req.precision(17);
        req << "must be > " << field << '[' << i - 1 << "] = " << axis[i - 1] << " (strictly increasing)";
        detail::fail(name_, where_field, axis[i], req.str());
      }
    }
  }

  void check_count(const std::vector<double>& values, std::string_view field, std::size_t points) const {
    if (values.size() != points)
      throw config_error(name_ + ": " + std::string(field) + " has " + std::to_string(values.size()) +
                         " values, expected " + std::to_string(points) + " (" + std::to_string(batch_sizes_.size()) +
                         " batch sizes x " + std::to_string(seq_lens_tok_.size()) + " seq lengths)");
  }

  [[nodiscard]] std::string point_field(std::string_view field, std::size_t k) const {
    std::ostringstream os;
    os.precision(17);
    os << field << " at (batch_size " << batch_sizes_[k / seq_lens_tok_.size()] << ", seq_len_tok "
       << seq_lens_tok_[k % seq_lens_tok_.size()] << ')';
    return os.str();
  }

  std::string name_;
  std::vector<double> batch_sizes_;
  std::vector<double> seq_lens_tok_;
  std::vector<profile_point> grid_;  // batch-major: grid_[b * seq_lens_tok_.size() + s]
};

}  // namespace joulesched
