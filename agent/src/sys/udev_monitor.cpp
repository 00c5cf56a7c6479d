#include "sys/udev_monitor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "log.hpp"

namespace tether::agent::udev {
namespace {

int dup_or_throw(int fd) {
  const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) throw std::system_error(errno, std::generic_category(), "dup of the udev monitor socket");
  return d;
}

monitor_ptr make_monitor(::udev* ctx, int receive_buffer) {
  errno = 0;
  monitor_ptr m(::udev_monitor_new_from_netlink(ctx, "udev"));
  if (!m) throw std::system_error(errno ? errno : EIO, std::generic_category(), "creating the udev monitor");
  if (int r = ::udev_monitor_set_receive_buffer_size(m.get(), receive_buffer); r < 0)
    log::debug("udev monitor: cannot set a {} byte receive buffer: {}", receive_buffer,
               std::generic_category().message(-r));
  if (int r = ::udev_monitor_enable_receiving(m.get()); r < 0)
    throw std::system_error(-r, std::generic_category(), "enabling the udev monitor");
  return m;
}

}  // namespace

udev_monitor::udev_monitor(const asio::any_io_executor& ex, ::udev* ctx, int receive_buffer)
    : monitor_(make_monitor(ctx, receive_buffer)),
      fd_(ex, dup_or_throw(::udev_monitor_get_fd(monitor_.get()))) {}

udev_monitor::~udev_monitor() { close(); }

void udev_monitor::close() {
  boost::system::error_code ec;
  fd_.close(ec);
}

awaitable<void> udev_monitor::wait_readable() {
  co_await fd_.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable);
}

udev_monitor::received udev_monitor::receive() {
  if (!fd_.is_open()) return {};
  errno = 0;
  device_ptr d(::udev_monitor_receive_device(monitor_.get()));
  if (d) return {std::move(d), false};
  if (errno == ENOBUFS) return {nullptr, true};
  if (errno != 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    log::warning("udev monitor: receiving an event failed: {}", std::generic_category().message(errno));
  return {};
}

}  // namespace tether::agent::udev
