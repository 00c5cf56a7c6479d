// Synchronous use of libtether, for scripts and language bindings: each
// call runs the client's own io_context until that call completes. Every
// service has blocking overloads taking a blocking_client& in place of the
// client& (declared in the service's header, e.g. tether::exec::run(bc, ...)),
// with the same options and call_options. Not thread-safe: one thread at a
// time per blocking_client.
//
//   tether::blocking_client guest({.socket_path = "/run/vm1/tether.sock"});
//   auto r = tether::exec::run(guest, {.argv = {"uname", "-a"}});
//   auto sub = tether::stats::subscribe(guest, {.interval = 1s});
//   while (auto s = sub.next()) ...
#pragma once

#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "tether/client.hpp"

namespace tether {

class blocking_client {
 public:
  explicit blocking_client(client_options options);
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  void connect(call_options opts = {});
  bool connected() const noexcept { return client_.connected(); }
  std::optional<hello_info> agent_hello() const { return client_.agent_hello(); }
  ping_reply ping(std::string payload = {}, call_options opts = {});
  guest_info info(call_options opts = {});
  std::string call(std::string method, std::string payload, call_options opts = {});

  // Runs any coroutine of the async API to completion, e.g.
  //   bc.run(tether::files::stat(bc.async(), "/etc/hostname"));
  template <class T>
  T run(boost::asio::awaitable<T> op);
  client& async() noexcept { return client_; }
  boost::asio::io_context& context() noexcept { return ctx_; }

 private:
  boost::asio::io_context ctx_;
  client client_;
};

// A subscription (stats::subscription, devices::subscription) driven by a
// blocking_client: next() blocks until the next item, nullopt at the end.
template <class Subscription>
class blocking_subscription {
 public:
  blocking_subscription(blocking_client& bc, Subscription sub) : bc_(&bc), sub_(std::move(sub)) {}

  auto next() { return bc_->run(sub_.next()); }
  void cancel() { sub_.cancel(); }
  // The asynchronous subscription (counters, resumes(), ...).
  Subscription& async() noexcept { return sub_; }

 private:
  blocking_client* bc_;
  Subscription sub_;
};

}  // namespace tether

#include "tether/impl/blocking_client.ipp"
