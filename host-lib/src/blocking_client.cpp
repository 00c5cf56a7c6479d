#include "tether/blocking_client.hpp"

namespace tether {

blocking_client::blocking_client(client_options options)
    : ctx_(1), client_(ctx_.get_executor(), std::move(options)) {}

blocking_client::~blocking_client() {
  client_.close();
  // Let the client's coroutines observe the close and finish.
  ctx_.restart();
  ctx_.poll();
}

void blocking_client::connect(call_options opts) { run(client_.connect(opts)); }

v1::PingReply blocking_client::ping(std::string payload, call_options opts) {
  return run(client_.ping(std::move(payload), opts));
}

v1::InfoReply blocking_client::info(call_options opts) { return run(client_.info(opts)); }

std::string blocking_client::call(std::string method, std::string payload, call_options opts) {
  return run(client_.call(std::move(method), std::move(payload), opts));
}

}  // namespace tether
