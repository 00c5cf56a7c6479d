// The guest end of a virtio-serial port as a sequence of host connections.
//
// The port device stays open across host connections; "a connection" is the
// time between the host opening and closing its chardev socket. Facts from
// drivers/char/virtio_console.c shape this code:
//  - with no host, read() returns 0 and poll() reports POLLHUP continuously,
//    so we never poll then: we wait for SIGIO (O_ASYNC) or a uevent;
//  - a read returns at most one 4 KiB buffer, so each wake-up reads in a loop;
//  - hot-unplug makes reads fail with ENODEV: we close and wait for the port
//    to come back (virtio-ports uevent), resolving its name afresh.
#pragma once

#include <functional>
#include <string>

#include "tether/common/byte_stream.hpp"
#include "transport/port_events.hpp"

namespace tether::agent {

// "org.tether.agent.0" → /dev/virtio-ports/NAME, or the /dev/vportNpM whose
// sysfs name matches when udev made no symlink. Paths are taken as they are.
// Empty when not found.
std::string resolve_virtio_port(const std::string& name_or_path);

class virtio_port {
 public:
  using session_fn = std::function<awaitable<void>(io::byte_stream&)>;

  virtio_port(const asio::any_io_executor& ex, std::string name_or_path, port_events& events,
              std::function<void()> on_first_open = {});

  // Serves host connections one after another until cancelled.
  awaitable<void> serve(session_fn run_session);

 private:
  asio::any_io_executor ex_;
  std::string name_;
  port_events& events_;
  std::function<void()> on_first_open_;
};

}  // namespace tether::agent
