// Unary calls with protobuf messages, for the service wrappers in src/ (and
// tests that send requests the public API would refuse). Not installed: the
// public headers use plain C++ types only.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether::detail {

template <class Reply, class Request>
boost::asio::awaitable<Reply> call(client& guest, std::string method, const Request& req,
                                   call_options opts = {}) {
  std::string bytes = co_await guest.call(std::move(method), req.SerializeAsString(), opts);
  Reply reply;
  if (!reply.ParseFromString(bytes))
    throw error(errc::protocol_error, "agent's reply is not a valid " + Reply::descriptor()->full_name());
  co_return reply;
}

// Parses an event or reply payload of a streaming call.
template <class Message>
Message parse(const std::string& bytes, const char* what) {
  Message m;
  if (!m.ParseFromString(bytes))
    throw error(errc::protocol_error, std::string("agent sent an invalid ") + Message::descriptor()->name() +
                                          " in " + what);
  return m;
}

}  // namespace tether::detail
