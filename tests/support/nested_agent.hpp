// A stand-in for a nested (L2) guest inside a fast test guest (L1): the
// guest's own agent is told to forward to a socket pattern, and a second
// tether-agent listens on a unix socket there. For the route VM test and
// the benchmark's route rows (no GoogleTest inside). Each function runs its
// calls through `l1`, a client of the guest's agent (or a route's hop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tether/client.hpp"
#include "tether/common/asio.hpp"
#include "tether/error.hpp"

namespace tether::test {

// Writes /etc/tether/agent.conf with `[forward] sockets = PATTERN` and
// restarts the guest's agent (the fast guest's respawn loop starts it again,
// reading the file); returns once the new agent serves forward.
awaitable<void> allow_forward(client& l1, std::string pattern);

// Kills the guest's agent and waits for its successor (respawn loop); checks
// that a call running on the old one failed with a connectivity error.
awaitable<void> restart_guest_agent(client& l1);

// Starts a second tether-agent on unix socket `path` in l1's guest, in its
// own session so it outlives the call; `args`: more of its flags.
awaitable<void> start_second_agent(client& l1, std::string path, std::string args = "");

// Runs `op` until it succeeds (at most `attempts` tries): calls racing an
// agent restart fail with a connectivity error, which is retried.
template <class F>
awaitable<void> retry_connectivity(F op, int attempts = 10) {
  std::optional<error> last;
  for (int i = 0; i < attempts; ++i) {
    try {
      co_await op();
      co_return;
    } catch (const error& e) {
      if (!e.is_connectivity()) throw;
      last = e;
    }
  }
  throw *last;
}

}  // namespace tether::test
