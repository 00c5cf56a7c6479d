// udevd's event broadcast (the "udev" netlink group: events after rules ran,
// with symlinks and ID_* properties), driven from Asio: the socket is waited
// on with stream_descriptor::async_wait and read without blocking.
#pragma once

#include <memory>

#include "sys/udev.hpp"
#include "tether/common/asio.hpp"

namespace tether::agent::udev {

class udev_monitor {
 public:
  // Creates the monitor and enables receiving (events queue in the socket
  // from here on). Asks for a `receive_buffer` byte socket buffer (needs
  // CAP_NET_ADMIN beyond rmem_max; a smaller buffer is only logged). Throws
  // std::system_error on failure.
  udev_monitor(const asio::any_io_executor& ex, ::udev* ctx, int receive_buffer);
  ~udev_monitor();
  udev_monitor(const udev_monitor&) = delete;
  udev_monitor& operator=(const udev_monitor&) = delete;

  // Returns once the socket has data; throws operation_aborted after close().
  awaitable<void> wait_readable();

  struct received {
    device_ptr device;      // one event, or null
    bool overflow = false;  // the kernel dropped messages (ENOBUFS)
  };
  // Takes one pending event without blocking; {} when none is pending.
  received receive();

  void close();

 private:
  monitor_ptr monitor_;
  asio::posix::stream_descriptor fd_;  // a dup of the monitor's socket
};

}  // namespace tether::agent::udev
