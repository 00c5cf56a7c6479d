#include "devices/event_log.hpp"

#include <algorithm>
#include <stdexcept>

namespace tether::agent::devices {

seqnum_orderer::seqnum_orderer(std::uint64_t released_upto, steady_clock::duration window,
                               std::size_t max_held)
    : released_upto_(released_upto), window_(window), max_held_(std::max<std::size_t>(max_held, 1)) {}

void seqnum_orderer::release(log_entry e, std::vector<log_entry>& out) {
  const auto seq = e.seqnum();
  if (seq != 0) {
    e.out_of_order = seq < max_released_;
    max_released_ = std::max(max_released_, seq);
  }
  out.push_back(std::move(e));
}

void seqnum_orderer::release_contiguous(std::vector<log_entry>& out) {
  while (!held_.empty() && held_.begin()->first == released_upto_ + 1) {
    auto node = held_.extract(held_.begin());
    released_upto_ = node.key();
    release(std::move(node.mapped().entry), out);
  }
}

void seqnum_orderer::release_through(std::uint64_t seqnum, std::vector<log_entry>& out) {
  while (!held_.empty() && held_.begin()->first <= seqnum) {
    auto node = held_.extract(held_.begin());
    released_upto_ = std::max(released_upto_, node.key());
    release(std::move(node.mapped().entry), out);
  }
  release_contiguous(out);
}

void seqnum_orderer::push(log_entry e, steady_clock::time_point now, std::vector<log_entry>& out) {
  const auto seq = e.seqnum();
  if (seq == 0 || seq <= released_upto_ || held_.contains(seq)) {
    // Unnumbered, late, or a duplicate number: deliver now, never drop.
    release(std::move(e), out);
    return;
  }
  if (seq == released_upto_ + 1) {
    released_upto_ = seq;
    release(std::move(e), out);
    release_contiguous(out);
    return;
  }
  held_.emplace(seq, held_entry{std::move(e), now});
  if (held_.size() > max_held_) release_through(held_.begin()->first, out);
}

void seqnum_orderer::expire(steady_clock::time_point now, std::vector<log_entry>& out) {
  std::uint64_t through = 0;
  for (const auto& [seq, h] : held_)
    if (h.arrived + window_ <= now) through = std::max(through, seq);
  if (through != 0) release_through(through, out);
}

void seqnum_orderer::flush(std::vector<log_entry>& out) {
  if (!held_.empty()) release_through(held_.rbegin()->first, out);
}

std::optional<steady_clock::time_point> seqnum_orderer::next_deadline() const {
  std::optional<steady_clock::time_point> t;
  for (const auto& [seq, h] : held_)
    if (!t || h.arrived + window_ < *t) t = h.arrived + window_;
  return t;
}

event_ring::event_ring(std::size_t capacity, std::uint64_t floor_seqnum)
    : capacity_(capacity), floor_(floor_seqnum) {
  if (capacity_ == 0) throw std::invalid_argument("event ring capacity must be at least 1");
}

std::optional<log_entry> event_ring::push(log_entry e) {
  std::optional<log_entry> evicted;
  if (entries_.size() >= capacity_) {
    evicted = std::move(entries_.front());
    entries_.pop_front();
    ++begin_;
    floor_ = std::max(floor_, evicted->seqnum());
  }
  entries_.push_back(std::move(e));
  return evicted;
}

event_ring::resume_point event_ring::resume_after(std::uint64_t seqnum, std::uint64_t current) const {
  resume_point r;
  r.first_available = floor_ + 1;
  if (current != 0 && seqnum > current) {
    // Numbers restarted (guest reboot): everything held is news to the host.
    r.index = begin_;
    r.gap = r.reset = true;
    return r;
  }
  if (seqnum < floor_) {
    r.gap = true;
  } else {
    // The entry the host saw last: continue right after it, so late
    // (out-of-order) entries delivered after it are not skipped.
    for (std::size_t i = entries_.size(); i-- > 0;) {
      if (entries_[i].what == log_entry::kind::device && entries_[i].seqnum() == seqnum) {
        r.index = begin_ + i + 1;
        return r;
      }
    }
  }
  r.index = end();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    if (e.what == log_entry::kind::overflow || e.seqnum() > seqnum) {
      r.index = begin_ + i;
      break;
    }
  }
  return r;
}

void event_feed::publish(log_entry e) {
  auto evicted = ring_.push(std::move(e));
  if (!evicted) return;
  const std::uint64_t gone = ring_.begin() - 1;
  for (auto* r : readers_) {
    if (r->cursor != gone) continue;
    if (evicted->what == log_entry::kind::overflow) {
      r->lost_unknown = true;
    } else if (!r->wants || r->wants(*evicted->device)) {
      ++r->lost;
    }
    r->cursor = ring_.begin();
  }
}

std::optional<event_feed::item> event_feed::take(reader& r) const {
  if (r.lost > 0 || r.lost_unknown) {
    item it{.what = item::kind::lost, .lost = r.lost_unknown ? 0 : r.lost, .lost_unknown = r.lost_unknown};
    r.lost = 0;
    r.lost_unknown = false;
    return it;
  }
  if (r.cursor < ring_.begin()) r.cursor = ring_.begin();  // attached before the ring's start
  while (r.cursor < ring_.end()) {
    const auto& e = ring_.at(r.cursor++);
    if (e.what == log_entry::kind::overflow) return item{.what = item::kind::overflow};
    if (!r.wants || r.wants(*e.device)) return item{.what = item::kind::entry, .entry = &e};
  }
  return std::nullopt;
}

}  // namespace tether::agent::devices
