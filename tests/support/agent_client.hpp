// The real agent and a libtether client of it on one io_context: what most
// loopback tests start from, as a fixture or on its own.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/agent_process.hpp"
#include <boost/asio/io_context.hpp>

#include "tether/client.hpp"

namespace tether::test {

struct agent_with_client {
  // `options` without a socket path: the agent's is filled in.
  explicit agent_with_client(std::vector<std::string> agent_args = {},
                             client_options options = {.call_timeout = std::chrono::seconds(10)})
      : agent(std::move(agent_args)), guest(ctx.get_executor(), for_agent(std::move(options))) {}

  agent_process agent;
  boost::asio::io_context ctx;
  client guest;

 private:
  client_options for_agent(client_options o) const {
    o.socket_path = agent.socket_path();
    return o;
  }
};

// The same as a GoogleTest fixture: a test body uses agent, ctx and guest.
class agent_client_test : public ::testing::Test, public agent_with_client {
 protected:
  using agent_with_client::agent_with_client;
  agent_client_test() = default;
};

}  // namespace tether::test
