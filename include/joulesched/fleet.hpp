/// @file fleet.hpp
/// @brief The routing state of a fleet: each device's parameters, the load routers have reserved on it,
/// whether it takes work, and one min-heap of load per class of identical devices.
///
/// Use one fleet per set of devices and let every router over those devices share it (a tiered router's
/// routers do), so that all of them see the same load. Construction groups devices into classes of equal
/// parameters in O(n log n). reserve() and release() update one heap entry: O(log n), no allocation. A fleet
/// built with fleet_index::none keeps no heaps (O(1) updates) for routers that never read them.
/// A fleet built from operating-point tables (one per device type: its clocks or power caps) lets set_point()
/// move a device between the points of its table at run time, in O(log n): the classes are every table's points,
/// fixed for the fleet's life, so routers' class orders stay valid and only membership changes.
/// Not thread-safe: one thread routes and releases (see routing/concurrent_router.hpp for many threads).
///
/// Misuse (see usage_error.hpp): release() refuses, changing nothing and returning false, an assignment whose
/// device is out of range or whose work exceeds what the device still has reserved (the usual sign of a second
/// release of the same assignment), so a load never wraps below zero; set_available() ignores an id out of range.
/// These defences are always on and cost one compare each. A second release that does not exceed what is left
/// (another assignment's work is still reserved on the device) cannot be told from a legitimate one: an
/// assignment carries no identity. The other preconditions (ids in range for reserve() and the accessors) are
/// asserted, and checked, throwing usage_error, when JOULESCHED_CHECKED is 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <range/v3/view/chunk_by.hpp>

#include "joulesched/concepts.hpp"
#include "joulesched/detail/dary_heap.hpp"
#include "joulesched/error.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// The smallest device rate a fleet accepts, in tokens/s. ASSUMPTION: a device making fewer than one token per
/// 1,000 s serves nothing. Why a floor and not just > 0: a rate like 5e-324 is finite and > 0, but 1/rate
/// overflows, so an ETA becomes inf and a cost term lambda x ETA with lambda = 0 becomes NaN. With rate >= 1e-3
/// and the request sizes make_request_view admits, every ETA (and so every cost term) is finite.
inline constexpr double min_rate_tok_s = 1e-3;

/// The largest per-token or per-request coefficient of device_params a fleet accepts (seconds or joules):
/// 1e6. ASSUMPTION: a device that needs more than 11 days or a megajoule per token serves nothing; the bound
/// keeps every predicted time and energy of a request make_request_view admits finite.
inline constexpr double max_param_coefficient = 1e6;

/// The largest operating batch a fleet accepts: 2^24. ASSUMPTION: far above any engine's batch limit.
inline constexpr double max_operating_batch = 16777216.0;

/// @brief Checks one device's parameters: rate_tok_s finite and >= min_rate_tok_s; energy_j_per_tok and the
/// prefill and context coefficients finite, >= 0 and <= max_param_coefficient; batch in [1, 2^24]; step_s
/// finite, >= 0 and at most the operating step (batch / rate_tok_s); capacity >= batch (infinity: no limit);
/// pacing_s and network_s finite and in [0, max_budget_s].
/// Throws config_error naming `where` (e.g. "fleet.csv:4" or "fleet: device 2") and the field.
inline device_params checked(device_params p, std::string_view where) {
  detail::require_positive(p.rate_tok_s, where, "rate_tok_s");
  if (p.rate_tok_s < min_rate_tok_s)
    detail::fail(where, "rate_tok_s", p.rate_tok_s,
                 "must be >= 0.001 token/s (min_rate_tok_s: a device making fewer than one token per 1,000 s "
                 "serves nothing, and 1/rate must stay finite)");
  const auto coefficient = [&](double x, const char* field) {
    detail::require_non_negative(x, where, field);
    if (x > max_param_coefficient) detail::fail(where, field, x, "must be <= 1e6 (max_param_coefficient)");
  };
  coefficient(p.energy_j_per_tok, "energy_j_per_tok");
  coefficient(p.prefill_s_per_tok, "prefill_s_per_tok");
  coefficient(p.prefill_j_per_tok, "prefill_j_per_tok");
  coefficient(p.request_s, "request_s");
  coefficient(p.request_j, "request_j");
  coefficient(p.ctx_s_per_tok, "ctx_s_per_tok");
  coefficient(p.ctx_j_per_tok, "ctx_j_per_tok");
  detail::require_finite(p.batch, where, "batch");
  if (!(p.batch >= 1.0 && p.batch <= max_operating_batch))
    detail::fail(where, "batch", p.batch, "must be in [1, 2^24] (max_operating_batch)");
  detail::require_non_negative(p.step_s, where, "step_s");
  // batch / rate_tok_s is the whole step at zero context; a relative 1e-9 absorbs its rounding (a model whose step
  // has no per-request part gives step_s == batch / rate_tok_s up to one ulp).
  if (p.step_s > p.batch / p.rate_tok_s * (1.0 + 1e-9))
    detail::fail(where, "step_s", p.step_s,
                 "must be <= batch / rate_tok_s (the fixed part of a step is at most the step)");
  if (!(p.capacity >= p.batch)) detail::fail(where, "capacity", p.capacity, "must be >= batch (infinity: no limit)");
  detail::require_non_negative(p.pacing_s, where, "pacing_s");
  if (p.pacing_s > max_budget_s) detail::fail(where, "pacing_s", p.pacing_s, "must be <= 1e12 s (max_budget_s)");
  detail::require_non_negative(p.network_s, where, "network_s");
  if (p.network_s > max_budget_s) detail::fail(where, "network_s", p.network_s, "must be <= 1e12 s (max_budget_s)");
  if (p.models == 0) detail::fail(where, "models", 0, "must name at least one model");
  return p;
}

namespace detail {
/// Device ids ordered by their parameters, equal ones in id order, so that each class of equal parameters is one
/// run. Used by fleet and concurrent_fleet to form classes.
[[nodiscard]] inline std::vector<device_id> ids_by_params(std::span<const device_params> ps) {
  std::vector<device_id> order(ps.size());
  std::iota(order.begin(), order.end(), device_id{0});
  const auto key = [&](device_id i) {
    const auto& p = ps[i];
    return std::tuple(p.rate_tok_s, p.energy_j_per_tok, p.site, p.profile, p.prefill_s_per_tok, p.prefill_j_per_tok,
                      p.request_s, p.request_j, p.ctx_s_per_tok, p.ctx_j_per_tok, p.batch, p.step_s, p.capacity,
                      p.pacing_s, p.network_s, p.models);
  };
  std::stable_sort(order.begin(), order.end(), [&](device_id a, device_id b) { return key(a) < key(b); });
  return order;
}
}  // namespace detail

/// @brief Reads an engine's device through device_traits.
template <Device D>
[[nodiscard]] constexpr device_params params_of(const D& d) {
  using tr = device_traits<D>;
  // Only rate_tok_s and energy_j_per_tok are required; a specialisation of device_traits may provide any of the
  // others, each read only when present (the primary template always provides them).
  device_params p{tr::rate_tok_s(d), tr::energy_j_per_tok(d)};
  if constexpr (requires { tr::site(d); }) p.site = tr::site(d);
  if constexpr (requires { tr::profile(d); }) p.profile = tr::profile(d);
  if constexpr (requires { tr::prefill_s_per_tok(d); }) p.prefill_s_per_tok = tr::prefill_s_per_tok(d);
  if constexpr (requires { tr::prefill_j_per_tok(d); }) p.prefill_j_per_tok = tr::prefill_j_per_tok(d);
  if constexpr (requires { tr::request_s(d); }) p.request_s = tr::request_s(d);
  if constexpr (requires { tr::request_j(d); }) p.request_j = tr::request_j(d);
  if constexpr (requires { tr::ctx_s_per_tok(d); }) p.ctx_s_per_tok = tr::ctx_s_per_tok(d);
  if constexpr (requires { tr::ctx_j_per_tok(d); }) p.ctx_j_per_tok = tr::ctx_j_per_tok(d);
  if constexpr (requires { tr::batch(d); }) p.batch = tr::batch(d);
  if constexpr (requires { tr::step_s(d); }) p.step_s = tr::step_s(d);
  if constexpr (requires { tr::capacity(d); }) p.capacity = tr::capacity(d);
  if constexpr (requires { tr::pacing_s(d); }) p.pacing_s = tr::pacing_s(d);
  if constexpr (requires { tr::network_s(d); }) p.network_s = tr::network_s(d);
  if constexpr (requires { tr::models(d); }) p.models = tr::models(d);
  return p;
}

/// @brief The operating points of one device type: the parameters it runs with at each clock or power cap
/// (FREESH's and Festina's GPU frequencies), one entry per point. A fleet built with tables forms its classes
/// from every point of every table, so moving a device between points changes no class and no router's order.
using operating_points = std::vector<device_params>;

/// @brief Where a device of a fleet with operating points starts: its type's table and the point in it.
struct device_point {
  std::uint32_t table = 0;  ///< index into the fleet's tables
  std::uint32_t point = 0;  ///< index into that table
  friend bool operator==(const device_point&, const device_point&) = default;
};

namespace detail {
/// Checks operating-point tables and where each device starts, and returns each device's starting parameters.
/// Used by fleet and concurrent_fleet. @throws config_error naming the table and point of a parameter out of
/// range, an empty table, or the device whose table or point index is out of range.
[[nodiscard]] inline std::vector<device_params> params_at_points(const std::vector<operating_points>& tables,
                                                                 const std::vector<device_point>& devices,
                                                                 std::string_view source) {
  for (std::size_t t = 0; t < tables.size(); ++t) {
    if (tables[t].empty()) fail(std::string(source) + ": table " + std::to_string(t), "points", 0, "must not be empty");
    for (std::size_t k = 0; k < tables[t].size(); ++k)
      checked(tables[t][k], std::string(source) + ": table " + std::to_string(t) + " point " + std::to_string(k));
  }
  std::vector<device_params> ps;
  ps.reserve(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const std::string where = std::string(source) + ": device " + std::to_string(i);
    const device_point at = devices[i];
    if (at.table >= tables.size()) fail(where, "table", at.table, "must be < the number of tables");
    if (at.point >= tables[at.table].size()) fail(where, "point", at.point, "must be < its table's size");
    ps.push_back(tables[at.table][at.point]);
  }
  return ps;
}
}  // namespace detail

/// @brief Whether a fleet keeps its per-class heaps of load (what the exact class-indexed router reads).
enum class fleet_index : std::uint8_t {
  by_class,  ///< the default: every router works; reserve and release also update one class heap, O(log n)
  none,      ///< loads and availability only, O(1) updates: for routers that never read class tops
             ///< (power-of-d, round-robin, random); argmin_router's class-indexed path refuses such a fleet
};

class fleet {
 public:
  /// @brief Builds the state of a fleet from an engine's devices; device i of the range gets id i.
  /// @throws config_error naming the device's index and field when a parameter is out of range.
  template <std::ranges::input_range R>
    requires Device<std::ranges::range_value_t<R>>
  explicit fleet(R&& devices, std::string_view source = "fleet", fleet_index index = fleet_index::by_class)
      : index_(index) {
    std::vector<device_params> ps;
    std::size_t i = 0;
    for (const auto& d : devices) {
      ps.push_back(checked(params_of(d), std::string(source) + ": device " + std::to_string(i)));
      ++i;
    }
    init(std::move(ps));
  }

  explicit fleet(std::vector<device_params> ps, std::string_view source = "fleet",
                 fleet_index index = fleet_index::by_class)
      : index_(index) {
    for (std::size_t i = 0; i < ps.size(); ++i) checked(ps[i], std::string(source) + ": device " + std::to_string(i));
    init(std::move(ps));
  }

  /// @brief A fleet whose devices can move between operating points at run time (set_point). Device i starts at
  /// tables[devices[i].table][devices[i].point]. Classes are formed from every point of every table, so the
  /// number of classes is the number of distinct points, whichever point each device is at.
  /// @throws config_error naming the table and point of a parameter out of range, an empty table, or the device
  /// whose table or point index is out of range.
  fleet(std::vector<operating_points> tables, const std::vector<device_point>& devices,
        std::string_view source = "fleet", fleet_index index = fleet_index::by_class)
      : index_(index) {
    std::vector<device_params> ps = detail::params_at_points(tables, devices, source);
    tables_ = std::move(tables);
    point_of_ = devices;
    init(std::move(ps));
  }

  /// Whether class heaps (and class_tops()) are kept; see fleet_index.
  [[nodiscard]] fleet_index index() const noexcept { return index_; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Precondition (checked mode: usage_error): id < size(); the same for load(), available() and class_of().
  [[nodiscard]] const device_params& params(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::params", "id", id, "must be < size()");
    return params_[id];
  }
  [[nodiscard]] const device_load& load(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::load", "id", id, "must be < size()");
    return load_[id];
  }
  [[nodiscard]] std::span<const device_params> all_params() const noexcept { return params_; }
  [[nodiscard]] std::span<const device_load> loads() const noexcept { return load_; }
  [[nodiscard]] bool available(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::available", "id", id, "must be < size()");
    return avail_pos_[id] != npos;
  }

  /// The ids of devices that take work, in no particular order. Stable between set_available calls.
  [[nodiscard]] std::span<const device_id> available_ids() const noexcept { return avail_; }

  [[nodiscard]] std::size_t class_count() const noexcept { return class_begin_.size() - 1; }
  [[nodiscard]] std::uint32_t class_of(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::class_of", "id", id, "must be < size()");
    return class_of_[id];
  }

  /// Marks a class with no available device in class_tops().
  static constexpr device_id no_device = UINT32_MAX;

  /// @brief The least-loaded available device of a class (least reserved work, lowest id among equals),
  /// with its load: what a class-indexed router reads, one entry per class.
  struct class_top_entry {
    std::uint64_t reserved_ns = 0;
    std::uint32_t requests = 0;
    device_id id = no_device;  ///< no_device when the class has no available device

    [[nodiscard]] constexpr device_load load() const noexcept { return {reserved_ns, requests}; }
  };

  /// @brief Each class's top, indexed by class; kept current by every reserve, release and set_available.
  /// Stored contiguously, so a router reads the tops of all classes from a few cache lines. Empty when the
  /// fleet keeps no class heaps (fleet_index::none).
  [[nodiscard]] std::span<const class_top_entry> class_tops() const noexcept { return tops_; }

  /// @brief The parameters every device of a class shares, indexed by class.
  [[nodiscard]] std::span<const device_params> class_params() const noexcept { return class_params_; }

  /// @brief The available device of class c with the least reserved work (lowest id among equals).
  /// Complexity: O(1). Preconditions (checked mode: usage_error): index() is fleet_index::by_class, c < class_count().
  [[nodiscard]] std::optional<device_id> class_top(std::size_t c) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(index_ == fleet_index::by_class, "fleet::class_top", "index", "none",
                       "must be by_class (this fleet keeps no class heaps)");
    JOULESCHED_EXPECTS(c < tops_.size(), "fleet::class_top", "class", c, "must be < class_count()");
    if (tops_[c].id == no_device) return std::nullopt;
    return tops_[c].id;
  }

  /// @brief Drains (false) or restores (true) a device. A drained device keeps its load, so work already
  /// assigned can still be released; routers never pick it. Complexity: O(log n). Effects: none if unchanged,
  /// and none when id >= size() (checked mode: usage_error).
  void set_available(device_id id, bool on) JOULESCHED_HOT_NOEXCEPT {
    if (id >= size()) return detail::misuse("fleet::set_available", "id", id, "must be < size()");
    if (on == available(id)) return;
    if (on) {
      avail_pos_[id] = static_cast<std::uint32_t>(avail_.size());
      avail_.push_back(id);  // capacity reserved at construction: no allocation
    } else {
      const std::uint32_t p = avail_pos_[id];
      avail_[p] = avail_.back();
      avail_pos_[avail_[p]] = p;
      avail_.pop_back();
      avail_pos_[id] = npos;
    }
    if (index_ == fleet_index::none) return;
    if (on) heap_insert(id);
    else heap_erase(id);
  }

  /// @brief Moves a device to another point of its table (a clock or power cap change): its parameters become
  /// the point's, and it joins that point's class heap. Routers see the change at their next decision and stay
  /// exact; their class order does not change, since classes are the tables' points. Work already reserved on
  /// the device stays reserved as it was (an engine that re-prices it calls correct()). Complexity: O(log n), no
  /// allocation. Returns: true; false, changing nothing, for a fleet built without tables, an id >= size() or a
  /// point outside the device's table (checked mode: usage_error).
  bool set_point(device_id id, std::uint32_t point) JOULESCHED_HOT_NOEXCEPT {
    if (id >= size()) {
      detail::misuse("fleet::set_point", "id", id, "must be < size()");
      return false;
    }
    if (tables_.empty()) {
      detail::misuse("fleet::set_point", "tables", "none", "the fleet was built without operating points");
      return false;
    }
    device_point& at = point_of_[id];
    if (point >= tables_[at.table].size()) {
      detail::misuse("fleet::set_point", "point", point, "must be < the size of the device's table");
      return false;
    }
    at.point = point;
    const std::uint32_t c = table_class_[table_begin_[at.table] + point];
    if (c == class_of_[id]) return true;
    const bool indexed = heap_pos_[id] != npos;
    if (indexed) heap_erase(id);
    class_of_[id] = c;
    params_[id] = class_params_[c];
    if (indexed) heap_insert(id);
    return true;
  }

  /// @brief The table and point a device is at; for a fleet built without tables, {0, 0}. Precondition
  /// (checked mode: usage_error): id < size().
  [[nodiscard]] device_point point_of(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::point_of", "id", id, "must be < size()");
    return point_of_.empty() ? device_point{} : point_of_[id];
  }

  /// @brief The operating-point tables the fleet was built with (empty without).
  [[nodiscard]] std::span<const operating_points> tables() const noexcept { return tables_; }

  /// @brief Reserves `work_ns` device-nanoseconds of work (one request) on a device. Complexity: O(log n), O(1)
  /// without class heaps. No allocation. Precondition (checked mode: usage_error): id < size(). A device's
  /// backlog saturates at 2^64 - 1 ns rather than wrap (unreachable with work_ns <= max_work_ns, service.hpp).
  void reserve(device_id id, std::uint64_t work_ns) JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size(), "fleet::reserve", "id", id, "must be < size()");
    device_load& l = load_[id];
    l.reserved_ns = l.reserved_ns > UINT64_MAX - work_ns ? UINT64_MAX : l.reserved_ns + work_ns;
    l.requests += 1;
    update(id, true);
  }

  /// @brief Gives back the work of an assignment (on completion or cancellation). Complexity: O(log n), O(1)
  /// without class heaps.
  /// Precondition: `a` came from a router over this fleet and was not released before.
  /// Returns: true; false, changing nothing, when a.device >= size() or the device has less than a.work_ns
  /// reserved or no request reserved (a second release; checked mode: usage_error), so a load never wraps.
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT {
    if (!holds(a, "fleet::release")) return false;
    device_load& l = load_[a.device];
    l.reserved_ns -= a.work_ns;
    l.requests -= 1;
    update(a.device, false);
    return true;
  }

  /// @brief Corrects the work an assignment holds to `work_ns` (an engine that learned more: the prompt is
  /// done, the output runs longer than estimated). The device's backlog changes by the difference and
  /// `a.work_ns` becomes `work_ns`, so the later release gives back what is then reserved. Complexity: O(log n),
  /// O(1) without class heaps. No allocation.
  /// Returns: true; false, changing nothing, for an assignment release() would refuse (checked mode:
  /// usage_error). Use to_work_ns / reserved_work_ns (cost/service.hpp) to compute `work_ns`.
  bool correct(assignment& a, std::uint64_t work_ns) JOULESCHED_HOT_NOEXCEPT {
    if (!holds(a, "fleet::correct")) return false;
    device_load& l = load_[a.device];
    const std::uint64_t rest = l.reserved_ns - a.work_ns;
    l.reserved_ns = rest > UINT64_MAX - work_ns ? UINT64_MAX : rest + work_ns;
    const bool grew = work_ns > a.work_ns;
    a.work_ns = work_ns;
    update(a.device, grew);
    return true;
  }

 private:
  static constexpr std::uint32_t npos = UINT32_MAX;
  static_assert(npos == no_device);

  // Whether `a` can be given back: its device in range, at least its work and one request reserved there.
  bool holds(const assignment& a, const char* call) const JOULESCHED_HOT_NOEXCEPT {
    if (a.device >= size_) {
      detail::misuse(call, "device", a.device, "must be < size()");
      return false;
    }
    const device_load& l = load_[a.device];
    if (l.reserved_ns < a.work_ns || l.requests == 0) [[unlikely]] {
      detail::misuse(call, "work_ns", a.work_ns,
                     "must not exceed the device's reserved work, and a request must be reserved (released twice?)");
      return false;
    }
    return true;
  }

  // Moves a device's heap entry after its backlog grew (towards the leaves) or shrank (towards the root).
  void update(device_id id, bool grew) noexcept {
    const std::uint32_t slot = heap_pos_[id];
    if (slot == npos) return;
    heap_[slot].reserved_ns = load_[id].reserved_ns;
    const std::uint32_t c = class_of_[id];
    if (grew) sift_down(c, slot);
    else sift_up(c, slot);
    refresh_top(c);
  }

  // Adds an available device to its class's heap (its slice has room: it was sized for every device that may
  // be in the class).
  void heap_insert(device_id id) noexcept {
    const std::uint32_t c = class_of_[id];
    const std::uint32_t slot = class_begin_[c] + class_size_[c]++;
    place(slot, heap_entry{load_[id].reserved_ns, id});
    sift_up(c, slot);
    refresh_top(c);
  }

  // Takes a device out of its class's heap.
  void heap_erase(device_id id) noexcept {
    const std::uint32_t c = class_of_[id];
    const std::uint32_t slot = heap_pos_[id];
    const std::uint32_t last = class_begin_[c] + --class_size_[c];
    heap_pos_[id] = npos;
    if (slot != last) {
      const device_id moved = heap_[last].id;
      place(slot, heap_[last]);
      sift_down(c, slot);
      sift_up(c, heap_pos_[moved]);
    }
    refresh_top(c);
  }

  void init(std::vector<device_params> ps) {
    if (ps.size() >= npos) detail::fail("fleet", "size", ps.size(), "must be < 2^32 - 1");
    params_ = std::move(ps);
    const auto n = static_cast<std::uint32_t>(params_.size());
    size_ = n;
    load_.assign(n, device_load{});
    // Group equal parameters: sort every parameter set (each device's, then each table point's) and cut where
    // they change. The classes are then fixed for the fleet's life.
    std::vector<device_params> all = params_;
    table_begin_.clear();
    for (const operating_points& t : tables_) {
      table_begin_.push_back(static_cast<std::uint32_t>(all.size() - n));
      all.insert(all.end(), t.begin(), t.end());
    }
    const std::vector<device_id> order = detail::ids_by_params(all);
    std::vector<std::uint32_t> class_of_all(all.size(), 0);
    class_params_.clear();
    const auto same = [&](device_id a, device_id b) { return all[a] == all[b]; };
    for (auto&& members : order | ranges::views::chunk_by(same)) {
      const auto c = static_cast<std::uint32_t>(class_params_.size());
      class_params_.push_back(all[*ranges::begin(members)]);
      for (const device_id k : members) class_of_all[k] = c;
    }
    class_of_.assign(class_of_all.begin(), class_of_all.begin() + n);
    table_class_.assign(class_of_all.begin() + n, class_of_all.end());
    // A class's heap slice holds every device that may be in it: those that start there, and those whose
    // table has a point in it (each counted once).
    const std::size_t classes = class_params_.size();
    std::vector<std::uint32_t> room(classes, 0);
    std::vector<std::vector<std::uint32_t>> table_classes(tables_.size());
    for (std::size_t t = 0; t < tables_.size(); ++t) {
      auto& cs = table_classes[t];
      for (std::size_t k = 0; k < tables_[t].size(); ++k) cs.push_back(table_class_[table_begin_[t] + k]);
      std::sort(cs.begin(), cs.end());
      cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
    }
    for (std::uint32_t id = 0; id < n; ++id) {
      if (tables_.empty()) {
        ++room[class_of_[id]];
      } else {
        for (const std::uint32_t c : table_classes[point_of_[id].table]) ++room[c];  // its start is among them
      }
    }
    class_begin_.assign(classes + 1, 0);
    for (std::size_t c = 0; c < classes; ++c) class_begin_[c + 1] = class_begin_[c] + room[c];
    class_size_.assign(classes, 0);
    // Without class heaps every device's heap slot is npos, so reserve and release skip the heap.
    heap_pos_.assign(n, npos);
    if (index_ == fleet_index::by_class) {
      // All loads are zero, so ids in ascending order already form a valid heap within each class.
      heap_.resize(class_begin_[classes]);
      for (std::uint32_t id = 0; id < n; ++id) {
        const std::uint32_t c = class_of_[id];
        place(class_begin_[c] + class_size_[c]++, heap_entry{0, id});
      }
      tops_.resize(classes);
      for (std::uint32_t c = 0; c < classes; ++c) refresh_top(c);
    }
    avail_.reserve(n);
    avail_.resize(n);
    std::iota(avail_.begin(), avail_.end(), device_id{0});
    avail_pos_.resize(n);
    std::iota(avail_pos_.begin(), avail_pos_.end(), std::uint32_t{0});
  }

  // A heap entry carries its key, so a sift compares neighbouring entries (four children share a cache line)
  // instead of reading each child's load from a random place in load_.
  struct heap_entry {
    std::uint64_t reserved_ns;
    device_id id;
  };

  static constexpr auto less = [](const heap_entry& a, const heap_entry& b) noexcept {
    return a.reserved_ns < b.reserved_ns || (a.reserved_ns == b.reserved_ns && a.id < b.id);
  };

  void place(std::uint32_t slot, const heap_entry& e) noexcept {
    heap_[slot] = e;
    heap_pos_[e.id] = slot;
  }

  void refresh_top(std::uint32_t c) noexcept {
    if (class_size_[c] == 0) {
      tops_[c] = class_top_entry{};
      return;
    }
    const device_id id = heap_[class_begin_[c]].id;
    tops_[c] = class_top_entry{load_[id].reserved_ns, load_[id].requests, id};
  }

  // Class c's heap is heap_[base, base + class_size_[c]); the sifts index it from 0.
  void sift_up(std::uint32_t c, std::uint32_t slot) noexcept {
    const std::uint32_t base = class_begin_[c];
    detail::heap_sift_up(heap_.data() + base, slot - base, heap_[slot], less,
                         [&](std::uint32_t i, const heap_entry& e) { place(base + i, e); });
  }

  // Out of line, as GCC 12 kept it before the sift was shared with the other heaps: inlined into reserve(), it
  // made route_bench's energy/320/16 decision 1-4 ns slower.
  [[gnu::noinline]] void sift_down(std::uint32_t c, std::uint32_t slot) noexcept {
    const std::uint32_t base = class_begin_[c];
    detail::heap_sift_down(heap_.data() + base, class_size_[c], slot - base, heap_[slot], less,
                           [&](std::uint32_t i, const heap_entry& e) { place(base + i, e); });
  }

  fleet_index index_;
  std::uint32_t size_ = 0;  // params_.size(), kept apart so that release() tests an id with one compare
  std::vector<device_params> params_;
  std::vector<device_load> load_;
  std::vector<std::uint32_t> class_of_;
  std::vector<std::uint32_t> class_begin_;   // class c owns heap_[class_begin_[c], class_begin_[c + 1]), room for
                                             // every device that may be in it; its heap is the first class_size_[c]
  std::vector<std::uint32_t> class_size_;    // available devices in class c's heap (0 without class heaps)
  std::vector<device_params> class_params_;  // the parameters of class c
  std::vector<class_top_entry> tops_;        // a copy of each class heap's top, with its load
  std::vector<heap_entry> heap_;
  std::vector<std::uint32_t> heap_pos_;  // slot of each device in heap_, npos when drained or unindexed
  std::vector<device_id> avail_;
  std::vector<std::uint32_t> avail_pos_;    // index of each device in avail_, npos when drained
  std::vector<operating_points> tables_;    // the operating points devices move between (empty: none)
  std::vector<device_point> point_of_;      // each device's table and point (empty without tables)
  std::vector<std::uint32_t> table_begin_;  // where table t's points start in table_class_
  std::vector<std::uint32_t> table_class_;  // the class of each table point
};

}  // namespace joulesched
