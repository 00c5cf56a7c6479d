// What a tether::client is made of: a connection (connection.hpp) and the
// host session on top of it (host_session.hpp). Internal to libtether;
// in-process tests include it to run a client over an in-memory stream.
#pragma once

#include <memory>
#include <vector>

#include "connection.hpp"
#include "host_session.hpp"

namespace tether {

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  // `connect` empty: the unix socket at options.socket_path.
  client_impl(asio::any_io_executor ex, client_options o, detail::connector connect = {});

  const client_options& options() const { return opts_; }
  bool connected() const { return conn_.established(); }
  std::optional<v1::Hello> agent_hello() const;
  detail::clock::time_point deadline_for(call_options o) const;

  awaitable<void> wait_connected(detail::clock::time_point deadline);
  awaitable<std::shared_ptr<pending_call>> start(std::string method, std::string payload, call_options o);
  // A unary call: request, then the reply payload (or tether::error).
  awaitable<std::string> call(std::string method, std::string payload, call_options o);

  awaitable<std::optional<call_stream::chunk>> next(pending_call& c) { return session_.next(c); }
  awaitable<std::string> finish(pending_call& c) { return session_.finish(c); }
  awaitable<void> write(pending_call& c, std::uint32_t stream, std::string_view data) {
    return session_.write(c, stream, data);
  }
  void close_write(pending_call& c, std::uint32_t stream) { session_.close_write(c, stream); }
  void abandon(pending_call& c, errc why, const std::string& msg) { session_.abandon(c, why, msg); }
  void cancel(pending_call& c) { session_.cancel(c); }
  // Closes this client and the hops of its route.
  void close();
  // The clients of the route's hops (client_options::via), first hop first.
  std::vector<std::shared_ptr<client_impl>>& hops() { return hops_; }

 private:
  client_options opts_;
  detail::connection conn_;
  detail::host_session session_;
  std::vector<std::shared_ptr<client_impl>> hops_;
};

}  // namespace tether
