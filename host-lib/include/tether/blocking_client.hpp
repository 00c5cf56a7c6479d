// A synchronous wrapper for simple scripts: each call runs the client's own
// io_context until that call completes. Not thread-safe; one thread at a time.
#pragma once

#include <boost/asio/io_context.hpp>

#include "tether/client.hpp"

namespace tether {

class blocking_client {
 public:
  explicit blocking_client(client_options options);
  ~blocking_client();

  void connect(call_options opts = {});
  v1::PingReply ping(std::string payload = {}, call_options opts = {});
  v1::InfoReply info(call_options opts = {});
  std::string call(std::string method, std::string payload, call_options opts = {});

  // Runs any coroutine of the async API to completion, e.g.
  //   bc.run(bc.async().call<v1::InfoReply>("info.Get", v1::InfoRequest{}));
  template <class T>
  T run(boost::asio::awaitable<T> op);
  client& async() noexcept { return client_; }

 private:
  boost::asio::io_context ctx_;
  client client_;
};

}  // namespace tether

#include "tether/impl/blocking_client.ipp"
