/// @file concurrent_fleet.hpp
/// @brief The routing state of a fleet shared by many threads: per-device load in padded atomics, each class
/// of identical devices split into shards whose least-loaded device is published in one atomic word, and the
/// device parameters in an immutable snapshot swapped through an atomic pointer.
///
/// Use it when several threads route (concurrent_argmin_router, concurrent_power_of_d_router in
/// routing/concurrent_router.hpp) while completions release load from other threads. Do not use it from one
/// thread only: fleet.hpp is simpler and faster there.
///
/// Design, in two lines: a class is split into shards of at most 64 devices, each a small heap of (queued
/// tokens, id) behind a try-lock with its top published in a 64-bit word (40 bits of load, 24 of id);
/// parameters, availability and classes live in a snapshot that writers copy, change and swap.
///
/// Release path: release() (and reserve(), which power-of-d uses) changes the device's atomic load, sets the
/// device's bit in its shard's 64-bit pending mask and try-locks the shard: if it gets the lock it applies the
/// change itself; if not, the holder applies it before it unlocks, or (if it arrived later) right after, by
/// checking the mask again (see detail/concurrent_shard.hpp). Nobody waits, and no change is left behind.
///
/// Cost: reserve() and release() are two atomic adds on the device's line plus one atomic or on its shard, and
/// apply the change under the shard's lock when it is free (O(log 64)); they never wait. In relaxed mode (for
/// power-of-d only) they are the two atomic adds alone. Writers (set_available, set_params) take a mutex, copy
/// the snapshot (O(n)) and spin briefly on one or two shard locks.
///
/// Snapshot reclamation: hazard pointers. Each router holds a `reader`, which owns one of max_readers slots
/// and announces in it the snapshot it reads. A write publishes a new snapshot, retires the old one, and frees
/// every retired snapshot that no slot announces. So at most max_readers + 1 snapshots are alive, however
/// many writes there are (snapshot_count() reports them). A reader's announcement stays until its next read,
/// so its steady-state cost is one acquire load and a compare: it stores only after a write.
/// Releases do not read snapshots: each device's line holds where its load changes are posted (`home`).
///
/// Misuse (see usage_error.hpp), as fleet.hpp: release() refuses, changing nothing and returning false, an
/// assignment whose device is out of range or that would take the device's tokens or requests below zero (a
/// second release), and never lets a load wrap even for a moment (it compares and swaps); always on. The
/// writers already throw config_error for a bad id. reserve() and the readers assert their id, and throw
/// usage_error in checked mode.
///
/// Unlike fleet: set_available() (and drain, undrain, set_params) with an id out of range throws config_error
/// in both modes, where fleet::set_available ignores it (and throws usage_error only in checked mode). The
/// writers take a mutex and allocate anyway, so the check costs nothing that matters there.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "joulesched/concepts.hpp"
#include "joulesched/detail/concurrent_shard.hpp"
#include "joulesched/error.hpp"
#include "joulesched/fleet.hpp"  // checked, params_of
#include "joulesched/types.hpp"
#include "joulesched/usage_error.hpp"

namespace joulesched {

/// @brief What a concurrent_fleet keeps up to date as loads change.
enum class concurrent_mode : std::uint8_t {
  /// Shard heaps follow every load change, so both routers work. reserve() and release() post the change to
  /// the device's shard and apply it there when its lock is free.
  exact,
  /// Loads only: reserve() and release() are two atomic adds on the device's own cache line and touch no shard,
  /// so threads share nothing else. Only concurrent_power_of_d_router may route; concurrent_argmin_router
  /// refuses such a state (its shard tops would be stale).
  relaxed,
};

/// @brief The state a fleet's concurrent routers share. Thread-safe; see each member for what it guarantees.
///
/// Drain guarantee: once drain(id) (or set_available(id, false)) has returned, no decision that starts after
/// that return picks device id, until undrain(id) is called. The writer publishes the new snapshot (power-of-d
/// routers draw from its list of available devices) and then, under the shard's lock, takes the device out of
/// its shard's heap (exact routers reserve only the heap top under that lock), both before returning.
class concurrent_fleet {
 public:
  /// At most 2^24 - 1 devices: a device id takes 24 bits of a shard's top word.
  static constexpr std::size_t max_devices = std::size_t{detail::top_word::max_id} + 1;
  /// Backlogs up to 2^40 - 1 ns (about 18 minutes) publish exactly; above, routers see ties (still safe, no
  /// longer exact).
  static constexpr std::uint64_t max_exact_load_ns = detail::top_word::max_load_ns;
  /// At most 64 devices per shard: a shard's pending changes are one bit per device in a 64-bit word.
  static constexpr std::uint32_t max_devices_per_shard = detail::concurrent_shard::capacity;
  /// Shards per class when none is given: enough for a few router threads to find different shards free.
  static constexpr std::uint32_t default_shards_per_class = 4;
  /// Readers (router objects) that may exist at once over one fleet: one hazard slot each.
  static constexpr std::size_t max_readers = 256;

  /// @brief What routers read: an immutable picture of parameters, availability and classes.
  struct snapshot {
    struct device_entry {
      std::uint32_t class_index = 0;  ///< into class_params
      std::uint32_t shard_index = 0;  ///< into shards
      std::uint32_t slot = 0;         ///< the device's slot in its shard
      bool available = true;
    };
    struct class_entry {
      device_params params;           ///< every device of the class has exactly these
      std::uint32_t first_shard = 0;  ///< the class's shards are class_shards[first_shard, end_shard)
      std::uint32_t end_shard = 0;
    };
    std::uint64_t version = 0;                            ///< 0 at construction, +1 per write
    std::vector<device_entry> devices;                    ///< by device id
    std::vector<device_params> class_params;              ///< by class index (every class ever seen)
    std::vector<class_entry> classes;                     ///< classes with at least one device: routers scan these
    std::vector<detail::concurrent_shard*> class_shards;  ///< grouped by class, see class_entry
    std::vector<detail::concurrent_shard*> shards;        ///< by shard index
    std::vector<device_id> available_ids;                 ///< ascending
  };

  /// @brief Builds the state from an engine's devices; device i of the range gets id i. All loads start at 0.
  /// @param shards_per_class how many shards a class is split into (fewer when the class is smaller; more when
  ///        it has over 64 devices per shard). About the number of router threads that compete for one class.
  /// @param mode exact (the default: both routers) or relaxed (power-of-d only, nothing shared but the loads).
  /// @throws config_error naming the device and field when a parameter is out of range, when there are more
  ///         than max_devices devices, or when shards_per_class is 0.
  template <std::ranges::input_range R>
    requires Device<std::ranges::range_value_t<R>>
  explicit concurrent_fleet(R&& devices, std::uint32_t shards_per_class = default_shards_per_class,
                            concurrent_mode mode = concurrent_mode::exact, std::string_view source = "concurrent_fleet")
      : mode_(mode) {
    std::vector<device_params> ps;
    std::size_t i = 0;
    for (const auto& d : devices) {
      ps.push_back(checked(params_of(d), std::string(source) + ": device " + std::to_string(i)));
      ++i;
    }
    init(std::move(ps), shards_per_class, source);
  }

  /// @brief As above, from parameters. @throws config_error as above.
  explicit concurrent_fleet(std::vector<device_params> ps, std::uint32_t shards_per_class = default_shards_per_class,
                            concurrent_mode mode = concurrent_mode::exact, std::string_view source = "concurrent_fleet")
      : mode_(mode) {
    for (std::size_t i = 0; i < ps.size(); ++i) checked(ps[i], std::string(source) + ": device " + std::to_string(i));
    init(std::move(ps), shards_per_class, source);
  }

  /// @brief A state whose devices move between operating points at run time (set_point), as fleet's: device i
  /// starts at tables[devices[i].table][devices[i].point]. A point's class is made the first time a device
  /// takes it, so the classes are at most the tables' distinct points.
  /// @throws config_error as fleet's constructor from tables, and as above.
  concurrent_fleet(std::vector<operating_points> tables, const std::vector<device_point>& devices,
                   std::uint32_t shards_per_class = default_shards_per_class,
                   concurrent_mode mode = concurrent_mode::exact, std::string_view source = "concurrent_fleet")
      : mode_(mode) {
    std::vector<device_params> ps = detail::params_at_points(tables, devices, source);
    tables_ = std::move(tables);
    points_ = devices;
    init(std::move(ps), shards_per_class, source);
  }

  concurrent_fleet(const concurrent_fleet&) = delete;
  concurrent_fleet& operator=(const concurrent_fleet&) = delete;

 private:
  struct alignas(detail::cache_line_bytes) reader_slot {
    std::atomic<const snapshot*> hazard{nullptr};
    std::atomic<bool> taken{false};
  };

 public:
  /// @brief A thread's handle for reading snapshots: owns one hazard slot of the fleet (see the file note).
  /// One reader per thread at a time; a router holds one. Copying claims another slot; moving hands it over.
  class reader {
   public:
    /// @throws config_error when all max_readers slots are taken.
    explicit reader(const concurrent_fleet& f) : fleet_(&f), slot_(f.claim_slot()) {}
    reader(const reader& o) : reader(*o.fleet_) {}
    reader(reader&& o) noexcept : fleet_(o.fleet_), slot_(std::exchange(o.slot_, nullptr)) {}
    reader& operator=(reader o) noexcept {
      std::swap(fleet_, o.fleet_);
      std::swap(slot_, o.slot_);
      return *this;
    }
    ~reader() {
      if (slot_ == nullptr) return;
      slot_->hazard.store(nullptr, std::memory_order_release);
      slot_->taken.store(false, std::memory_order_release);
    }

    /// @brief The current snapshot, valid (unchanged, not freed) until this reader's next read() or its end.
    /// Complexity: one acquire load and a compare when nothing was written since the last read; else a
    /// seq_cst store and load per attempt (a writer in between makes it try again). No allocation, no lock.
    [[nodiscard]] const snapshot& read() const noexcept {
      const snapshot* p = fleet_->current_.load(std::memory_order_acquire);
      if (p == slot_->hazard.load(std::memory_order_relaxed)) return *p;  // announced since, so never freed
      for (;;) {
        slot_->hazard.store(p, std::memory_order_seq_cst);
        const snapshot* q = fleet_->current_.load(std::memory_order_seq_cst);
        if (q == p) return *p;
        p = q;
      }
    }

   private:
    const concurrent_fleet* fleet_;
    reader_slot* slot_;
  };

  // ---- Reading. ----

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] concurrent_mode mode() const noexcept { return mode_; }

  /// @brief The current snapshot, for a thread that no other thread writes against (tests, a single writer
  /// between its writes). It is freed by a later write; routers read through a `reader` instead.
  [[nodiscard]] const snapshot& current() const noexcept { return *current_.load(std::memory_order_acquire); }

  /// The device's parameters now. Any thread; takes the writers' mutex.
  [[nodiscard]] device_params params(device_id id) const {
    JOULESCHED_EXPECTS(id < size_, "concurrent_fleet::params", "id", id, "must be < size()");
    const std::lock_guard guard(writer_);
    return classes_[dev_[id].class_index].params;
  }

  /// Whether the device takes work now. Any thread; takes the writers' mutex.
  [[nodiscard]] bool available(device_id id) const {
    JOULESCHED_EXPECTS(id < size_, "concurrent_fleet::available", "id", id, "must be < size()");
    const std::lock_guard guard(writer_);
    return dev_[id].available;
  }

  /// @brief The device's reserved load now (two relaxed loads: the fields may be from slightly different times).
  [[nodiscard]] device_load load(device_id id) const JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size_, "concurrent_fleet::load", "id", id, "must be < size()");
    const auto& l = loads_[id];
    return device_load{l.reserved_ns.load(std::memory_order_relaxed), l.requests.load(std::memory_order_relaxed)};
  }

  /// Classes with at least one device (available or not). Any thread; takes the writers' mutex.
  [[nodiscard]] std::size_t class_count() const {
    const std::lock_guard guard(writer_);
    return static_cast<std::size_t>(
        std::ranges::count_if(classes_, [](const class_record& c) { return c.members > 0; }));
  }
  /// Shards of those classes. Any thread; takes the writers' mutex.
  [[nodiscard]] std::size_t shard_count() const {
    const std::lock_guard guard(writer_);
    std::size_t n = 0;
    for (const class_record& c : classes_)
      if (c.members > 0) n += c.shards.size();
    return n;
  }

  // ---- Load: any thread, never waits. ----

  /// @brief Reserves `work_ns` device-nanoseconds and one request on a device chosen elsewhere (power-of-d does this).
  /// Effects: the load grows at once; in exact mode the device's shard heap learns it now if its lock is free,
  /// else from its holder before that unlocks. Complexity: O(1), plus O(log 64) when it applies the change.
  /// Throws: nothing. Precondition (checked mode: usage_error): id < size().
  void reserve(device_id id, std::uint64_t work_ns) JOULESCHED_HOT_NOEXCEPT {
    JOULESCHED_EXPECTS(id < size_, "concurrent_fleet::reserve", "id", id, "must be < size()");
    auto& l = loads_[id];
    // seq_cst, with the snapshot load in notify(): see set_params for why a move between shards needs it.
    l.reserved_ns.fetch_add(work_ns, std::memory_order_seq_cst);
    l.requests.fetch_add(1, std::memory_order_relaxed);
    notify(id);
  }

  /// @brief Gives back the work of an assignment (on completion or cancellation), from any thread.
  /// Precondition: `a` came from a router over this state and was not released before.
  /// Returns: true; false, changing nothing, when a.device >= size() or the device has no request or fewer than
  /// a.work_ns nanoseconds reserved (a second release; checked mode: usage_error).
  /// Effects and complexity: as reserve(). Throws: nothing (checked mode: usage_error).
  bool release(const assignment& a) JOULESCHED_HOT_NOEXCEPT {
    if (a.device >= size_) {
      detail::misuse("concurrent_fleet::release", "device", a.device, "must be < size()");
      return false;
    }
    auto& l = loads_[a.device];
    // The request first, then the work, each taken only if it is there (compare and swap rather than a
    // subtraction that could wrap): no reader ever sees a wrapped load.
    std::uint32_t requests = l.requests.load(std::memory_order_relaxed);
    do {
      if (requests == 0) [[unlikely]] {
        detail::misuse("concurrent_fleet::release", "device", a.device, "has no request reserved (released twice?)");
        return false;
      }
    } while (!l.requests.compare_exchange_weak(requests, requests - 1, std::memory_order_relaxed));
    std::uint64_t ns = l.reserved_ns.load(std::memory_order_relaxed);
    do {
      if (ns < a.work_ns) [[unlikely]] {
        l.requests.fetch_add(1, std::memory_order_relaxed);
        detail::misuse("concurrent_fleet::release", "work_ns", a.work_ns,
                       "must not exceed the device's reserved work (released twice?)");
        return false;
      }
      // seq_cst, as reserve(): see set_params.
    } while (
        !l.reserved_ns.compare_exchange_weak(ns, ns - a.work_ns, std::memory_order_seq_cst, std::memory_order_relaxed));
    notify(a.device);
    return true;
  }

  // ---- Writing: any thread; writers are serialised by a mutex and may allocate. ----

  /// @brief Drains (false) or restores (true) a device. A drained device keeps its load, so work already
  /// assigned can still be released. See the class note for the drain guarantee.
  /// Complexity: O(n) (a new snapshot) plus a brief spin on the device's shard lock.
  /// @throws config_error when id is out of range; std::bad_alloc, and then nothing changed.
  void set_available(device_id id, bool on) {
    check_id(id, "set_available");
    const std::lock_guard guard(writer_);
    if (dev_[id].available == on) return;
    dev_[id].available = on;
    try {
      publish(build_snapshot());
    } catch (...) {
      dev_[id].available = !on;
      throw;
    }
    detail::concurrent_shard& s = *shards_[dev_[id].shard_index];
    const std::uint32_t slot = dev_[id].slot;
    s.lock_spin();
    s.apply_pending();
    if (on) {
      s.insert(slot);
    } else {
      s.erase(slot);
    }
    s.unlock();
  }

  /// set_available(id, false).
  void drain(device_id id) { set_available(id, false); }
  /// set_available(id, true).
  void undrain(device_id id) { set_available(id, true); }

  /// @brief Re-profiles a device: it moves to the class of its new parameters (a new class if none has them).
  /// Effects: the device leaves its shard, a new snapshot is published, then it joins a shard of its new class
  /// with its current load (if available). Between the first and last step exact routers do not see it.
  /// Why in this order: a release that read the device's old home posts to the old shard; its seq_cst load
  /// change comes before its home read, which comes before the new home is stored, which comes before the new
  /// shard reads the load, so the new shard's key includes it.
  /// Complexity: O(n + classes + shards). @throws config_error for a bad id or parameter, or on a state built
  /// with operating points (nothing changed); std::bad_alloc (the device is unchanged; an unused class or shard
  /// may remain).
  void set_params(device_id id, const device_params& p) {
    check_id(id, "set_params");
    if (!tables_.empty())
      detail::fail("concurrent_fleet::set_params", "device id", id,
                   "is in a state built with operating points: move it with set_point");
    const device_params np = checked(p, "concurrent_fleet::set_params: device " + std::to_string(id));
    const std::lock_guard guard(writer_);
    move_to(id, np);
  }

  /// @brief Moves a device to another point of its table (a clock or power cap change): set_params with the
  /// point's parameters. Routers see it at their next decision and stay exact.
  /// @throws config_error for a bad id, a state built without tables, or a point outside the device's table
  /// (nothing changed); std::bad_alloc as set_params.
  void set_point(device_id id, std::uint32_t point) {
    check_id(id, "set_point");
    const std::lock_guard guard(writer_);
    if (tables_.empty())
      detail::fail("concurrent_fleet::set_point", "tables", "none", "the state was built without operating points");
    device_point& at = points_[id];
    if (point >= tables_[at.table].size())
      detail::fail("concurrent_fleet::set_point", "point", point,
                   "must be < the device's table size (" + std::to_string(tables_[at.table].size()) + ")");
    move_to(id, tables_[at.table][point]);
    at.point = point;
  }

  /// The table and point a device is at; {0, 0} for a state built without tables. Takes the writers' mutex.
  /// @throws config_error for a bad id.
  [[nodiscard]] device_point point_of(device_id id) const {
    check_id(id, "point_of");
    const std::lock_guard guard(writer_);
    return points_.empty() ? device_point{} : points_[id];
  }

  /// The operating-point tables the state was built with (empty without); fixed for its life.
  [[nodiscard]] std::span<const operating_points> tables() const noexcept { return tables_; }

 private:
  // set_params under the writers' lock.
  void move_to(device_id id, const device_params& np) {
    const snapshot::device_entry old = dev_[id];
    if (classes_[old.class_index].params == np) return;

    std::uint32_t k = 0;
    while (k < classes_.size() && !(classes_[k].params == np)) ++k;
    if (k == classes_.size()) classes_.push_back(class_record{np, {}, 0});
    const auto [shard_index, slot] = free_slot(k);

    snapshot::device_entry moved = old;
    moved.class_index = k;
    moved.shard_index = shard_index;
    moved.slot = slot;
    dev_[id] = moved;
    move_counts(old, moved);
    std::unique_ptr<snapshot> next;
    try {
      publish_prepare();
      next = build_snapshot();
    } catch (...) {
      move_counts(moved, old);
      dev_[id] = old;
      throw;
    }

    detail::concurrent_shard& from = *shards_[old.shard_index];
    from.lock_spin();
    from.apply_pending();
    if (from.in_heap(old.slot)) from.erase(old.slot);
    from.clear_member(old.slot);
    from.unlock();

    set_home(id);
    publish(std::move(next));  // cannot throw: room was made above

    detail::concurrent_shard& to = *shards_[shard_index];
    to.lock_spin();
    to.apply_pending();
    to.set_member(slot, id);
    if (moved.available) to.insert(slot);
    to.unlock();
  }

 public:
  // ---- For tests and debugging. ----

  /// @brief Snapshots alive: the current one and the retired ones a reader still announced at the last write.
  /// At most max_readers + 1. Complexity: O(1).
  [[nodiscard]] std::size_t snapshot_count() const {
    const std::lock_guard guard(writer_);
    return 1 + retired_.size();
  }

  /// @brief True when every shard's heap holds exactly the available devices of its slots and, in exact mode,
  /// no load change is left pending, the heaps are ordered by the true loads and their true tops are published.
  /// Precondition: no other thread reserves, releases or writes meanwhile. Complexity: O(n + shards).
  [[nodiscard]] bool consistent() const {
    const std::lock_guard guard(writer_);
    bool ok = true;
    if (mode_ == concurrent_mode::exact) {
      for (const auto& s : shards_) {
        s->lock_spin();
        ok = ok && s->consistent();
        s->unlock();
      }
    }
    for (device_id id = 0; id < size_; ++id) {
      const auto& d = dev_[id];
      const detail::concurrent_shard& s = *shards_[d.shard_index];
      ok = ok && s.member(d.slot) == id && s.in_heap(d.slot) == d.available;
    }
    return ok;
  }

 private:
  struct class_record {
    device_params params;
    std::vector<std::uint32_t> shards;  // shard indices
    std::uint32_t members = 0;
  };

  void check_id(device_id id, std::string_view what) const {
    if (id >= size_) detail::fail("concurrent_fleet::" + std::string(what), "device id", id, "must be < size()");
  }

  void init(std::vector<device_params> ps, std::uint32_t shards_per_class, std::string_view source) {
    if (ps.size() > max_devices)
      detail::fail(source, "size", ps.size(), "must be <= 2^24 - 1 (device ids take 24 bits of a shard's top word)");
    if (shards_per_class == 0) detail::fail(source, "shards_per_class", shards_per_class, "must be >= 1");
    size_ = static_cast<device_id>(ps.size());
    loads_ = std::make_unique<detail::concurrent_device_load[]>(size_);
    dev_.assign(size_, snapshot::device_entry{});

    // Group equal parameters as fleet does: sort ids by parameters, cut where they change.
    const std::vector<device_id> order = detail::ids_by_params(ps);
    for (std::size_t begin = 0; begin < order.size();) {
      std::size_t end = begin + 1;
      while (end < order.size() && ps[order[end]] == ps[order[begin]]) ++end;
      const auto k = static_cast<std::uint32_t>(classes_.size());
      const auto members = static_cast<std::uint32_t>(end - begin);
      const std::uint32_t shard_count =
          std::max(std::min(shards_per_class, members), (members + max_devices_per_shard - 1) / max_devices_per_shard);
      classes_.push_back(class_record{ps[order[begin]], {}, members});
      for (std::uint32_t j = 0; j < shard_count; ++j) add_shard(k);
      // Deal the class's devices (ascending id) round-robin over its shards.
      for (std::uint32_t m = 0; m < members; ++m) {
        const device_id id = order[begin + m];
        const std::uint32_t shard_index = classes_[k].shards[m % shard_count];
        dev_[id] = snapshot::device_entry{k, shard_index, m / shard_count, true};
        set_home(id);
        ++shard_members_[shard_index];
        detail::concurrent_shard& s = *shards_[shard_index];
        s.lock_spin();
        s.set_member(dev_[id].slot, id);
        s.insert(dev_[id].slot);
        s.unlock();
      }
      begin = end;
    }
    publish_prepare();
    publish(build_snapshot());
  }

  std::uint32_t add_shard(std::uint32_t k) {
    auto s = std::make_unique<detail::concurrent_shard>(loads_.get());
    shards_.reserve(shards_.size() + 1);
    shard_members_.reserve(shards_.size() + 1);
    classes_[k].shards.reserve(classes_[k].shards.size() + 1);
    const auto index = static_cast<std::uint32_t>(shards_.size());
    shards_.push_back(std::move(s));
    shard_members_.push_back(0);
    classes_[k].shards.push_back(index);
    return index;
  }

  /// A shard of class k with a free slot (the one with fewest members; a new one if all are full), and the slot.
  std::pair<std::uint32_t, std::uint32_t> free_slot(std::uint32_t k) {
    std::uint32_t best = 0;
    bool found = false;
    for (const std::uint32_t s : classes_[k].shards) {
      if (shard_members_[s] < max_devices_per_shard && (!found || shard_members_[s] < shard_members_[best])) {
        best = s;
        found = true;
      }
    }
    if (!found) best = add_shard(k);
    // Only this writer changes members, so reading them without the shard's lock races with nothing.
    const detail::concurrent_shard& s = *shards_[best];
    std::uint32_t slot = 0;
    while (s.member(slot) != detail::concurrent_shard::no_member) ++slot;
    return {best, slot};
  }

  void move_counts(const snapshot::device_entry& from, const snapshot::device_entry& to) noexcept {
    --classes_[from.class_index].members;
    --shard_members_[from.shard_index];
    ++classes_[to.class_index].members;
    ++shard_members_[to.shard_index];
  }

  [[nodiscard]] std::unique_ptr<snapshot> build_snapshot() const {
    auto s = std::make_unique<snapshot>();
    s->version = current_owned_ ? current_owned_->version + 1 : 0;
    s->devices = dev_;
    s->class_params.reserve(classes_.size());
    for (const auto& c : classes_) {
      s->class_params.push_back(c.params);
      if (c.members == 0) continue;
      const auto first = static_cast<std::uint32_t>(s->class_shards.size());
      for (const std::uint32_t i : c.shards) s->class_shards.push_back(shards_[i].get());
      s->classes.push_back(snapshot::class_entry{c.params, first, static_cast<std::uint32_t>(s->class_shards.size())});
    }
    s->shards.reserve(shards_.size());
    for (const auto& sh : shards_) s->shards.push_back(sh.get());
    for (device_id id = 0; id < size_; ++id)
      if (dev_[id].available) s->available_ids.push_back(id);
    return s;
  }

  /// Makes room to retire one more snapshot, so that publish() cannot throw.
  void publish_prepare() { retired_.reserve(retired_.size() + 1); }

  /// Makes `s` current, retires the old one and frees every retired snapshot no reader announces. Throws only
  /// when publish_prepare() was not called first. seq_cst: see set_params, and the reader's announcement.
  void publish(std::unique_ptr<snapshot> s) {
    publish_prepare();  // a no-op when room was made already
    current_.store(s.get(), std::memory_order_seq_cst);
    if (current_owned_) retired_.push_back(std::move(current_owned_));
    current_owned_ = std::move(s);
    // A reader that announced a retired snapshot before this point keeps it; one announcing after it re-reads
    // current_ and finds the new one (both seq_cst), so it never uses what is freed here.
    std::erase_if(retired_, [this](const std::unique_ptr<snapshot>& r) {
      for (std::size_t i = 0; i < max_readers; ++i)
        if (slots_[i].hazard.load(std::memory_order_seq_cst) == r.get()) return false;
      return true;
    });
  }

  [[nodiscard]] reader_slot* claim_slot() const {
    for (std::size_t i = 0; i < max_readers; ++i) {
      bool free = false;
      if (!slots_[i].taken.load(std::memory_order_relaxed) &&
          slots_[i].taken.compare_exchange_strong(free, true, std::memory_order_acq_rel))
        return &slots_[i];
    }
    detail::fail("concurrent_fleet", "readers", max_readers,
                 "are all taken: at most max_readers routers may read one fleet at once");
  }

  // Writer only: publishes where the device's load changes are posted: its shard's address, whose low 6 bits
  // are 0 (shards are cache-line aligned), or'ed with its slot (< 64). Shards live as long as the fleet.
  static_assert(alignof(detail::concurrent_shard) >= detail::concurrent_shard::capacity);
  void set_home(device_id id) noexcept {
    const auto& d = dev_[id];
    const auto shard = reinterpret_cast<std::uintptr_t>(shards_[d.shard_index].get());
    loads_[id].home.store(std::uint64_t{shard} | d.slot, std::memory_order_seq_cst);
  }

  // seq_cst, with the load change before it: see set_params.
  void notify(device_id id) noexcept {
    if (mode_ == concurrent_mode::relaxed) return;
    const std::uint64_t home = loads_[id].home.load(std::memory_order_seq_cst);
    constexpr std::uint64_t slot_mask = detail::concurrent_shard::capacity - 1;
    reinterpret_cast<detail::concurrent_shard*>(static_cast<std::uintptr_t>(home & ~slot_mask))
        ->notify(static_cast<std::uint32_t>(home & slot_mask));
  }

  concurrent_mode mode_;
  device_id size_ = 0;
  std::unique_ptr<detail::concurrent_device_load[]> loads_;
  std::atomic<const snapshot*> current_{nullptr};

  // The writer's side, under writer_.
  mutable std::mutex writer_;
  std::vector<snapshot::device_entry> dev_;
  std::vector<class_record> classes_;
  std::vector<std::unique_ptr<detail::concurrent_shard>> shards_;
  std::vector<std::uint32_t> shard_members_;
  std::unique_ptr<snapshot> current_owned_;         // what current_ points to
  std::vector<std::unique_ptr<snapshot>> retired_;  // replaced, still announced by a reader at the last write
  mutable std::array<reader_slot, max_readers> slots_{};
  std::vector<operating_points> tables_;  // fixed after construction
  std::vector<device_point> points_;      // by device id, when tables_ is not empty; under writer_
};

}  // namespace joulesched
