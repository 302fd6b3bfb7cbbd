/// @file partitioned_router.hpp
/// @brief Shared-nothing routing for many threads: the fleet is dealt into partitions with the same mix of
/// device classes, and each router thread owns one partition, a fleet and an exact argmin_router of its own.
///
/// Use it when router threads must scale with their number and each request may be served by a share of the
/// fleet: router threads touch no common cache line, so nothing limits them but their own work. Completions
/// on other threads post their release to the owner's inbox (a bounded MPSC ring of assignments, copied by
/// value), which the owner applies on its next route() or apply_posted(); releases share only that inbox.
///
/// Exactness, plainly: a decision is exact within its partition (what argmin_router would choose over the
/// partition's devices, with every release posted before the route() call applied); it never considers
/// another partition's devices, however idle. Global balance rests on the router threads receiving similar
/// streams of requests. For one decision over the whole fleet from many threads, use concurrent_argmin_router
/// (exact against published shard tops, but every decision shares cache lines with the other threads).
///
/// Cost: route() is argmin_router's (O(classes + log(n / partitions)), no allocation), plus one read of the
/// inbox when it is empty, plus O(log(n / partitions)) per posted release it applies. post_release() is O(1): one CAS;
/// post_releases() one CAS for the whole batch.
///
/// Misuse (see usage_error.hpp): release() (and so a posted release, when applied) refuses, changing nothing and
/// returning false, an assignment whose device is not in the plan, or that would wrap a load (fleet.hpp); always
/// on. post_releases() refuses a batch larger than the inbox. An assignment of another partition is asserted,
/// and in checked mode every call that takes one throws usage_error for it.
///
/// @code
/// joulesched::partition_plan plan(params, threads);                 // shared, read-only
/// // router thread t:
/// joulesched::partitioned_router<joulesched::joulesched_cost> router(plan, t, joulesched::joulesched_cost(10.0));
/// auto a = router.route(view);                                       // a->device is a fleet-wide id
/// // any thread, when the request completes:
/// while (!routers[plan.owner(a->device)]->post_release(*a)) std::this_thread::yield();  // full: owner is behind
/// @endcode
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/detail/mpsc_ring.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"
#include "joulesched/routing/argmin_router.hpp"
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief Which partition owns each device, and the device's id inside it. Immutable after construction, so
/// any number of threads may read it.
class partition_plan {
 public:
  /// @brief Deals the devices into `parts` partitions: devices sorted by class (equal parameters, as fleet
  /// groups them), then dealt round-robin, so each partition gets every class's devices to within one.
  /// @throws config_error naming the device and field for a bad parameter, or when parts is 0 or more than
  ///         the number of devices.
  partition_plan(std::vector<device_params> params, std::size_t parts, std::string_view source = "partition_plan")
      : params_(std::move(params)) {
    if (parts == 0 || parts > params_.size())
      detail::fail(source, "parts", parts,
                   "must be >= 1 and <= the number of devices (" + std::to_string(params_.size()) + ")");
    const fleet grouped(params_, source, fleet_index::none);  // checks every device and finds the classes
    std::vector<device_id> order(params_.size());
    std::iota(order.begin(), order.end(), device_id{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](device_id a, device_id b) { return grouped.class_of(a) < grouped.class_of(b); });
    owner_.resize(params_.size());
    local_.resize(params_.size());
    members_.resize(parts);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto part = static_cast<std::uint32_t>(k % parts);
      owner_[order[k]] = part;
      local_[order[k]] = static_cast<device_id>(members_[part].size());
      members_[part].push_back(order[k]);
    }
  }

  [[nodiscard]] std::size_t parts() const noexcept { return members_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return params_.size(); }
  /// The partition that owns a device (fleet-wide id). Precondition: id < size() (checked mode: usage_error).
  [[nodiscard]] std::uint32_t owner(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < owner_.size(), "partition_plan::owner", "device", id, "must be < size()");
    return owner_[id];
  }
  /// The device's id inside its partition. Precondition: id < size() (checked mode: usage_error).
  [[nodiscard]] device_id local_id(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < local_.size(), "partition_plan::local_id", "device", id, "must be < size()");
    return local_[id];
  }
  /// A partition's devices, fleet-wide ids, in the order of their ids inside it. Precondition: part < parts()
  /// (checked mode: usage_error).
  [[nodiscard]] std::span<const device_id> members(std::size_t part) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(part < members_.size(), "partition_plan::members", "part", part, "must be < parts()");
    return members_[part];
  }
  /// The parameters of a partition's devices, in the same order. Precondition: part < parts() (checked mode:
  /// usage_error).
  [[nodiscard]] std::vector<device_params> member_params(std::size_t part) const {
    JOULESCHED_EXPECTS(part < members_.size(), "partition_plan::member_params", "part", part, "must be < parts()");
    std::vector<device_params> ps;
    ps.reserve(members_[part].size());
    for (const device_id id : members_[part]) ps.push_back(params_[id]);
    return ps;
  }

 private:
  std::vector<device_params> params_;
  std::vector<std::uint32_t> owner_;
  std::vector<device_id> local_;
  std::vector<std::vector<device_id>> members_;
};

/// @brief The router of one partition: an exact argmin_router over the partition's own fleet.
///
/// Thread safety: route(), release(), apply_posted(), set_available() and the accessors from the owning
/// thread only (one thread at a time); post_release() and post_releases() from any thread. Different
/// partitions' routers share nothing but the (read-only) plan, which must outlive them.
template <CostModel Cost>
class partitioned_router {
 public:
  /// Releases the inbox holds unless the constructor is told otherwise (rounded up to a power of two).
  static constexpr std::size_t default_inbox_capacity = 4096;

  /// @param inbox_capacity posted releases that may wait at once (rounded up to a power of two, and to at
  ///        least 2): at least the requests of this partition that can complete between two of the owner's
  ///        route() or apply_posted() calls.
  /// @throws config_error when part is not a partition of the plan, or inbox_capacity is 0 or above 2^40.
  partitioned_router(const partition_plan& plan, std::size_t part, Cost cost = Cost{},
                     std::size_t inbox_capacity = default_inbox_capacity)
      : plan_(&plan),
        part_(checked_part(plan, part)),
        fleet_(plan.member_params(part), "partition " + std::to_string(part)),
        router_(fleet_, std::move(cost)),
        inbox_(checked_capacity(inbox_capacity)) {}

  partitioned_router(const partitioned_router&) = delete;
  partitioned_router& operator=(const partitioned_router&) = delete;

  /// @brief Applies the releases posted so far, then chooses the partition's least costly device (cost, then
  /// less reserved work, then lower id inside the partition) and reserves the request's work on it.
  /// Returns: the assignment with the fleet-wide device id, or empty when no device of the partition is
  /// available. Throws: nothing. No allocation.
  [[nodiscard]] std::optional<assignment> route(const request_view& v) JOULESCHED_HOT_NOEXCEPT {
    apply_posted();
    std::optional<assignment> a = router_.route(v);
    if (a) a->device = plan_->members(part_)[a->device];
    return a;
  }

  /// @brief (owner thread) Gives back the work of an assignment of this partition at once.
  /// Precondition: plan.owner(a.device) is this partition and `a` was not released before.
  /// Returns: true; false, changing nothing, when a.device is not a device of the plan or the release would wrap
  /// the device's load (fleet::release; checked mode: usage_error).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT {
    if (a.device >= plan_->size()) {
      detail::misuse("partitioned_router::release", "device", a.device, "must be < the plan's size()");
      return false;
    }
    expect_owned(a, "partitioned_router::release");
    return fleet_.release(assignment{plan_->local_id(a.device), a.work_ns});
  }

  /// @brief (any thread) Posts a release for the owner to apply on its next route() or apply_posted().
  /// Returns: false, posting nothing, when the inbox is full (inbox_capacity() releases wait: the owner has
  /// not routed or applied for a while); the caller keeps the assignment and posts it again later.
  /// Precondition: plan.owner(a.device) is this partition and `a` was not released before.
  [[nodiscard]] bool post_release(const assignment& a) JOULESCHED_HOT_NOEXCEPT {
    expect_owned(a, "partitioned_router::post_release");
    return inbox_.push(a);
  }

  /// @brief (any thread) Posts several releases at once (all or none), e.g. the requests one engine step
  /// completed: one CAS, and the owner reads them a cache line at a time.
  /// Returns: false, posting nothing, when fewer than as.size() places are free in the inbox, or always when
  /// as.size() > inbox_capacity() (checked mode: usage_error).
  /// Preconditions: every assignment belongs to this partition, none released.
  [[nodiscard]] bool post_releases(std::span<const assignment> as) JOULESCHED_HOT_NOEXCEPT {
    for (const assignment& a : as) expect_owned(a, "partitioned_router::post_releases");
    if (as.size() > inbox_.capacity()) {
      detail::misuse("partitioned_router::post_releases", "size", as.size(), "must be <= inbox_capacity()");
      return false;
    }
    return inbox_.push_all(as);
  }

  /// @brief (owner thread) Applies the releases posted so far. Returns how many it took from the inbox (a
  /// refused one included: see release()).
  std::size_t apply_posted() JOULESCHED_HOT_NOEXCEPT {
    std::size_t n = 0;
    for (assignment a; inbox_.pop(a); ++n) release(a);
    return n;
  }

  [[nodiscard]] std::size_t inbox_capacity() const noexcept { return inbox_.capacity(); }

  /// @brief (owner thread) Drains (false) or restores (true) a device of this partition. No effect when id is
  /// not a device of the plan (checked mode: usage_error). Precondition (asserted; checked mode: usage_error):
  /// plan.owner(id) is this partition.
  void set_available(device_id id, bool on) JOULESCHED_HOT_NOEXCEPT {
    if (id >= plan_->size())
      return detail::misuse("partitioned_router::set_available", "id", id, "must be < the plan's size()");
    expect_owned(assignment{id, 0}, "partitioned_router::set_available");
    fleet_.set_available(plan_->local_id(id), on);
  }

  [[nodiscard]] std::size_t part() const noexcept { return part_; }
  /// The partition's own state; its device ids are local (see partition_plan::local_id).
  [[nodiscard]] const fleet& state() const noexcept { return fleet_; }
  [[nodiscard]] Cost& cost() noexcept { return router_.cost(); }

 private:
  // Asserted; checked mode: usage_error unless a.device is a device of this partition.
  void expect_owned([[maybe_unused]] const assignment& a,
                    [[maybe_unused]] std::string_view call) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(a.device < plan_->size() && plan_->owner(a.device) == part_, call, "device", a.device,
                       "must be a device of this partition");
  }

  static std::size_t checked_part(const partition_plan& plan, std::size_t part) {
    if (part >= plan.parts())
      detail::fail("partitioned_router", "part", part, "must be < parts() (" + std::to_string(plan.parts()) + ")");
    return part;
  }
  static std::size_t checked_capacity(std::size_t c) {
    if (c == 0 || c > (std::size_t{1} << 40))
      detail::fail("partitioned_router", "inbox_capacity", c, "must be in [1, 2^40]");
    return c;
  }

  const partition_plan* plan_;
  std::size_t part_;
  fleet fleet_;
  argmin_router<Cost> router_;
  detail::mpsc_ring<assignment> inbox_;
};

}  // namespace joulesched
