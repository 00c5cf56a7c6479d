// tether-bench-floor: what the guest itself can do, with no agent and no
// channel in the way. The benchmark uploads this static binary into the
// guest and runs it, so the table can show the floor under each target:
// no agent can start a process faster than the guest's kernel does, nor
// verify a download faster than the guest's CPU hashes.
//
//   tether-bench-floor spawn PROGRAM COUNT  median ms of posix_spawn + waitpid
//   tether-bench-floor hash FILE [BYTES]    MB/s of SHA-256, XXH64 and XXH3-128
//                                           over FILE (its first BYTES, read
//                                           into memory first), through the
//                                           libraries the agent hashes with
//   tether-bench-floor read-port PORT BYTES  MB/s of reading BYTES from a
//                                           virtio-serial port as the agent
//                                           does (256 KiB buffer, many reads
//                                           per wake-up), first byte to last
//   tether-bench-floor send-file FILE PORT write|splice
//                                           MB/s of moving FILE into PORT with
//                                           pread + write (256 KiB) or with
//                                           splice through a pipe (zero copy)
//   tether-bench-floor echo-port PORT BYTES  echoes what arrives on PORT back
//                                           to it until BYTES came: the host's
//                                           round trip floor for ping
#include <fcntl.h>  // splice, F_SETPIPE_SZ (_GNU_SOURCE: g++ defines it)
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tether/common/checksum.hpp"

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

int spawn(const char* program, int count) {
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    char* argv[] = {const_cast<char*>(program), nullptr};
    const auto t0 = clock_type::now();
    pid_t pid = 0;
    if (const int err = ::posix_spawn(&pid, program, nullptr, nullptr, argv, environ); err != 0) {
      std::fprintf(stderr, "tether-bench-floor: posix_spawn %s: error %d\n", program, err);
      return 1;
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
      std::fprintf(stderr, "tether-bench-floor: %s did not exit normally\n", program);
      return 1;
    }
    ms.push_back(seconds_since(t0) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("spawn_ms %.3f\n", ms[ms.size() / 2]);
  return 0;
}

// In 256 KiB updates, as the agent hashes a transfer. (One update over the
// whole buffer ran at about half the speed in the TCG guest, for reasons of
// the emulator rather than of the hash.)
double rate(tether::checksum_kind kind, const std::string& data) {
  constexpr std::size_t piece = 256 * 1024;
  const auto t0 = clock_type::now();
  tether::checksum h(kind);
  for (std::size_t off = 0; off < data.size(); off += piece) h.update(std::string_view(data).substr(off, piece));
  volatile auto sink = h.finish()[0];
  (void)sink;
  return static_cast<double>(data.size()) / 1e6 / seconds_since(t0);
}

int hash(const char* path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string data(limit, '\0');
  if (in) in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.gcount() == 0) {
    std::fprintf(stderr, "tether-bench-floor: cannot read %s\n", path);
    return 1;
  }
  data.resize(static_cast<std::size_t>(in.gcount()));
  using tether::checksum_kind;
  std::printf("sha256_mbps %.1f\nxxh64_mbps %.1f\nxxh3_mbps %.1f\n", rate(checksum_kind::sha256, data),
              rate(checksum_kind::xxh64, data), rate(checksum_kind::xxh3_128, data));
  return 0;
}

// Reads what is there, as the agent's port_stream does: many reads per
// wake-up (each returns at most one 4 KiB receive buffer), then poll.
std::size_t read_batch(int fd, char* into, std::size_t room) {
  std::size_t total = 0;
  while (total < room) {
    const ssize_t n = ::read(fd, into + total, room - total);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (total > 0 || (n < 0 && errno != EAGAIN)) break;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, -1);
  }
  return total;
}

int open_port(const char* path) {
  const int fd = ::open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) std::fprintf(stderr, "tether-bench-floor: cannot open %s\n", path);
  return fd;
}

int read_port(const char* path, std::size_t bytes) {
  const int fd = open_port(path);
  if (fd < 0) return 1;
  std::vector<char> buf(256 * 1024);
  std::size_t got = read_batch(fd, buf.data(), std::min(buf.size(), bytes));
  const auto first = clock_type::now();  // the first batch's wait is the host's start, not the channel
  const std::size_t first_batch = got;
  while (got < bytes) got += read_batch(fd, buf.data(), std::min(buf.size(), bytes - got));
  std::printf("read_mbps %.1f\n", static_cast<double>(got - first_batch) / 1e6 / seconds_since(first));
  ::close(fd);
  return 0;
}

void wait_writable(int fd) {
  pollfd p{fd, POLLOUT, 0};
  ::poll(&p, 1, -1);
}

int send_file(const char* file, const char* port, const std::string& mode) {
  const int in = ::open(file, O_RDONLY | O_CLOEXEC);
  const int out = open_port(port);
  if (in < 0 || out < 0) return 1;
  std::size_t sent = 0;
  const auto t0 = clock_type::now();
  if (mode == "splice") {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return 1;
    ::fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
    for (;;) {
      const ssize_t n = ::splice(in, nullptr, pipe_fds[1], nullptr, 1 << 20, SPLICE_F_MOVE);
      if (n <= 0) break;
      for (ssize_t left = n; left > 0;) {
        const ssize_t w = ::splice(pipe_fds[0], nullptr, out, nullptr, static_cast<std::size_t>(left),
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (w > 0) left -= w;
        else if (w < 0 && errno == EAGAIN) wait_writable(out);
        else if (w < 0 && errno != EINTR) return 1;
      }
      sent += static_cast<std::size_t>(n);
    }
  } else {
    std::vector<char> buf(256 * 1024);
    for (;;) {
      const ssize_t n = ::read(in, buf.data(), buf.size());
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        const ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
        if (w > 0) off += w;
        else if (w < 0 && errno == EAGAIN) wait_writable(out);
        else if (w < 0 && errno != EINTR) return 1;
      }
      sent += static_cast<std::size_t>(n);
    }
  }
  std::printf("send_mbps %.1f\n", static_cast<double>(sent) / 1e6 / seconds_since(t0));
  return 0;
}

int echo_port(const char* path, std::size_t bytes) {
  const int fd = open_port(path);
  if (fd < 0) return 1;
  std::vector<char> buf(64 * 1024);
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t n = read_batch(fd, buf.data(), std::min(buf.size(), bytes - done));
    for (std::size_t off = 0; off < n;) {
      const ssize_t w = ::write(fd, buf.data() + off, n - off);
      if (w > 0) {
        off += static_cast<std::size_t>(w);
      } else if (w < 0 && errno != EINTR) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
      }
    }
    done += n;
  }
  std::printf("echoed %zu\n", bytes);
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "spawn" && argc == 4) return spawn(argv[2], std::max(1, std::atoi(argv[3])));
  if (verb == "hash" && (argc == 3 || argc == 4))
    return hash(argv[2], argc == 4 ? std::strtoull(argv[3], nullptr, 10) : std::size_t{64} << 20);
  if (verb == "read-port" && argc == 4) return read_port(argv[2], std::strtoull(argv[3], nullptr, 10));
  if (verb == "send-file" && argc == 5) return send_file(argv[2], argv[3], argv[4]);
  if (verb == "echo-port" && argc == 4) return echo_port(argv[2], std::strtoull(argv[3], nullptr, 10));
  std::fprintf(stderr,
               "usage: tether-bench-floor spawn PROGRAM COUNT | hash FILE [BYTES] | read-port PORT BYTES | "
               "send-file FILE PORT write|splice | echo-port PORT BYTES\n");
  return 2;
}
