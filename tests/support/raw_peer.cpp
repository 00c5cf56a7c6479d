#include "support/raw_peer.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace tether::test {

raw_peer::raw_peer(const std::string& socket_path)
    : decoder_({.max_frame_size = 64u << 20}) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect " + socket_path + ": " + std::strerror(errno));
}

raw_peer::raw_peer(int connected_fd) : fd_(connected_fd), decoder_({.max_frame_size = 64u << 20}) {}

raw_peer::~raw_peer() { ::close(fd_); }

void raw_peer::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
}

std::size_t raw_peer::send_until_stalled(const std::string& bytes, std::chrono::milliseconds stall) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(stall.count())) <= 0) break;
  }
  return off;
}

void raw_peer::send_frame(const v1::Frame& f) { send(wire::encode_frame(f)); }

std::string raw_peer::send_hello() {
  v1::Frame f;
  auto* h = f.mutable_hello();
  h->set_protocol_version(wire::protocol_version);
  h->set_role(v1::Hello::ROLE_HOST);
  h->set_nonce("0123456789abcdef");
  h->set_max_frame_size(1u << 20);
  h->set_initial_stream_window(1u << 20);
  std::string out;
  wire::append_preamble(out);
  wire::append_frame(out, f);
  send(out);
  return h->nonce();
}

std::optional<wire::frame_decoder::item> raw_peer::next(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (auto it = decoder_.next()) return it;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    auto room = decoder_.prepare(65536);
    const ssize_t n = ::recv(fd_, room.data(), room.size(), 0);
    if (n <= 0) return std::nullopt;
    decoder_.commit(static_cast<std::size_t>(n));
  }
}

std::optional<v1::Frame> raw_peer::next_frame(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto it = next(std::max(left, std::chrono::milliseconds(0)));
    if (!it) return std::nullopt;
    if (it->what == wire::frame_decoder::item::kind::frame) return std::move(it->frame);
  }
}

std::string frame_header(std::uint32_t length) {
  std::string h("\x54\xF7", 2);
  for (int i = 0; i < 4; ++i) h += static_cast<char>((length >> (8 * i)) & 0xff);
  return h;
}

v1::Frame make_request(std::uint64_t id, const std::string& method, const std::string& payload) {
  v1::Frame f;
  f.mutable_request()->set_call_id(id);
  f.mutable_request()->set_method(method);
  f.mutable_request()->set_payload(payload);
  return f;
}

}  // namespace tether::test
