#include "services/devices_service.hpp"

#include <cstdio>

#include "devices/device_proto.hpp"
#include "log.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/devices.pb.h"

namespace tether::agent {

using devices::device_hub;

namespace {

devices::device_filter checked_filter(const v1::DeviceFilter& proto) {
  auto f = devices::from_proto(proto);
  if (auto why = devices::validate(f)) throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "bad device filter: " + *why);
  return f;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string deadline_message(const device_hub::wait_registration& w, const devices::device_filter& f,
                             bool gone, std::chrono::milliseconds timeout) {
  if (!gone)
    return "no initialized device matching " + devices::describe(f) + " appeared within " +
           seconds_text(timeout);
  const auto& left = w.remaining();
  std::string msg = std::to_string(left.size()) + " device(s) matching " + devices::describe(f) +
                    " still exist after " + seconds_text(timeout) + ":";
  int shown = 0;
  for (const auto& p : left) {
    if (shown++ == 3) {
      msg += " ...";
      break;
    }
    msg += " " + p;
  }
  return msg;
}

awaitable<std::string> list_devices(std::shared_ptr<device_hub> hub_ptr, call_context& call) {
  auto& hub = *hub_ptr;
  auto req = call.request<v1::ListDevicesRequest>();
  auto filter = checked_filter(req.filter());
  hub.require_available();
  auto found = hub.list(filter);
  v1::ListDevicesReply reply;
  for (const auto& d : found) {
    // Events, not one reply: any number of devices fits the frame limit.
    co_await call.emit(devices::device_event_payload(d));
    reply.set_count(reply.count() + 1);
  }
  co_return reply.SerializeAsString();
}

awaitable<std::string> wait_device(std::shared_ptr<device_hub> hub_ptr, call_context& call) {
  auto& hub = *hub_ptr;
  auto req = call.request<v1::WaitDeviceRequest>();
  auto filter = checked_filter(req.filter());
  const std::chrono::milliseconds timeout(req.timeout_ms());
  auto w = hub.register_wait(filter, req.gone());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!w->done()) {
    if (hub.stopped()) throw call_error(v1::ERROR_CODE_UNAVAILABLE, "the agent is shutting down");
    if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline)
      throw call_error(v1::ERROR_CODE_DEADLINE_EXCEEDED, deadline_message(*w, filter, req.gone(), timeout));
    co_await wait_until(w->changed(), timeout.count() > 0 ? deadline : deadline_clock::time_point::max());
  }
  v1::WaitDeviceReply reply;
  reply.set_already(w->already());
  if (const auto& d = w->result()) devices::to_proto(*d, false, *reply.mutable_device());
  co_return reply.SerializeAsString();
}

awaitable<std::string> subscribe_devices(std::shared_ptr<device_hub> hub_ptr, call_context& call) {
  auto& hub = *hub_ptr;
  auto req = call.request<v1::SubscribeDevicesRequest>();
  auto filter = checked_filter(req.filter());
  std::optional<std::uint64_t> resume;
  if (req.has_resume_after_seqnum()) resume = req.resume_after_seqnum();
  auto sub = hub.register_subscription(filter, resume);
  const auto& start = sub->started();

  v1::DeviceEvent first;
  first.mutable_started()->set_current_seqnum(start.current_seqnum);
  first.mutable_started()->set_replayed(start.replayed);
  first.mutable_started()->set_ring_capacity(static_cast<std::uint32_t>(hub.options().ring_capacity));
  co_await call.emit(first.SerializeAsString());
  if (start.resume && start.resume->gap) {
    v1::DeviceEvent ev;
    auto* g = ev.mutable_replay_gap();
    g->set_resume_after_seqnum(start.resume_after);
    g->set_first_available_seqnum(start.resume->first_available);
    g->set_sequence_reset(start.resume->reset);
    g->set_reason(start.resume->reset
                      ? "the resume point is ahead of the guest's uevent sequence number " +
                            std::to_string(start.current_seqnum) +
                            " (the guest rebooted?): replaying everything the agent holds"
                      : "events after " + std::to_string(start.resume_after) +
                            " are no longer all held by the agent (its replay ring starts after " +
                            std::to_string(start.resume->first_available - 1) + ")");
    co_await call.emit(ev.SerializeAsString());
  }
  log::debug("devices.Subscribe (call {}): filter {}, {} replayed", call.id(), devices::describe(filter),
             start.replayed);

  for (;;) {
    auto item = co_await sub->next();
    if (item.what == device_hub::subscription::item::kind::device) {
      // Waits for the host's event credit; meanwhile the ring keeps events
      // (and counts what it must drop for this subscriber).
      co_await call.emit(*item.payload);
      continue;
    }
    v1::DeviceEvent ev;
    auto* lost = ev.mutable_lost();
    lost->set_count(item.lost_count);
    lost->set_count_unknown(item.lost_unknown);
    lost->set_reason(item.reason);
    co_await call.emit(ev.SerializeAsString());
  }
}

}  // namespace

devices_service::devices_service(asio::any_io_executor ex, devices::hub_options options)
    : hub_(std::make_shared<device_hub>(std::move(ex), std::move(options))) {
  try {
    if (!hub_->try_start())
      log::notice("systemd-udevd is not running ({} missing): devices calls answer UNAVAILABLE until it "
                  "runs", hub_->options().udev_control_path);
  } catch (const std::exception& e) {
    log::warning("cannot listen to udev events yet: {}", e.what());
  }
}

devices_service::~devices_service() { hub_->stop(); }

void devices_service::stop() { hub_->stop(); }

namespace {

// The audit log's summary of a request: its device filter.
template <class M>
audit_summary filter_of() {
  return summary_of<M>([](const M& r) {
    return std::vector<std::string>{devices::describe(devices::from_proto(r.filter()))};
  });
}

}  // namespace

void devices_service::add_methods(service_registry& registry) {
  auto hub = hub_;
  registry.add_method("devices.List", [hub](call_context& call) { return list_devices(hub, call); },
                      filter_of<v1::ListDevicesRequest>());
  registry.add_method("devices.Wait", [hub](call_context& call) { return wait_device(hub, call); },
                      filter_of<v1::WaitDeviceRequest>());
  registry.add_method("devices.Subscribe",
                      [hub](call_context& call) { return subscribe_devices(hub, call); },
                      filter_of<v1::SubscribeDevicesRequest>());
}

}  // namespace tether::agent
