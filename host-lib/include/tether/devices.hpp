// The guest's devices as its udev sees them: list, wait for a device to
// appear or go (no sleeps, no polling), and subscribe to udev events.
//
//   // after QMP device_add of a disk with serial=disk7:
//   auto d = co_await tether::devices::wait_for(
//       guest, {.subsystem = "block", .properties = {{"ID_SERIAL", "disk7"}}}, 30s);
//   // d.devnode() == "/dev/vdb", d.devlinks() has /dev/disk/by-id/virtio-disk7
//
// Only devices that udev in the guest has initialized (rules applied) count.
// Every call fails with a remote UNAVAILABLE error when systemd-udevd does not
// run in the guest. Messages are those of proto/tether/v1/devices.proto.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"
#include "tether/v1/devices.pb.h"

namespace tether::devices {

// Which devices: every set condition must hold; an empty filter matches all.
// String values are shell globs (fnmatch), e.g. sysname "vd*".
struct filter {
  std::string subsystem;                          // "block", "net", ...
  std::string devtype;                            // "disk", "partition", ...
  std::string sysname;                            // kernel name glob
  std::map<std::string, std::string> properties;  // udev property -> glob
  std::vector<std::string> tags;                  // udev tags, all required
  std::map<std::string, std::string> sysattrs;    // sysfs attribute -> glob

  // The wire form (tether.v1.DeviceFilter).
  v1::DeviceFilter to_proto() const;
};

// Existing devices that match, as udev's database describes them (action and
// seqnum empty). Throws tether::error.
boost::asio::awaitable<std::vector<v1::Device>> list(client& guest, const filter& f,
                                                     call_options opts = {});

struct wait_options {
  // Wait until no matching device exists instead.
  bool gone = false;
  // How long the agent waits. milliseconds::max(): until cancelled.
  milliseconds timeout{30'000};
};

struct wait_result {
  // The device (or, for gone, the remove event) that satisfied the wait;
  // empty for gone when no matching device existed in the first place.
  std::optional<v1::Device> device;
  // The condition already held when the wait started.
  bool already = false;
};

// Waits in the guest for a matching initialized device (or for none, with
// gone). Returns at once if the condition holds; never misses a device that
// appears while the call starts. On timeout throws a remote
// DEADLINE_EXCEEDED tether::error that says what was waited for.
boost::asio::awaitable<wait_result> wait(client& guest, const filter& f, wait_options opts = {});

// wait() for presence: the matching device.
boost::asio::awaitable<v1::Device> wait_for(client& guest, const filter& f, milliseconds timeout);
// wait() with gone.
boost::asio::awaitable<void> wait_gone(client& guest, const filter& f, milliseconds timeout);

struct subscribe_options {
  // Start by replaying the events after this sequence number that the agent
  // still holds (e.g. the last one a previous subscription delivered).
  std::optional<std::uint64_t> resume_after_seqnum;
  // When the connection to the agent is lost, subscribe again after the
  // last event received (the agent replays what was missed, or reports a
  // replay gap). Otherwise next() throws the connection error.
  bool auto_resume = true;
  // Deadline for (re)establishing the subscription. 0: the client's
  // call_timeout.
  milliseconds start_timeout{0};
};

// A running devices.Subscribe. Events come in guest sequence-number order;
// losses are never silent (LostEvents, ReplayGap items).
class subscription {
 public:
  subscription(client& guest, filter f, subscribe_options opts);
  ~subscription();  // cancels the call
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;

  // The next item: a device event (kind device), a LostEvents or a
  // ReplayGap marker. Never returns SubscriptionStarted (see started()).
  // Throws tether::error when the subscription fails and cannot resume.
  boost::asio::awaitable<v1::DeviceEvent> next();

  // The sequence number of the last device event returned, if any.
  std::optional<std::uint64_t> last_seqnum() const noexcept { return last_seqnum_; }
  // The agent's first event of the current call.
  const v1::SubscriptionStarted& started() const noexcept { return started_; }
  // How many times the subscription was re-established after a lost
  // connection.
  std::uint32_t resumes() const noexcept { return resumes_; }
  // Ends the call in the agent.
  void cancel();

  // Establishes the call and waits for the agent's start marker (subscribe()
  // does this).
  boost::asio::awaitable<void> open();

 private:
  client& guest_;
  v1::DeviceFilter filter_;
  subscribe_options opts_;
  std::unique_ptr<call_stream> stream_;
  std::optional<std::uint64_t> last_seqnum_;
  std::optional<std::uint64_t> resume_from_;  // when nothing was received yet
  v1::SubscriptionStarted started_;
  std::uint32_t resumes_ = 0;
};

// Starts a subscription and returns once the agent has registered it: every
// event from then on will be delivered. Throws tether::error.
boost::asio::awaitable<std::unique_ptr<subscription>> subscribe(client& guest, const filter& f,
                                                                subscribe_options opts = {});

}  // namespace tether::devices
