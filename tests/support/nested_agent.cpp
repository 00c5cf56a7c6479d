#include "support/nested_agent.hpp"

#include <algorithm>
#include <stdexcept>

#include "tether/exec.hpp"
#include "tether/files.hpp"

namespace tether::test {
namespace {

// Starts `script` in the guest to run on without the call: keep_running, so
// neither the end of the call, nor the agent's group kill when a command
// exits, nor the agent's own end takes it down (a `cmd &` from a shell would
// race that group kill).
awaitable<void> start_detached(client& c, std::string script) {
  exec::options o;
  o.argv = {"sh", "-c", script};
  o.keep_running = true;
  auto p = co_await exec::process::start(c, o);
  (void)p;  // dropping it cancels the call; the command runs on
}

}  // namespace

awaitable<void> allow_forward(client& l1, std::string pattern) {
  files::upload_options up;
  up.make_parents = true;
  up.overwrite = true;
  co_await files::upload_bytes(l1, "[forward]\nsockets = " + pattern + "\n", "/etc/tether/agent.conf", up);
  co_await restart_guest_agent(l1);
  const auto info = co_await l1.info();
  if (std::find(info.services.begin(), info.services.end(), "forward") == info.services.end())
    throw std::runtime_error("the restarted guest agent does not serve forward");
}

awaitable<void> restart_guest_agent(client& l1) {
  const auto before = (co_await l1.info()).agent_pid;
  // A call that runs until the agent goes: its failure is the restart.
  exec::options sleeper;
  sleeper.argv = {"sleep", "600"};
  auto pending = co_await exec::process::start(l1, sleeper);
  // A second later, so this call's reply goes out first.
  co_await start_detached(l1, "sleep 1; kill " + std::to_string(before));
  bool broke = false;
  try {
    co_await pending.wait();
  } catch (const error& e) {
    if (!e.is_connectivity()) throw;
    broke = true;
  }
  if (!broke) throw std::runtime_error("a call survived the restart of the agent it ran on");
  std::uint32_t now = before;
  co_await retry_connectivity([&]() -> awaitable<void> { now = (co_await l1.info()).agent_pid; });
  if (now == before) throw std::runtime_error("the guest agent was not restarted");
}

awaitable<void> start_second_agent(client& l1, std::string path, std::string args) {
  const auto dir = path.substr(0, path.rfind('/'));
  co_await start_detached(l1, "mkdir -p " + dir + " && rm -f " + path + " && exec tether-agent --listen-unix " + path +
                                  " --config /dev/null --log-level warning " + args + " </dev/null >/dev/console 2>&1");
}

}  // namespace tether::test
