// The real agent behind the real tetherd, for tests through the broker:
// guest "g1" served at broker.socket("g1").
#pragma once

#include <string>
#include <vector>

#include "support/agent_process.hpp"
#include "support/tetherd_process.hpp"
#include "tether/client.hpp"

namespace tether::test {

struct broker_rig {
  explicit broker_rig(std::vector<std::string> broker_args = {}, std::vector<std::string> agent_args = {})
      : agent(std::move(agent_args)), broker(run.path() + "/run", with_guest(std::move(broker_args))) {}

  agent_process agent;
  temp_dir run;
  tetherd_process broker;

  std::string socket() const { return broker.socket("g1"); }
  // A libtether client of g1 through the broker; it waits for the broker's
  // socket (made once tetherd reached the agent) as for a guest's.
  client_options client_opts() const { return {.socket_path = socket(), .call_timeout = std::chrono::seconds(20)}; }

 private:
  std::vector<std::string> with_guest(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--guest", "g1=" + agent.socket_path()});
    return args;
  }
};

}  // namespace tether::test
