// The agent's side of one fuzz input: an in-memory connection and the
// agent's real services (make_registry). A simulated power action stops
// the agent as it stops for real: its end of the connection closes.
#pragma once

#include <stdlib.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "agent.hpp"
#include "check.hpp"
#include "log.hpp"
#include "quiet_protobuf.hpp"
#include "tether/common/memory_stream.hpp"

namespace tether::fuzz {

// Once per process: quiet logs, no system bus whatever a bug might try, and
// a new temporary directory /tmp/<prefix>XXXXXX, returned.
inline std::filesystem::path prepare_agent_process(const std::string& prefix) {
  std::signal(SIGPIPE, SIG_IGN);
  quiet_protobuf();
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/tether-fuzz", 1);
  agent::log::set_max_level(agent::log::level::error);
  std::string dir = "/tmp/" + prefix + "XXXXXX";
  check(::mkdtemp(dir.data()) != nullptr, "mkdtemp");
  return dir;
}

struct agent_rig {
  agent_rig(asio::io_context& ctx, const agent::agent_options& options, std::size_t capacity)
      : pair(io::make_memory_stream_pair(ctx.get_executor(), capacity)),
        registry(agent::make_registry(options, ctx.get_executor(), [this, &ctx] {
          asio::post(ctx, [this] {
            agent_end().close();
            registry.stop_all();
          });
        })) {}

  io::memory_stream& host() { return *pair.first; }
  io::memory_stream& agent_end() { return *pair.second; }

  std::pair<std::unique_ptr<io::memory_stream>, std::unique_ptr<io::memory_stream>> pair;
  agent::service_registry registry;
};

}  // namespace tether::fuzz
