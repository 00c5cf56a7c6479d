// The guest's devices as its udev sees them: list, wait for a device to
// appear or go (no sleeps, no polling), and subscribe to udev events.
//
//   // after QMP device_add of a disk with serial=disk7:
//   auto d = co_await tether::devices::wait_for(
//       guest, {.subsystem = "block", .properties = {{"ID_SERIAL", "disk7"}}}, 30s);
//   // d.devnode == "/dev/vdb", d.devlinks has /dev/disk/by-id/virtio-disk7
//
// Only devices that udev in the guest has initialized (rules applied) count.
// Every call fails with a remote UNAVAILABLE error when systemd-udevd does not
// run in the guest. Names follow pyudev where they can.
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

namespace tether {
class blocking_client;
template <class Subscription>
class blocking_subscription;
}  // namespace tether

namespace tether::devices {

// A device as the guest's udev describes it, or a udev event about it.
struct device {
  // udev action: "add", "remove", "change", "move", "bind", "unbind",
  // "online", "offline"; empty for devices listed from udev's database.
  std::string action;
  // Kernel uevent sequence number (SEQNUM) of the event; 0 when listed.
  std::uint64_t seqnum = 0;
  std::string subsystem;  // "block", "net", ...
  std::string devtype;    // "disk", "partition", ... (may be empty)
  // Path below /sys ("/devices/pci0000:00/.../block/vda"): pyudev's
  // device_path. sys_path() is the absolute one.
  std::string device_path;
  std::string sys_name;  // kernel name, e.g. "vda"
  std::string devnode;   // "/dev/vda"; empty if the device has none
  std::vector<std::string> devlinks;  // "/dev/disk/by-id/virtio-disk7", ...
  // Every udev property of the device (of the event, for remove).
  std::map<std::string, std::string> properties;
  std::vector<std::string> tags;  // udev tags
  std::string driver;             // bound driver, if any
  // sysfs attribute values (trailing whitespace removed) that a filter named.
  std::map<std::string, std::string> attributes;
  // Guest CLOCK_MONOTONIC (us) when udev initialized the device; 0 unknown.
  std::uint64_t usec_initialized = 0;
  // When the agent received the event (or read the database): guest
  // CLOCK_REALTIME in ns, and CLOCK_MONOTONIC in us (compare with
  // usec_initialized).
  std::int64_t received_time_ns = 0;
  std::uint64_t received_monotonic_usec = 0;
  // Subscriptions: udevd finished this event after later ones were
  // delivered (delivered anyway rather than dropped).
  bool out_of_order = false;

  std::string sys_path() const { return "/sys" + device_path; }
};

// Matching events were lost (never silently).
struct lost_events {
  std::uint64_t count = 0;     // 0 when count_unknown
  bool count_unknown = false;  // the guest kernel dropped udev messages
  std::string reason;
};

// The events a resume asked for are not all available any more.
struct replay_gap {
  std::uint64_t resume_after_seqnum = 0;     // the resume point asked for
  std::uint64_t first_available_seqnum = 0;  // events before it may be missed; 0 unknown
  // The resume point is ahead of the guest's sequence (the guest rebooted,
  // or the number came from another guest); live events follow.
  bool sequence_reset = false;
  std::string reason;
};

// One item of a subscription.
struct event {
  enum class kind { device, lost, replay_gap };
  kind what = kind::device;
  devices::device device;  // kind::device: the device and its action
  lost_events lost;        // kind::lost
  devices::replay_gap gap;  // kind::replay_gap
};

// The agent's confirmation that a subscription runs: from then on no event
// is missed.
struct subscription_started {
  std::uint64_t current_seqnum = 0;  // the guest's uevent sequence number then
  std::uint32_t replayed = 0;        // events replayed before live ones (resume)
  std::uint32_t ring_capacity = 0;   // the agent's replay ring, in events
};

// Which devices: every set condition must hold; an empty filter matches all.
// String values are shell globs (fnmatch), e.g. sysname "vd*".
struct filter {
  std::string subsystem;                          // "block", "net", ...
  std::string devtype;                            // "disk", "partition", ...
  std::string sys_name;                           // kernel name glob
  std::map<std::string, std::string> properties;  // udev property -> glob
  std::vector<std::string> tags;                  // udev tags, all required
  std::map<std::string, std::string> attributes;  // sysfs attribute -> glob
};

// Existing devices that match, as udev's database describes them (action and
// seqnum empty). Throws tether::error.
boost::asio::awaitable<std::vector<device>> list(client& guest, const filter& f, call_options call = {});

struct wait_options {
  // Wait until no matching device exists instead.
  bool gone = false;
  // How long the agent waits. milliseconds::max(): until cancelled.
  milliseconds timeout{30'000};
};

struct wait_result {
  // The device (or, for gone, the remove event) that satisfied the wait;
  // empty for gone when no matching device existed in the first place.
  std::optional<devices::device> device;
  // The condition already held when the wait started.
  bool already = false;
};

// Waits in the guest for a matching initialized device (or for none, with
// gone). Returns at once if the condition holds; never misses a device that
// appears while the call starts. On timeout throws a remote
// DEADLINE_EXCEEDED tether::error that says what was waited for. The call's
// deadline (0: opts.timeout plus a margin) only backs up the agent's.
boost::asio::awaitable<wait_result> wait(client& guest, const filter& f, wait_options opts = {},
                                         call_options call = {});

// wait() for presence: the matching device.
boost::asio::awaitable<device> wait_for(client& guest, const filter& f, milliseconds timeout,
                                        call_options call = {});
// wait() with gone.
boost::asio::awaitable<void> wait_gone(client& guest, const filter& f, milliseconds timeout,
                                       call_options call = {});

struct subscribe_options {
  // Start by replaying the events after this sequence number that the agent
  // still holds (e.g. the last one a previous subscription delivered).
  std::optional<std::uint64_t> resume_after_seqnum;
  // When the connection to the agent is lost, subscribe again after the
  // last event received (the agent replays what was missed, or reports a
  // replay gap). Otherwise next() throws the connection error.
  bool auto_resume = true;
};

// A running devices.Subscribe. Events come in guest sequence-number order;
// losses are never silent (lost and replay_gap items). Move-only;
// destroying it ends the call.
class subscription {
 public:
  // open() (or subscribe()) starts the call. `call` bounds each
  // (re)connection to the agent.
  subscription(client& guest, filter f, subscribe_options opts = {}, call_options call = {});
  // An ended subscription (next() returns nullopt), to assign to later.
  subscription() = default;
  ~subscription();
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) = delete;

  // The next item: a device event, a lost_events or a replay_gap marker;
  // nullopt once the subscription ended (after cancel()). Throws
  // tether::error when the subscription fails and cannot resume.
  boost::asio::awaitable<std::optional<event>> next();

  // The sequence number of the last device event returned, if any.
  std::optional<std::uint64_t> last_seqnum() const noexcept { return last_seqnum_; }
  // The agent's start marker of the current call.
  const subscription_started& started() const noexcept { return started_; }
  // How many times the subscription was re-established after a lost
  // connection.
  std::uint32_t resumes() const noexcept { return resumes_; }
  // Asks the agent to end the call; next() then returns nullopt.
  void cancel();

  // Establishes the call and waits for the agent's start marker (subscribe()
  // does this).
  boost::asio::awaitable<void> open();

 private:
  client* guest_ = nullptr;
  filter filter_;
  subscribe_options opts_;
  call_options call_;
  std::unique_ptr<call_stream> stream_;
  std::optional<std::uint64_t> last_seqnum_;
  std::optional<std::uint64_t> resume_from_;  // when nothing was received yet
  subscription_started started_;
  std::uint32_t resumes_ = 0;
  bool cancelled_ = false;
};

// Starts a subscription and returns once the agent has registered it: every
// event from then on will be delivered. Throws tether::error.
boost::asio::awaitable<subscription> subscribe(client& guest, const filter& f, subscribe_options opts = {},
                                               call_options call = {});

// Blocking forms (blocking_client.hpp).
std::vector<device> list(blocking_client& guest, const filter& f, call_options call = {});
wait_result wait(blocking_client& guest, const filter& f, wait_options opts = {}, call_options call = {});
device wait_for(blocking_client& guest, const filter& f, milliseconds timeout, call_options call = {});
void wait_gone(blocking_client& guest, const filter& f, milliseconds timeout, call_options call = {});
blocking_subscription<subscription> subscribe(blocking_client& guest, const filter& f, subscribe_options opts = {},
                                              call_options call = {});

}  // namespace tether::devices
