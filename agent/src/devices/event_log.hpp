// The agent's memory of udev events: a reorder stage that releases events in
// sequence-number order, and a bounded ring of released events that
// subscribers read through cursors and replay from after a reconnect.
//
// udevd broadcasts an event when its worker finishes, and workers for
// unrelated devices run in parallel, so events can reach the agent out of
// SEQNUM order. The orderer holds an event while an earlier number is
// missing, for at most `window`: a number may never come (the kernel's
// sequence is guest-wide; udevd does not see uevents of other network
// namespaces, and drops some when its own buffer overflows).
//
// Pure logic, clock passed in: unit-testable without udev.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <vector>

#include "devices/device_info.hpp"

namespace tether::agent::devices {

using steady_clock = std::chrono::steady_clock;

class seqnum_orderer {
 public:
  // `released_upto`: sequence numbers up to this one count as delivered
  // (the kernel's number when the monitor started).
  seqnum_orderer(std::uint64_t released_upto, steady_clock::duration window,
                 std::size_t max_held = 1024);

  // Adds an event received at `now`; appends what may be released, in order.
  void push(log_entry e, steady_clock::time_point now, std::vector<log_entry>& out);
  // Releases held events whose window passed, giving up on the gap before
  // them.
  void expire(steady_clock::time_point now, std::vector<log_entry>& out);
  // Releases everything held, in order.
  void flush(std::vector<log_entry>& out);
  // When expire() next has work; nullopt when nothing is held.
  std::optional<steady_clock::time_point> next_deadline() const;

  std::size_t held() const noexcept { return held_.size(); }
  std::uint64_t released_upto() const noexcept { return released_upto_; }

 private:
  struct held_entry {
    log_entry entry;
    steady_clock::time_point arrived;
  };
  void release(log_entry e, std::vector<log_entry>& out);
  void release_through(std::uint64_t seqnum, std::vector<log_entry>& out);
  void release_contiguous(std::vector<log_entry>& out);

  std::map<std::uint64_t, held_entry> held_;
  std::uint64_t released_upto_;
  std::uint64_t max_released_ = 0;
  steady_clock::duration window_;
  std::size_t max_held_;
};

class event_ring {
 public:
  // `floor_seqnum`: every event numbered above it is (or will be) in the
  // ring unless lost; typically the kernel's number when the monitor started.
  explicit event_ring(std::size_t capacity, std::uint64_t floor_seqnum = 0);

  // Entry indexes grow forever: [begin(), end()) are held.
  std::uint64_t begin() const noexcept { return begin_; }
  std::uint64_t end() const noexcept { return begin_ + entries_.size(); }
  const log_entry& at(std::uint64_t index) const { return entries_.at(index - begin_); }
  std::size_t capacity() const noexcept { return capacity_; }

  // Appends; when full, first evicts the oldest entry and returns it.
  std::optional<log_entry> push(log_entry e);

  // Events numbered above this are all still available.
  std::uint64_t floor_seqnum() const noexcept { return floor_; }

  struct resume_point {
    std::uint64_t index = 0;           // first entry to deliver
    bool gap = false;                  // some events after the resume point are gone
    bool reset = false;                // the resume point is ahead of the guest's sequence
    std::uint64_t first_available = 0; // lowest number still complete
  };
  // Where a subscriber that last received `seqnum` continues. `current` is
  // the guest kernel's current uevent number (0 if unknown).
  resume_point resume_after(std::uint64_t seqnum, std::uint64_t current) const;

 private:
  std::deque<log_entry> entries_;
  std::uint64_t begin_ = 0;
  std::size_t capacity_;
  std::uint64_t floor_;
};

// The ring and its readers (subscribers). Each reader has a cursor into the
// ring; when an entry is evicted before a reader got to it, the reader is
// told it lost it (if it wanted it) instead of silently missing it. A slow
// reader costs no memory beyond the shared ring.
class event_feed {
 public:
  struct reader {
    std::function<bool(const device_info&)> wants;
    std::uint64_t cursor = 0;    // next ring index to look at
    std::uint64_t lost = 0;      // wanted entries evicted before delivery
    bool lost_unknown = false;   // an overflow marker was evicted unread
  };

  struct item {
    enum class kind { entry, lost, overflow };
    kind what = kind::entry;
    const log_entry* entry = nullptr;  // kind::entry; valid until the next publish()
    std::uint64_t lost = 0;            // kind::lost
    bool lost_unknown = false;         // kind::lost
  };

  event_feed(std::size_t capacity, std::uint64_t floor_seqnum) : ring_(capacity, floor_seqnum) {}

  const event_ring& ring() const noexcept { return ring_; }
  // A reader takes entries from `cursor` on (ring().end() for live only).
  void attach(reader& r) { readers_.push_back(&r); }
  void detach(reader& r) { readers_.remove(&r); }

  // Appends an entry, accounting what an eviction costs each reader.
  void publish(log_entry e);
  // The reader's next item, skipping entries it does not want; nullopt when
  // it has caught up.
  std::optional<item> take(reader& r) const;

 private:
  event_ring ring_;
  std::list<reader*> readers_;
};

}  // namespace tether::agent::devices
