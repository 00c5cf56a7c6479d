#include "transport/virtio_port.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "log.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent {
namespace fs = std::filesystem;

std::string resolve_virtio_port(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos)
    return fs::exists(name_or_path) ? name_or_path : std::string();
  const fs::path link = fs::path("/dev/virtio-ports") / name_or_path;
  std::error_code ec;
  if (fs::exists(link, ec)) return link.string();
  for (const auto& e : fs::directory_iterator("/sys/class/virtio-ports", ec)) {
    std::ifstream f(e.path() / "name");
    std::string n;
    std::getline(f, n);
    if (n == name_or_path) {
      const fs::path dev = fs::path("/dev") / e.path().filename();
      if (fs::exists(dev, ec)) return dev.string();
    }
  }
  return {};
}

namespace {

// SIGIO (O_ASYNC) only while waiting for a host: the driver also raises it
// for every buffer of incoming data, which would cost the agent a signal
// per request. A connected session learns of a disconnect without it: the
// port polls readable (POLLHUP) and reads 0 bytes.
void set_async(int fd, bool on) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC);
}

// One open port fd as a byte_stream for the duration of a host connection.
enum class port_state { host_connected, host_away, gone };

port_state probe(int fd, const std::string& sysfs) {
  pollfd p{fd, POLLIN | POLLOUT, 0};
  ::poll(&p, 1, 0);
  struct stat st{};
  if ((p.revents & POLLNVAL) || (!sysfs.empty() && ::stat(sysfs.c_str(), &st) != 0))
    return port_state::gone;
  return (p.revents & POLLHUP) ? port_state::host_away : port_state::host_connected;
}

// Large writes go to the port through a pipe. write(2) on a port sends at
// most 32 KiB, each its own virtqueue buffer and host notification (under
// TCG, the guest's CPU runs the device model meanwhile); splice(2) from a
// pipe sends all the pipe holds as one buffer. The pages write(2) puts into
// the pipe are moved to the port, not copied again.
class port_pipe {
 public:
  port_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    r_.reset(fds[0]);
    w_.reset(fds[1]);
    // If the size cannot grow, the default (64 KiB) still batches.
    ::fcntl(w_.get(), F_SETPIPE_SZ, static_cast<int>(wanted));
  }
  explicit operator bool() const noexcept { return static_cast<bool>(r_); }
  int read_end() const noexcept { return r_.get(); }
  int write_end() const noexcept { return w_.get(); }

  static constexpr std::size_t wanted = 1 << 20;
  // Below this a plain write is one buffer anyway, and one syscall.
  static constexpr std::size_t worth_it = 32 * 1024;

 private:
  unique_fd r_, w_;
};

// How long a "no host" read waits for the host's connect notice before the
// session ends (see port_stream::read_some).
constexpr auto host_notice_grace = std::chrono::milliseconds(100);

class port_stream final : public io::byte_stream {
 public:
  port_stream(asio::posix::stream_descriptor& sd, std::string path, std::string sysfs,
              port_events& events)
      : sd_(sd), path_(std::move(path)), sysfs_(std::move(sysfs)), events_(events) {}

  awaitable<std::size_t> read_some(std::span<std::uint8_t> into) override {
    for (;;) {
      std::size_t total = 0;
      // Many small reads per wake-up: each returns one receive buffer.
      while (total < into.size()) {
        const ssize_t n = ::read(sd_.native_handle(), into.data() + total, into.size() - total);
        if (n > 0) {
          total += static_cast<std::size_t>(n);
          continue;
        }
        if (n == 0) {
          if (total) break;
          // "No host" — or not yet: the host's data and its open/close
          // notices travel on different virtqueues, so a reconnecting host's
          // bytes can be read before the guest has processed its "open".
          // Ending the session then would discard a handshake just answered.
          const bool back = co_await host_returns();
          if (back) continue;
          throw boost::system::system_error(asio::error::eof);  // host went away
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        if (total) break;  // report the error on the next call
        throw boost::system::system_error(errno, boost::system::system_category(),
                                          "read " + path_);
      }
      if (total) co_return total;
      co_await sd_.async_wait(asio::posix::descriptor_base::wait_read, use_awaitable);
    }
  }

  awaitable<void> write_all(std::span<const asio::const_buffer> bufs) override {
    std::size_t total = 0;
    for (const auto& b : bufs) total += b.size();
    if (pipe_ && total > port_pipe::worth_it) co_return co_await write_through_pipe(bufs);
    for (const auto& b : bufs) {
      auto* p = static_cast<const char*>(b.data());
      std::size_t left = b.size();
      while (left) {
        const ssize_t n = ::write(sd_.native_handle(), p, left);
        if (n > 0) {
          p += n;
          left -= static_cast<std::size_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN)
          throw boost::system::system_error(errno, boost::system::system_category(),
                                            "write " + path_);
        co_await sd_.async_wait(asio::posix::descriptor_base::wait_write, use_awaitable);
      }
    }
  }

  void close() override {
    boost::system::error_code ec;
    sd_.cancel(ec);  // the port stays open for the next host connection
  }

  std::string describe() const override { return path_; }

 private:
  // Fills the pipe from `bufs` and splices it into the port, until all is
  // written. Bytes left in the pipe when this throws go with the stream
  // (the session ends; a half-sent frame is what the resync handles).
  awaitable<void> write_through_pipe(std::span<const asio::const_buffer> bufs) {
    std::vector<iovec> iov;
    iov.reserve(bufs.size());
    for (const auto& b : bufs)
      if (b.size()) iov.push_back({const_cast<void*>(b.data()), b.size()});
    std::size_t next = 0, in_pipe = 0;
    const auto fail = [this](const char* what) {
      throw boost::system::system_error(errno, boost::system::system_category(), what + path_);
    };
    while (next < iov.size() || in_pipe > 0) {
      while (next < iov.size()) {
        const ssize_t n = ::writev(pipe_.write_end(), &iov[next],
                                   static_cast<int>(std::min<std::size_t>(iov.size() - next, IOV_MAX)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;  // pipe full: drain it first
        if (n < 0) fail("write to the pipe of ");
        in_pipe += static_cast<std::size_t>(n);
        for (auto left = static_cast<std::size_t>(n); left > 0;) {
          const std::size_t step = std::min(left, iov[next].iov_len);
          iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + step;
          iov[next].iov_len -= step;
          left -= step;
          if (iov[next].iov_len == 0) ++next;
        }
      }
      const ssize_t m = ::splice(pipe_.read_end(), nullptr, sd_.native_handle(), nullptr, in_pipe,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m > 0) {
        in_pipe -= static_cast<std::size_t>(m);
        continue;
      }
      if (m < 0 && errno == EINTR) continue;
      if (m < 0 && errno == EAGAIN) {
        co_await sd_.async_wait(asio::posix::descriptor_base::wait_write, use_awaitable);
        continue;
      }
      // 0: the driver took the pipe's pages but could not queue them.
      if (m == 0) errno = EIO;
      fail("splice into ");
    }
  }

  // True if the host shows up as connected within the grace period.
  awaitable<bool> host_returns() {
    const auto until = std::chrono::steady_clock::now() + host_notice_grace;
    set_async(sd_.native_handle(), true);  // before probing: no notice slips by
    for (;;) {
      const auto st = probe(sd_.native_handle(), sysfs_);
      if (st == port_state::host_connected) {
        set_async(sd_.native_handle(), false);
        co_return true;
      }
      if (st == port_state::gone) co_return false;
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) co_return false;
      co_await events_.wait(until - now);  // SIGIO arrives with the notice
    }
  }

  asio::posix::stream_descriptor& sd_;
  std::string path_;
  std::string sysfs_;
  port_events& events_;
  port_pipe pipe_;
};

}  // namespace

virtio_port::virtio_port(const asio::any_io_executor& ex, std::string name_or_path,
                         port_events& events, std::function<void()> on_first_open)
    : ex_(ex), name_(std::move(name_or_path)), events_(events),
      on_first_open_(std::move(on_first_open)) {}

awaitable<void> virtio_port::serve(session_fn run_session) {
  bool said_missing = false;
  for (;;) {
    const std::string path = resolve_virtio_port(name_);
    if (path.empty()) {
      if (!said_missing) log::notice("waiting for virtio port {} to appear", name_);
      said_missing = true;
      co_await events_.wait(30s);
      continue;
    }
    said_missing = false;
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      const int err = errno;
      if (err == EBUSY)
        log::error("{} is open in another process (another agent?); retrying in 5 s", path);
      else
        log::error("cannot open {}: {}; retrying in 5 s", path, std::strerror(err));
      asio::steady_timer t(ex_, 5s);
      co_await t.async_wait(use_awaitable);
      continue;
    }
    // SIGIO on host connect/disconnect and unplug (port_events catches it).
    ::fcntl(fd, F_SETOWN, ::getpid());
    const std::string sysfs = "/sys/class/virtio-ports/" + fs::canonical(path).filename().string();
    asio::posix::stream_descriptor sd(ex_, fd);
    log::notice("serving on {} ({})", path, name_);
    if (on_first_open_) std::exchange(on_first_open_, nullptr)();

    for (;;) {
      set_async(fd, true);  // before probing: no notice slips by
      const auto st = probe(fd, sysfs);
      if (st == port_state::gone) break;
      if (st == port_state::host_away) {
        co_await events_.wait(60s);
        continue;
      }
      set_async(fd, false);
      port_stream stream(sd, path, sysfs, events_);
      log::info("host connected on {}", path);
      co_await run_session(stream);
      log::info("host disconnected from {}", path);
    }
    log::notice("{} was unplugged; waiting for it to return", path);
  }
}

}  // namespace tether::agent
