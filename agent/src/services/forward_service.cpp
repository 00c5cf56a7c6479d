#include "services/forward_service.hpp"

#include <fnmatch.h>
#include <sys/un.h>

#include <memory>

#include "tether/common/async_event.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/forward.pb.h"

namespace tether::agent {
namespace {

using stream_protocol = asio::local::stream_protocol;

// 64 KiB: one StreamData frame's worth (wire::max_data_chunk) per read.
constexpr std::size_t read_chunk = 64 * 1024;

// Empty if `path` is absolute and plain; else what is wrong with it.
std::string shape_problem(const std::string& path) {
  if (path.empty()) return "the path is empty";
  if (path[0] != '/') return "the path is not absolute";
  if (path.find('\0') != std::string::npos) return "the path holds a NUL byte";
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return "the path is too long for a unix socket";
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto end = std::min(path.find('/', at), path.size());
    const auto part = std::string_view(path).substr(at, end - at);
    if (part.empty() || part == "." || part == "..") return "the path has an empty, \".\" or \"..\" part";
    at = end + 1;
  }
  return {};
}

// Socket -> host (stream 1). Returns when the socket closes.
awaitable<void> to_host(call_context& call, stream_protocol::socket& sock, std::uint64_t& count) {
  auto buf = std::make_unique<char[]>(read_chunk);
  for (;;) {
    boost::system::error_code ec;
    const auto n =
        co_await sock.async_read_some(asio::buffer(buf.get(), read_chunk), asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::eof) break;
    if (ec) throw boost::system::system_error(ec, "reading the forwarded socket");
    co_await call.write(1, std::string_view(buf.get(), n));
    count += n;
  }
  call.close_write(1);
}

// Host (stream 0) -> socket. When the host ends its stream, the socket's
// sending side is shut and this waits, so the socket's end ends the call.
awaitable<void> to_guest(call_context& call, stream_protocol::socket& sock, std::uint64_t& count) {
  while (auto chunk = co_await call.read(0)) {
    co_await asio::async_write(sock, asio::buffer(*chunk), use_awaitable);
    count += chunk->size();
  }
  boost::system::error_code ignored;
  sock.shutdown(stream_protocol::socket::shutdown_send, ignored);
  async_event never(co_await asio::this_coro::executor);
  co_await never.wait();
}

}  // namespace

std::string forward_refusal(const forward_policy& policy, const std::string& path) {
  const std::string key = "forward.sockets" + (policy.source.empty() ? "" : " in " + policy.source);
  if (auto why = shape_problem(path); !why.empty())
    return "forward to '" + path + "' refused: " + why + " (" + key + " matches absolute, plain paths)";
  for (const auto& p : policy.patterns)
    if (::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) return {};
  std::string listed;
  for (const auto& p : policy.patterns) listed += (listed.empty() ? "" : ", ") + p;
  return "forward to '" + path + "' refused: no pattern of " + key + " matches it (" +
         (listed.empty() ? "none listed" : listed) + ")";
}

void forward_service::add_methods(service_registry& registry) {
  registry.add_method("forward.Open", [this](call_context& c) { return open(c); },
                      summary_of<v1::ForwardRequest>([](const v1::ForwardRequest& r) {
                        return std::vector<std::string>{r.socket_path()};
                      }));
}

awaitable<std::string> forward_service::open(call_context& call) {
  const auto req = call.request<v1::ForwardRequest>();
  const std::string& path = req.socket_path();
  if (auto why = forward_refusal(policy_, path); !why.empty())
    throw call_error(v1::ERROR_CODE_DISABLED_BY_CONFIG, why);  // as files.roots refuses a path

  stream_protocol::socket sock(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  co_await sock.async_connect(stream_protocol::endpoint(path), asio::redirect_error(use_awaitable, ec));
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
  if (ec) throw call_error(error_code_from_errno(ec.value()), "cannot connect to forward socket '" + path + "': " + ec.message());

  // Tells the host the socket is open before any byte flows.
  v1::ForwardEvent connected;
  connected.set_connected(true);
  co_await call.emit(connected.SerializeAsString());

  v1::ForwardReply reply;
  std::uint64_t up = 0, down = 0;
  const auto ended = co_await first_to_end(to_host(call, sock, down), to_guest(call, sock, up));
  if (ended) std::rethrow_exception(ended);
  reply.set_bytes_to_guest(up);
  reply.set_bytes_to_host(down);
  co_return reply.SerializeAsString();
}

}  // namespace tether::agent
