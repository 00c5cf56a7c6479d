// The agent's one udev monitor, shared by every devices call of every
// session. It runs from agent start (if udevd runs then; otherwise from the
// first devices call), feeds waiters immediately, and feeds subscribers
// through the reorder stage and the replay ring (event_log.hpp).
//
// Race-freedom (the Kata agent's lesson, on one thread instead of a lock):
// a wait or subscription first drains what the monitor socket already holds,
// then registers, then looks at existing devices, all without suspending, so
// every later event reaches it and every earlier one is visible in the udev
// database or in the hub's record of recent events.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "devices/device_filter.hpp"
#include "devices/event_log.hpp"
#include "sys/udev.hpp"
#include "tether/common/async_event.hpp"

namespace tether::agent::udev {
class udev_monitor;
}

namespace tether::agent::devices {

struct hub_options {
  // Events kept for replay to resuming subscribers (and as slack for slow
  // ones). ~1-2 KiB each.
  std::size_t ring_capacity = 4096;
  // How long an event waits for a missing lower sequence number.
  std::chrono::milliseconds reorder_window{500};
  // Exists while systemd-udevd runs.
  std::string udev_control_path = "/run/udev/control";
  // Socket buffer asked for the monitor, against bursts (udevadm uses 128 MiB).
  int receive_buffer = 128 << 20;
};

class device_hub : public std::enable_shared_from_this<device_hub> {
 public:
  device_hub(asio::any_io_executor ex, hub_options options);
  ~device_hub();
  device_hub(const device_hub&) = delete;
  device_hub& operator=(const device_hub&) = delete;

  // Starts the monitor if udevd runs; false if it does not (yet). Throws if
  // udevd runs but the monitor cannot be created.
  bool try_start();
  // Makes sure the monitor runs, or throws call_error(UNAVAILABLE) saying why.
  void require_available();
  // Ends the monitor; waiting calls fail with UNAVAILABLE.
  void stop();
  bool stopped() const noexcept { return stopped_; }
  const hub_options& options() const noexcept { return opts_; }

  // Existing, initialized devices matching `f`.
  std::vector<device_info> list(const device_filter& f);

  struct wait_state;
  // A registered devices.Wait; unregisters when destroyed.
  class wait_registration {
   public:
    wait_registration(std::shared_ptr<device_hub> hub, std::unique_ptr<wait_state> state);
    ~wait_registration();
    bool done() const;
    bool already() const;  // satisfied at registration
    const std::optional<device_info>& result() const;
    // gone: devpaths of matching devices that still exist.
    const std::set<std::string>& remaining() const;
    async_event& changed();

   private:
    std::shared_ptr<device_hub> hub_;
    std::unique_ptr<wait_state> state_;
  };
  std::unique_ptr<wait_registration> register_wait(const device_filter& f, bool gone);

  struct subscriber_state;
  // A registered devices.Subscribe; unregisters when destroyed.
  class subscription {
   public:
    struct item {
      enum class kind { device, lost };
      kind what = kind::device;
      std::shared_ptr<const std::string> payload;  // device: serialized DeviceEvent
      std::uint64_t lost_count = 0;
      bool lost_unknown = false;
      std::string reason;
    };
    struct start_info {
      std::uint64_t current_seqnum = 0;
      std::uint32_t replayed = 0;  // matching entries queued from the ring
      std::optional<event_ring::resume_point> resume;  // set when resuming
      std::uint64_t resume_after = 0;
    };

    subscription(std::shared_ptr<device_hub> hub, std::unique_ptr<subscriber_state> state);
    ~subscription();
    const start_info& started() const;
    // The next item to send, in order; waits for events. Throws
    // call_error(UNAVAILABLE) when the hub stops, operation_aborted when the
    // calling coroutine is cancelled.
    awaitable<item> next();

   private:
    std::shared_ptr<device_hub> hub_;
    std::unique_ptr<subscriber_state> state_;
  };
  std::unique_ptr<subscription> register_subscription(const device_filter& f,
                                                       std::optional<std::uint64_t> resume_after);

 private:
  static awaitable<void> monitor_loop(std::shared_ptr<device_hub> self);
  void drain(std::size_t budget);
  void on_device(::udev_device* d, std::vector<log_entry>& released);
  void on_overflow(std::vector<log_entry>& released);
  void publish(std::vector<log_entry>& released);
  void arm_reorder_timer();
  void note_recent(const device_info& d);
  // True if `d` (read from the database) is a device whose remove event
  // already came: same devpath and same initialization, i.e. not a new
  // device at the old path.
  bool recently_removed(const device_info& d) const;
  void evaluate(wait_state& w, const device_info& d);
  void rescan(wait_state& w);
  void add_attribute_keys(const device_filter& f);
  void remove_attribute_keys(const device_filter& f);
  void prime_attribute_cache(const device_filter& f);
  void unregister(wait_state* w);
  void unregister(subscriber_state* s);

  asio::any_io_executor ex_;
  hub_options opts_;
  udev::context_ptr udev_;
  std::unique_ptr<udev::udev_monitor> monitor_;
  std::optional<seqnum_orderer> orderer_;
  std::optional<event_feed> feed_;
  asio::steady_timer reorder_timer_;
  std::optional<steady_clock::time_point> reorder_armed_;
  async_event ring_changed_;
  bool stopped_ = false;

  std::list<wait_state*> waiters_;

  // sysfs attributes named by live filters (reference counts), and their
  // last values per devpath, for matching remove events.
  std::map<std::string, int> attr_keys_;
  std::unordered_map<std::string, std::map<std::string, std::string>> attr_cache_;

  // The latest event per devpath, for the last ring_capacity events: a
  // device can linger in sysfs for a moment after its remove event.
  struct recent_state {
    std::uint64_t tick = 0;  // recent_tick_ when recorded
    bool removed = false;
    std::uint64_t usec_initialized = 0;  // of the removed incarnation
  };
  std::uint64_t recent_tick_ = 0;
  std::unordered_map<std::string, recent_state> recent_;
  std::deque<std::pair<std::string, std::uint64_t>> recent_order_;
};

}  // namespace tether::agent::devices
