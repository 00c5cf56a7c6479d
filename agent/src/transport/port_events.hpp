// Wake-ups for virtio ports: SIGIO (the driver signals host connect and
// disconnect and port unplug to files opened with O_ASYNC + F_SETOWN) and
// kernel uevents of the virtio-ports subsystem (a port plugged back in).
// Waiting on these instead of polling keeps an idle agent at zero CPU.
#pragma once

#include <memory>

#include "sys/udev.hpp"
#include "tether/common/async_event.hpp"

namespace tether::agent {

class port_events {
 public:
  // Must exist before any port is opened with O_ASYNC: SIGIO's default
  // action would kill the process.
  explicit port_events(const asio::any_io_executor& ex);
  ~port_events();

  // Returns after the next SIGIO or virtio-ports uevent, or after `fallback`
  // (a safety net against a lost signal; long enough to cost nothing).
  awaitable<void> wait(std::chrono::steady_clock::duration fallback);
  void stop();

 private:
  awaitable<void> signal_loop();
  awaitable<void> uevent_loop();

  asio::signal_set sigio_;
  async_event changed_;
  udev::context_ptr udev_;
  udev::monitor_ptr monitor_;
  std::unique_ptr<asio::posix::stream_descriptor> monitor_fd_;
};

}  // namespace tether::agent
