#include "devices/device_hub.hpp"

#include <unistd.h>

#include <algorithm>

#include "devices/device_proto.hpp"
#include "log.hpp"
#include "sys/udev_device.hpp"
#include "sys/udev_monitor.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::devices {

struct device_hub::wait_state {
  wait_state(const asio::any_io_executor& ex, device_filter f, bool g)
      : filter(std::move(f)), gone(g), changed(ex) {}
  device_filter filter;
  bool gone;
  std::set<std::string> present;  // gone: matching devpaths that still exist
  std::optional<device_info> result;
  bool done = false;
  bool already = false;
  async_event changed;

  void finish(std::optional<device_info> r) {
    done = true;
    result = std::move(r);
    changed.notify_all();
  }
};

struct device_hub::subscriber_state {
  explicit subscriber_state(device_filter f) : filter(std::move(f)) {
    reader.wants = [this](const device_info& d) { return matches(filter, d); };
  }
  device_filter filter;
  event_feed::reader reader;
  subscription::start_info start;
};

namespace {

constexpr std::size_t drain_budget = 256;  // events per wake-up before yielding
constexpr std::size_t drain_all = static_cast<std::size_t>(-1);

udev::enumerate_hints hints_for(const device_filter& f) {
  return {.subsystem = f.subsystem, .sysname = f.sysname, .tag = f.tags.empty() ? "" : f.tags.front()};
}

}  // namespace

device_hub::device_hub(asio::any_io_executor ex, hub_options options)
    : ex_(std::move(ex)), opts_(std::move(options)), reorder_timer_(ex_), ring_changed_(ex_) {
  opts_.ring_capacity = std::max<std::size_t>(opts_.ring_capacity, 1);
}

device_hub::~device_hub() { stop(); }

bool device_hub::try_start() {
  if (monitor_) return true;
  if (stopped_) return false;
  if (::access(opts_.udev_control_path.c_str(), F_OK) != 0) return false;
  if (!udev_) udev_ = udev::make_context();
  // The monitor first, then the kernel's number: every event numbered above
  // it reaches this socket.
  monitor_ = std::make_unique<udev::udev_monitor>(ex_, udev_.get(), opts_.receive_buffer);
  const std::uint64_t start = udev::kernel_seqnum();
  orderer_.emplace(start, opts_.reorder_window);
  feed_.emplace(opts_.ring_capacity, start);
  log::info("udev monitor started at uevent sequence number {} (replay ring {} events)", start,
            opts_.ring_capacity);
  asio::co_spawn(ex_, monitor_loop(shared_from_this()), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("udev monitor stopped: {}", x.what());
    }
  });
  return true;
}

void device_hub::require_available() {
  if (stopped_) throw call_error(v1::ERROR_CODE_UNAVAILABLE, "the agent is shutting down");
  if (monitor_) return;
  bool started = false;
  try {
    started = try_start();
  } catch (const std::exception& e) {
    throw call_error(v1::ERROR_CODE_UNAVAILABLE,
                     std::string("cannot listen to udev events in the guest: ") + e.what());
  }
  if (!started)
    throw call_error(v1::ERROR_CODE_UNAVAILABLE,
                     "systemd-udevd is not running in the guest (" + opts_.udev_control_path +
                         " does not exist): device calls report only devices udev has "
                         "initialized; start systemd-udevd in the guest");
  log::notice("udev monitor started late (udevd was not running at agent start): replay covers "
              "events from now on");
}

void device_hub::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (monitor_) monitor_->close();
  reorder_timer_.cancel();
  ring_changed_.notify_all();
  for (auto* w : waiters_) w->changed.notify_all();
}

awaitable<void> device_hub::monitor_loop(std::shared_ptr<device_hub> self) {
  for (;;) {
    boost::system::error_code ec;
    try {
      co_await self->monitor_->wait_readable();
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    if (ec || self->stopped_) co_return;
    self->drain(drain_budget);
    // Level-triggered: if more is pending the next wait returns at once, but
    // other work on the loop gets its turn first.
    co_await asio::post(self->ex_, use_awaitable);
  }
}

void device_hub::drain(std::size_t budget) {
  if (!monitor_ || stopped_) return;
  std::vector<log_entry> released;
  for (std::size_t n = 0; n < budget; ++n) {
    auto r = monitor_->receive();
    if (r.overflow) {
      on_overflow(released);
      continue;
    }
    if (!r.device) break;
    on_device(r.device.get(), released);
  }
  publish(released);
  arm_reorder_timer();
}

void device_hub::on_device(::udev_device* dev, std::vector<log_entry>& released) {
  auto info = std::make_shared<device_info>(udev::snapshot(dev));
  // Attributes live filters name: read now while the device exists, and
  // remember them for its remove event.
  if (info->action == "remove") {
    if (auto it = attr_cache_.find(info->devpath); it != attr_cache_.end()) {
      info->sysattrs = std::move(it->second);
      attr_cache_.erase(it);
    }
  } else {
    if (info->action == "move")
      if (auto old = info->properties.find("DEVPATH_OLD"); old != info->properties.end())
        attr_cache_.erase(old->second);
    if (!attr_keys_.empty()) {
      auto& cached = attr_cache_[info->devpath];
      for (const auto& [key, refs] : attr_keys_) {
        if (auto v = udev::read_attribute(dev, key)) {
          info->sysattrs[key] = *v;
          cached[key] = *v;
        }
      }
      if (cached.empty()) attr_cache_.erase(info->devpath);
    }
  }
  note_recent(*info);
  log::debug("udev event {} {} {} ({})", info->seqnum, info->action, info->devpath, info->subsystem);

  // Waiters see events at once, in arrival order.
  auto waiters = waiters_;  // finishing may not unregister, but be safe
  for (auto* w : waiters)
    if (!w->done) evaluate(*w, *info);

  orderer_->push(log_entry{.what = log_entry::kind::device, .device = std::move(info)},
                 steady_clock::now(), released);
}

void device_hub::on_overflow(std::vector<log_entry>& released) {
  log::warning("udev monitor: the kernel dropped udev messages (socket buffer full); waiters "
               "rescan, subscribers are told");
  orderer_->flush(released);
  released.push_back(log_entry{.what = log_entry::kind::overflow});
  auto waiters = waiters_;
  for (auto* w : waiters)
    if (!w->done) rescan(*w);
}

void device_hub::publish(std::vector<log_entry>& released) {
  if (released.empty()) return;
  for (auto& e : released) {
    if (e.what == log_entry::kind::device)
      e.payload = std::make_shared<const std::string>(device_event_payload(*e.device, e.out_of_order));
    feed_->publish(std::move(e));
  }
  released.clear();
  ring_changed_.notify_all();
}

void device_hub::arm_reorder_timer() {
  const auto deadline = orderer_ ? orderer_->next_deadline() : std::nullopt;
  if (!deadline || stopped_) {
    if (reorder_armed_) reorder_timer_.cancel();
    reorder_armed_.reset();
    return;
  }
  if (reorder_armed_ == deadline) return;
  reorder_armed_ = deadline;
  reorder_timer_.expires_at(*deadline);
  reorder_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_) return;
    self->reorder_armed_.reset();
    std::vector<log_entry> released;
    self->orderer_->expire(steady_clock::now(), released);
    self->publish(released);
    self->arm_reorder_timer();
  });
}

void device_hub::note_recent(const device_info& d) {
  auto record = [&](const std::string& devpath, bool removed) {
    recent_[devpath] = {++recent_tick_, removed, removed ? d.usec_initialized : 0};
    recent_order_.emplace_back(devpath, recent_tick_);
  };
  record(d.devpath, d.action == "remove");
  if (d.action == "move")
    if (auto old = d.properties.find("DEVPATH_OLD"); old != d.properties.end()) record(old->second, true);
  while (recent_order_.size() > opts_.ring_capacity) {
    auto& [path, t] = recent_order_.front();
    if (auto it = recent_.find(path); it != recent_.end() && it->second.tick == t) recent_.erase(it);
    recent_order_.pop_front();
  }
}

bool device_hub::recently_removed(const device_info& d) const {
  auto it = recent_.find(d.devpath);
  if (it == recent_.end() || !it->second.removed) return false;
  const auto removed_init = it->second.usec_initialized;
  return removed_init == 0 || d.usec_initialized == 0 || removed_init == d.usec_initialized;
}

std::vector<device_info> device_hub::list(const device_filter& f) {
  if (!udev_) udev_ = udev::make_context();
  std::vector<device_info> out;
  for (auto& dev : udev::enumerate_initialized(udev_.get(), hints_for(f))) {
    auto info = udev::snapshot(dev.get());
    if (recently_removed(info)) continue;  // its remove event already came
    for (const auto& [key, pattern] : f.sysattrs)
      if (auto v = udev::read_attribute(dev.get(), key)) info.sysattrs[key] = *v;
    if (matches(f, info)) out.push_back(std::move(info));
  }
  return out;
}

void device_hub::evaluate(wait_state& w, const device_info& d) {
  if (!w.gone) {
    if (d.action != "remove" && matches(w.filter, d)) w.finish(d);
    return;
  }
  const std::size_t before = w.present.size();
  if (d.action == "move")
    if (auto old = d.properties.find("DEVPATH_OLD"); old != d.properties.end()) w.present.erase(old->second);
  if (d.action == "remove" || !matches(w.filter, d)) {
    w.present.erase(d.devpath);
  } else {
    w.present.insert(d.devpath);
  }
  if (w.present.empty() && before > 0) w.finish(d);
}

void device_hub::rescan(wait_state& w) {
  auto devs = list(w.filter);
  if (!w.gone) {
    if (!devs.empty()) w.finish(std::move(devs.front()));
    return;
  }
  w.present.clear();
  for (auto& d : devs) w.present.insert(d.devpath);
  if (w.present.empty()) w.finish(std::nullopt);
}

void device_hub::add_attribute_keys(const device_filter& f) {
  for (const auto& [key, pattern] : f.sysattrs) ++attr_keys_[key];
}

void device_hub::remove_attribute_keys(const device_filter& f) {
  for (const auto& [key, pattern] : f.sysattrs) {
    auto it = attr_keys_.find(key);
    if (it == attr_keys_.end() || --it->second > 0) continue;
    attr_keys_.erase(it);
    for (auto c = attr_cache_.begin(); c != attr_cache_.end();) {
      c->second.erase(key);
      c = c->second.empty() ? attr_cache_.erase(c) : std::next(c);
    }
  }
}

void device_hub::prime_attribute_cache(const device_filter& f) {
  if (f.sysattrs.empty()) return;
  // Devices that exist now have no add event to come: read their attributes
  // so that their remove events can be matched.
  for (auto& dev : udev::enumerate_initialized(udev_.get(), hints_for(f))) {
    const std::string devpath = udev::str(::udev_device_get_devpath(dev.get()));
    auto& cached = attr_cache_[devpath];
    for (const auto& [key, pattern] : f.sysattrs)
      if (auto v = udev::read_attribute(dev.get(), key)) cached[key] = *v;
    if (cached.empty()) attr_cache_.erase(devpath);
  }
}

std::unique_ptr<device_hub::wait_registration> device_hub::register_wait(const device_filter& f, bool gone) {
  require_available();
  // Events already in the socket belong before the look at existing devices.
  drain(drain_all);
  auto state = std::make_unique<wait_state>(ex_, f, gone);
  auto* w = state.get();
  add_attribute_keys(f);
  waiters_.push_back(w);
  auto reg = std::make_unique<wait_registration>(shared_from_this(), std::move(state));
  // No suspension between registering and looking: nothing can slip between.
  auto devs = list(f);
  if (!gone) {
    if (!devs.empty()) {
      w->already = true;
      w->finish(std::move(devs.front()));
    }
  } else {
    for (auto& d : devs) w->present.insert(d.devpath);
    if (w->present.empty()) {
      w->already = true;
      w->finish(std::nullopt);
    }
  }
  return reg;
}

void device_hub::unregister(wait_state* w) {
  waiters_.remove(w);
  remove_attribute_keys(w->filter);
}

std::unique_ptr<device_hub::subscription> device_hub::register_subscription(
    const device_filter& f, std::optional<std::uint64_t> resume_after) {
  require_available();
  drain(drain_all);
  auto state = std::make_unique<subscriber_state>(f);
  auto* s = state.get();
  add_attribute_keys(f);
  prime_attribute_cache(f);
  s->start.current_seqnum = udev::kernel_seqnum();
  const auto& ring = feed_->ring();
  s->reader.cursor = ring.end();
  if (resume_after) {
    s->start.resume_after = *resume_after;
    s->start.resume = ring.resume_after(*resume_after, s->start.current_seqnum);
    s->reader.cursor = s->start.resume->index;
    for (auto i = s->reader.cursor; i < ring.end(); ++i) {
      const auto& e = ring.at(i);
      if (e.what == log_entry::kind::device && matches(f, *e.device)) ++s->start.replayed;
    }
  }
  feed_->attach(s->reader);
  return std::make_unique<subscription>(shared_from_this(), std::move(state));
}

void device_hub::unregister(subscriber_state* s) {
  if (feed_) feed_->detach(s->reader);
  remove_attribute_keys(s->filter);
}

// --- wait_registration ---

device_hub::wait_registration::wait_registration(std::shared_ptr<device_hub> hub,
                                                 std::unique_ptr<wait_state> state)
    : hub_(std::move(hub)), state_(std::move(state)) {}
device_hub::wait_registration::~wait_registration() { hub_->unregister(state_.get()); }
bool device_hub::wait_registration::done() const { return state_->done; }
bool device_hub::wait_registration::already() const { return state_->already; }
const std::optional<device_info>& device_hub::wait_registration::result() const { return state_->result; }
const std::set<std::string>& device_hub::wait_registration::remaining() const { return state_->present; }
async_event& device_hub::wait_registration::changed() { return state_->changed; }

// --- subscription ---

device_hub::subscription::subscription(std::shared_ptr<device_hub> hub, std::unique_ptr<subscriber_state> state)
    : hub_(std::move(hub)), state_(std::move(state)) {}
device_hub::subscription::~subscription() { hub_->unregister(state_.get()); }
const device_hub::subscription::start_info& device_hub::subscription::started() const { return state_->start; }

awaitable<device_hub::subscription::item> device_hub::subscription::next() {
  auto& hub = *hub_;
  // Filled field by field: GCC 12 mis-copies braced aggregates holding
  // strings inside coroutines.
  item out;
  for (;;) {
    if (hub.stopped_) throw call_error(v1::ERROR_CODE_UNAVAILABLE, "the agent is shutting down");
    if (auto it = hub.feed_->take(state_->reader)) {
      switch (it->what) {
        case event_feed::item::kind::entry:
          out.what = item::kind::device;
          out.payload = it->entry->payload;
          break;
        case event_feed::item::kind::lost:
          out.what = item::kind::lost;
          out.lost_count = it->lost;
          out.lost_unknown = it->lost_unknown;
          out.reason = "the host fell more than " + std::to_string(hub.opts_.ring_capacity) +
                       " events behind; the oldest were dropped from the agent's replay ring";
          break;
        case event_feed::item::kind::overflow:
          out.what = item::kind::lost;
          out.lost_unknown = true;
          out.reason = "the guest kernel dropped udev messages before the agent could read them "
                       "(monitor socket buffer overflow)";
          break;
      }
      co_return out;
    }
    co_await hub.ring_changed_.wait();
  }
}

}  // namespace tether::agent::devices
