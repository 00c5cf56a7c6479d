// Routes: reaching an agent through other agents (nested guests). A hop is
// a client of an intermediate agent (L1); the route connector opens a
// forward.Open call on it to a unix socket inside that guest (L2's chardev
// socket) and presents the call's streams as the child connection's byte
// stream. Flow control is the hop's stream credits. A reconnect of the
// child re-runs the connector, so it rebuilds the route over the hop (which
// reconnects by itself when its own connection breaks). Internal to
// libtether.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"

namespace tether {

class client_impl;

namespace detail {

// The connector of a client whose agent listens on `socket_path` inside the
// guest of `hop`; `hop_name` names the hop in errors ("hop 1 (the agent at
// /run/l1.sock)").
connector route_connector(std::shared_ptr<client_impl> hop, std::string hop_name, std::string socket_path);

// The client for `opts`: direct when opts.via is empty, else routed through
// one hop client per via entry, returned in `hops` (first: via[0]).
std::shared_ptr<client_impl> make_routed_client(asio::any_io_executor ex, const client_options& opts,
                                                std::vector<std::shared_ptr<client_impl>>& hops);

}  // namespace detail
}  // namespace tether
