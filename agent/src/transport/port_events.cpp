#include "transport/port_events.hpp"

#include <unistd.h>

#include <csignal>

#include "log.hpp"
#include "tether/common/race.hpp"

namespace tether::agent {


port_events::port_events(const asio::any_io_executor& ex) : sigio_(ex, SIGIO), changed_(ex) {
  asio::co_spawn(ex, signal_loop(), asio::detached);
  // Kernel uevents need no udevd: the fast initramfs guest may not run one.
  try {
    udev_ = udev::make_context();
    monitor_.reset(::udev_monitor_new_from_netlink(udev_.get(), "kernel"));
    if (monitor_ &&
        ::udev_monitor_filter_add_match_subsystem_devtype(monitor_.get(), "virtio-ports", nullptr) >= 0 &&
        ::udev_monitor_enable_receiving(monitor_.get()) >= 0) {
      monitor_fd_ = std::make_unique<asio::posix::stream_descriptor>(
          ex, ::dup(::udev_monitor_get_fd(monitor_.get())));
      asio::co_spawn(ex, uevent_loop(), asio::detached);
    } else {
      log::warning("cannot watch virtio-ports uevents; relying on SIGIO and periodic checks");
      monitor_.reset();
    }
  } catch (const std::exception& e) {
    log::warning("udev unavailable ({}); relying on SIGIO and periodic checks", e.what());
  }
}

port_events::~port_events() { stop(); }

void port_events::stop() {
  boost::system::error_code ec;
  sigio_.cancel(ec);
  if (monitor_fd_) monitor_fd_->close(ec);
  changed_.notify_all();
}

awaitable<void> port_events::signal_loop() {
  for (;;) {
    boost::system::error_code ec;
    co_await sigio_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    changed_.notify_all();
  }
}

awaitable<void> port_events::uevent_loop() {
  for (;;) {
    boost::system::error_code ec;
    co_await monitor_fd_->async_wait(asio::posix::descriptor_base::wait_read,
                                     asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    // Drain; the content does not matter, only that ports changed.
    while (udev::device_ptr d{::udev_monitor_receive_device(monitor_.get())}) {
      log::debug("virtio-ports uevent: {} {}", udev::str(::udev_device_get_action(d.get())),
                 udev::str(::udev_device_get_sysname(d.get())));
    }
    changed_.notify_all();
  }
}

awaitable<void> port_events::wait(std::chrono::steady_clock::duration fallback) {
  co_await with_timeout(changed_.wait(), fallback);
}

}  // namespace tether::agent
