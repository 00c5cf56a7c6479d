#include "support/raw_agent.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tether/common/frames.hpp"

namespace tether::test {

raw_agent::raw_agent() : socket_(dir_.path() + "/agent.sock") {
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("listen " + socket_ + ": " + std::strerror(errno));
}

raw_agent::~raw_agent() {
  join();
  ::close(listen_fd_);
}

void raw_agent::serve(std::function<void(raw_peer&)> script) {
  thread_ = std::thread([this, script = std::move(script)] {
    try {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) <= 0) throw std::runtime_error("no host connected");
      raw_peer host(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
      std::optional<v1::Frame> f;
      do {
        f = host.next_frame(std::chrono::seconds(10));
        if (!f) throw std::runtime_error("no Hello from the host");
      } while (!f->has_hello());
      auto answer = frames::hello(v1::Hello::ROLE_AGENT, "raw-agent");
      answer.mutable_hello()->set_nonce(f->hello().nonce());
      answer.mutable_hello()->set_session_id("raw-agent-session");
      answer.mutable_hello()->set_max_frame_size(1u << 20);
      answer.mutable_hello()->set_initial_stream_window(2u << 20);
      answer.mutable_hello()->set_max_concurrent_calls(1024);
      host.send(frames::with_preamble(answer));
      script(host);
      // Keep the connection until the host hangs up (or 10 s), so a host
      // never sees the end of the stream in place of the attack.
      while (host.next(std::chrono::seconds(10))) {
      }
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  });
}

std::string raw_agent::join() {
  if (thread_.joinable()) thread_.join();
  return failure_;
}

}  // namespace tether::test
