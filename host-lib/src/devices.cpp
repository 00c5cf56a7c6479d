#include "tether/devices.hpp"

#include <algorithm>

namespace tether::devices {

using boost::asio::awaitable;

namespace {

// Limits against a misbehaving guest.
constexpr std::size_t max_listed_devices = 1'000'000;

v1::DeviceEvent parse_event(const std::string& bytes, const char* method) {
  v1::DeviceEvent ev;
  if (!ev.ParseFromString(bytes))
    throw error(errc::protocol_error, std::string("agent sent an invalid DeviceEvent in ") + method);
  return ev;
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

v1::DeviceFilter filter::to_proto() const {
  v1::DeviceFilter f;
  f.set_subsystem(subsystem);
  f.set_devtype(devtype);
  f.set_sysname(sysname);
  f.mutable_properties()->insert(properties.begin(), properties.end());
  for (const auto& t : tags) f.add_tags(t);
  f.mutable_sysattrs()->insert(sysattrs.begin(), sysattrs.end());
  return f;
}

awaitable<std::vector<v1::Device>> list(client& guest, const filter& f, call_options opts) {
  v1::ListDevicesRequest req;
  *req.mutable_filter() = f.to_proto();
  auto s = co_await guest.start("devices.List", req.SerializeAsString(), opts);
  std::vector<v1::Device> out;
  for (;;) {
    auto item = co_await s->next();
    if (!item) break;
    if (item->what != call_stream::chunk::kind::event) continue;
    auto ev = parse_event(item->bytes, "devices.List");
    if (!ev.has_device()) continue;
    if (out.size() >= max_listed_devices)
      throw error(errc::limit_exceeded, "agent listed more than " + std::to_string(max_listed_devices) + " devices");
    out.push_back(std::move(*ev.mutable_device()));
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
  *req.mutable_filter() = f.to_proto();
  req.set_gone(opts.gone);
  if (opts.timeout <= milliseconds::zero())
    throw error(errc::invalid_argument, "devices::wait needs a positive timeout");
  if (opts.timeout != milliseconds::max())
    req.set_timeout_ms(static_cast<std::uint32_t>(std::min<long long>(opts.timeout.count(), UINT32_MAX)));
  return req;
}

}  // namespace

awaitable<wait_result> wait(client& guest, const filter& f, wait_options opts) {
  const auto req = wait_request(f, opts);
  auto reply = co_await guest.call<v1::WaitDeviceReply>("devices.Wait", req,
                                                        {call_deadline_for(opts.timeout)});
  wait_result r;
  r.already = reply.already();
  if (reply.has_device()) r.device = std::move(*reply.mutable_device());
  co_return r;
}

awaitable<v1::Device> wait_for(client& guest, const filter& f, milliseconds timeout) {
  auto r = co_await wait(guest, f, {.gone = false, .timeout = timeout});
  if (!r.device) throw error(errc::protocol_error, "agent ended devices.Wait without a device");
  co_return std::move(*r.device);
}

awaitable<void> wait_gone(client& guest, const filter& f, milliseconds timeout) {
  co_await wait(guest, f, {.gone = true, .timeout = timeout});
}

// --- subscription ---

subscription::subscription(client& guest, filter f, subscribe_options opts)
    : guest_(guest), filter_(f.to_proto()), opts_(std::move(opts)) {}

subscription::~subscription() = default;  // dropping the call_stream cancels it

void subscription::cancel() {
  if (stream_) stream_->cancel();
}

awaitable<void> subscription::open() {
  v1::SubscribeDevicesRequest req;
  *req.mutable_filter() = filter_;
  if (last_seqnum_) {
    req.set_resume_after_seqnum(*last_seqnum_);
  } else if (resume_from_) {
    req.set_resume_after_seqnum(*resume_from_);
  } else if (opts_.resume_after_seqnum) {
    req.set_resume_after_seqnum(*opts_.resume_after_seqnum);
  }
  // The deadline bounds getting connected; the subscription itself has none.
  co_await guest_.connect({opts_.start_timeout});
  stream_ = co_await guest_.start("devices.Subscribe", req.SerializeAsString(), {milliseconds::max()});
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
    started_ = ev.started();
    // Until a device event arrives, a resume continues from here.
    if (!last_seqnum_ && !resume_from_ && !opts_.resume_after_seqnum) resume_from_ = started_.current_seqnum();
    co_return;
  }
}

awaitable<v1::DeviceEvent> subscription::next() {
  for (;;) {
    if (!stream_) {
      co_await open();
    }
    std::optional<call_stream::chunk> item;
    bool lost_connection = false;
    try {
      item = co_await stream_->next();
    } catch (const error& e) {
      if (!opts_.auto_resume || !resumable(e)) throw;
      lost_connection = true;
    }
    if (!lost_connection && !item) {
      // The call ended: only an error ends a subscription.
      try {
        co_await stream_->finish();
      } catch (const error& e) {
        if (!opts_.auto_resume || !resumable(e)) throw;
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
      started_ = ev.started();
      continue;
    }
    if (ev.has_device()) last_seqnum_ = ev.device().seqnum();
    co_return ev;
  }
}

awaitable<std::unique_ptr<subscription>> subscribe(client& guest, const filter& f, subscribe_options opts) {
  auto s = std::make_unique<subscription>(guest, f, std::move(opts));
  co_await s->open();
  co_return s;
}

}  // namespace tether::devices
