#include "tether/devices.hpp"

#include <algorithm>

#include "devices_wire.hpp"
#include "typed_call.hpp"

namespace tether::devices {

using boost::asio::awaitable;

namespace detail {

v1::DeviceFilter to_proto(const filter& in) {
  v1::DeviceFilter f;
  f.set_subsystem(in.subsystem);
  f.set_devtype(in.devtype);
  f.set_sysname(in.sys_name);
  f.mutable_properties()->insert(in.properties.begin(), in.properties.end());
  for (const auto& t : in.tags) f.add_tags(t);
  f.mutable_sysattrs()->insert(in.attributes.begin(), in.attributes.end());
  return f;
}

}  // namespace detail

namespace {

// Limits against a misbehaving guest.
constexpr std::size_t max_listed_devices = 1'000'000;

v1::DeviceEvent parse_event(const std::string& bytes, const char* method) {
  return tether::detail::parse<v1::DeviceEvent>(bytes, method);
}

// --- wire <-> public structs ---

device to_device(v1::Device& d) {
  device out;
  out.action = std::move(*d.mutable_action());
  out.seqnum = d.seqnum();
  out.subsystem = std::move(*d.mutable_subsystem());
  out.devtype = std::move(*d.mutable_devtype());
  out.device_path = std::move(*d.mutable_devpath());
  out.sys_name = std::move(*d.mutable_sysname());
  out.devnode = std::move(*d.mutable_devnode());
  out.devlinks.assign(d.devlinks().begin(), d.devlinks().end());
  out.properties.insert(d.properties().begin(), d.properties().end());
  out.tags.assign(d.tags().begin(), d.tags().end());
  out.driver = std::move(*d.mutable_driver());
  out.attributes.insert(d.sysattrs().begin(), d.sysattrs().end());
  out.usec_initialized = d.usec_initialized();
  out.received_time_ns = d.received_time_ns();
  out.received_monotonic_usec = d.received_monotonic_usec();
  out.out_of_order = d.out_of_order();
  return out;
}

subscription_started to_started(const v1::SubscriptionStarted& s) {
  return {.current_seqnum = s.current_seqnum(), .replayed = s.replayed(), .ring_capacity = s.ring_capacity()};
}

// A device, lost or replay-gap item (not a start marker).
event to_event(v1::DeviceEvent& ev) {
  event out;
  if (ev.has_device()) {
    out.what = event::kind::device;
    out.device = to_device(*ev.mutable_device());
  } else if (ev.has_lost()) {
    out.what = event::kind::lost;
    out.lost = {.count = ev.lost().count(), .count_unknown = ev.lost().count_unknown(),
                .reason = ev.lost().reason()};
  } else if (ev.has_replay_gap()) {
    const auto& g = ev.replay_gap();
    out.what = event::kind::replay_gap;
    out.gap = {.resume_after_seqnum = g.resume_after_seqnum(), .first_available_seqnum = g.first_available_seqnum(),
               .sequence_reset = g.sequence_reset(), .reason = g.reason()};
  } else {
    throw error(errc::protocol_error, "agent sent a DeviceEvent of an unknown kind in devices.Subscribe");
  }
  return out;
}

// The agent answers the wait; our own deadline only backs it up, so the
// caller sees the agent's message saying what did not appear.
milliseconds call_deadline_for(milliseconds wait) {
  if (wait == milliseconds::max()) return milliseconds::max();
  return wait + std::max<milliseconds>(milliseconds(5'000), wait / 10);
}

bool resumable(const error& e) {
  if (e.code().category() != category()) return false;
  switch (static_cast<errc>(e.code().value())) {
    case errc::connection_lost:
    case errc::connection_failed:
    case errc::handshake_failed:
      return true;
    default:
      return false;
  }
}

}  // namespace

awaitable<std::vector<device>> list(client& guest, const filter& f, call_options call) {
  v1::ListDevicesRequest req;
  *req.mutable_filter() = detail::to_proto(f);
  auto s = co_await guest.start("devices.List", req.SerializeAsString(), call);
  std::vector<device> out;
  for (;;) {
    auto item = co_await s->next();
    if (!item) break;
    if (item->what != call_stream::chunk::kind::event) continue;
    auto ev = parse_event(item->bytes, "devices.List");
    if (!ev.has_device()) continue;
    if (out.size() >= max_listed_devices)
      throw error(errc::limit_exceeded, "agent listed more than " + std::to_string(max_listed_devices) + " devices");
    out.push_back(to_device(*ev.mutable_device()));
  }
  auto bytes = co_await s->finish();
  v1::ListDevicesReply reply;
  if (!reply.ParseFromString(bytes)) throw error(errc::protocol_error, "agent's reply is not a valid ListDevicesReply");
  if (reply.count() != out.size())
    throw error(errc::protocol_error, "agent announced " + std::to_string(reply.count()) + " devices but sent " +
                                          std::to_string(out.size()));
  co_return out;
}

namespace {

v1::WaitDeviceRequest wait_request(const filter& f, const wait_options& opts) {
  v1::WaitDeviceRequest req;
  *req.mutable_filter() = detail::to_proto(f);
  req.set_gone(opts.gone);
  if (opts.timeout <= milliseconds::zero())
    throw error(errc::invalid_argument, "devices::wait needs a positive timeout");
  if (opts.timeout != milliseconds::max())
    req.set_timeout_ms(static_cast<std::uint32_t>(std::min<long long>(opts.timeout.count(), UINT32_MAX)));
  return req;
}

}  // namespace

// GCC 12: the same false -Wmismatched-new-delete as in stats.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<wait_result> wait(client& guest, const filter& f, wait_options opts, call_options call) {
  const auto req = wait_request(f, opts);
  if (call.timeout.count() == 0) call.timeout = call_deadline_for(opts.timeout);
  auto reply = co_await tether::detail::call<v1::WaitDeviceReply>(guest, "devices.Wait", req, call);
  wait_result r;
  r.already = reply.already();
  if (reply.has_device()) r.device = to_device(*reply.mutable_device());
  co_return r;
}
#pragma GCC diagnostic pop

awaitable<device> wait_for(client& guest, const filter& f, milliseconds timeout, call_options call) {
  auto r = co_await wait(guest, f, {.gone = false, .timeout = timeout}, call);
  if (!r.device) throw error(errc::protocol_error, "agent ended devices.Wait without a device");
  co_return std::move(*r.device);
}

awaitable<void> wait_gone(client& guest, const filter& f, milliseconds timeout, call_options call) {
  co_await wait(guest, f, {.gone = true, .timeout = timeout}, call);
}

// --- subscription ---

subscription::subscription(client& guest, filter f, subscribe_options opts, call_options call)
    : guest_(&guest), filter_(std::move(f)), opts_(opts), call_(call) {}

subscription::~subscription() = default;  // dropping the call_stream cancels it
subscription::subscription(subscription&&) noexcept = default;

void subscription::cancel() {
  cancelled_ = true;
  if (stream_) stream_->cancel();
}

awaitable<void> subscription::open() {
  v1::SubscribeDevicesRequest req;
  *req.mutable_filter() = detail::to_proto(filter_);
  if (last_seqnum_) {
    req.set_resume_after_seqnum(*last_seqnum_);
  } else if (resume_from_) {
    req.set_resume_after_seqnum(*resume_from_);
  } else if (opts_.resume_after_seqnum) {
    req.set_resume_after_seqnum(*opts_.resume_after_seqnum);
  }
  // The deadline bounds getting connected; the subscription itself has none.
  co_await guest_->connect(call_);
  stream_ = co_await guest_->start("devices.Subscribe", req.SerializeAsString(), {milliseconds::max()});
  if (cancelled_) stream_->cancel();  // cancel() came while (re)connecting, before there was a call
  for (;;) {
    auto item = co_await stream_->next();
    if (!item) {
      co_await stream_->finish();  // throws the agent's error
      throw error(errc::protocol_error, "devices.Subscribe ended before it started");
    }
    if (item->what != call_stream::chunk::kind::event) continue;
    auto ev = parse_event(item->bytes, "devices.Subscribe");
    if (!ev.has_started())
      throw error(errc::protocol_error, "devices.Subscribe did not start with a SubscriptionStarted event");
    started_ = to_started(ev.started());
    // Until a device event arrives, a resume continues from here.
    if (!last_seqnum_ && !resume_from_ && !opts_.resume_after_seqnum) resume_from_ = started_.current_seqnum;
    co_return;
  }
}

awaitable<std::optional<event>> subscription::next() {
  for (;;) {
    if (!guest_ || (cancelled_ && !stream_)) co_return std::nullopt;
    if (!stream_) {
      try {
        co_await open();
      } catch (const error&) {
        if (cancelled_) co_return std::nullopt;  // cancel() during a resume: ended as asked
        throw;
      }
    }
    std::optional<call_stream::chunk> item;
    bool lost_connection = false;
    try {
      item = co_await stream_->next();
    } catch (const error& e) {
      if (!opts_.auto_resume || cancelled_ || !resumable(e)) throw;
      lost_connection = true;
    }
    if (!lost_connection && !item) {
      // The call ended: by cancel(), or by an error.
      try {
        co_await stream_->finish();
      } catch (const error& e) {
        if (cancelled_ && (e.remote_code() == remote_errc::cancelled || e.code() == errc::cancelled)) {
          stream_.reset();
          continue;  // ended as asked
        }
        if (!opts_.auto_resume || cancelled_ || !resumable(e)) throw;
        lost_connection = true;
      }
      if (!lost_connection) throw error(errc::protocol_error, "devices.Subscribe ended without an error");
    }
    if (lost_connection) {
      // (Not inside the catch: co_await is not allowed in a handler.)
      stream_.reset();
      ++resumes_;
      continue;
    }
    if (item->what != call_stream::chunk::kind::event) continue;
    auto ev = parse_event(item->bytes, "devices.Subscribe");
    if (ev.has_started()) {
      started_ = to_started(ev.started());
      continue;
    }
    if (ev.has_device()) last_seqnum_ = ev.device().seqnum();
    co_return to_event(ev);
  }
}

awaitable<subscription> subscribe(client& guest, const filter& f, subscribe_options opts, call_options call) {
  subscription s(guest, f, opts, call);
  co_await s.open();
  co_return s;
}

}  // namespace tether::devices
