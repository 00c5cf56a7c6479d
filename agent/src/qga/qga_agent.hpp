// The QGA front end's agent-wide part: the command table, the policy that
// enables each command, and the state that outlives a host connection as
// it does in qemu-ga (open file handles, started commands, a freeze).
// Connections (qga/server.hpp) hand it one request at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/agent_config.hpp"
#include "qga/args.hpp"
#include "qga/json_stream.hpp"
#include "qga/protocol.hpp"
#include "qga/qga_options.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::qga {

class qga_agent;
class file_handles;
class exec_table;
class freezer;

// One command being run.
struct command_call {
  qga_agent& agent;
  args& a;
  // Set by a command that acts only once its answer was written (or, with
  // no success response, once it was decided): guest-shutdown.
  std::function<void(bool written)> after_reply;
  bool delimit = false;  // guest-sync-delimited: 0xFF before the reply
};

using command_fn = std::function<awaitable<json::value>(command_call&)>;

struct command_def {
  std::string_view name;
  // The [services] name whose policy covers the command (a denied service
  // disables it); empty for the protocol's own commands and the few of its own (set-time, set-vcpus, ...).
  std::string_view service;
  command_fn fn;
  bool success_response = true;  // false: no reply at all (qemu-ga's shutdown, suspend)
  bool while_frozen = false;     // one of the few qemu-ga allows while frozen
};

// A command without parameters whose reply `fn` computes.
command_def simple_command(std::string_view name, std::string_view service, json::value (*fn)());

// Each group of commands in its own file (qga/*_commands.cpp).
void add_protocol_commands(std::vector<command_def>& t);
void add_system_commands(std::vector<command_def>& t);
void add_exec_commands(std::vector<command_def>& t);
void add_file_commands(std::vector<command_def>& t);
void add_power_commands(std::vector<command_def>& t);
void add_fsfreeze_commands(std::vector<command_def>& t);
void add_inventory_commands(std::vector<command_def>& t);
void add_stats_commands(std::vector<command_def>& t);
void add_fstrim_command(std::vector<command_def>& t);
void add_ssh_commands(std::vector<command_def>& t);
void add_password_command(std::vector<command_def>& t);
void add_route_command(std::vector<command_def>& t);

// Every command tether serves, in qemu-ga's guest-info order (newest first).
std::span<const command_def> commands();
bool is_known_command(std::string_view name);

class qga_agent {
 public:
  qga_agent(const asio::any_io_executor& ex, const qga_options& options, const agent_config& config,
            const service_registry& registry, freezer& fsfreeze, std::string version);
  ~qga_agent();

  struct reply {
    std::optional<std::string> text;  // without the newline; nullopt: none
    bool delimit = false;
    std::function<void(bool written)> after_reply;
  };
  // Answers one item cut by json_stream.
  awaitable<reply> handle(const stream_item& item);

  // nullopt when `c` is enabled now; else the reason qemu-ga would append
  // to "Command X has been disabled" ("" for none).
  std::optional<std::string> disabled_reason(const command_def& c) const;
  bool enabled(const command_def& c) const { return !disabled_reason(c); }

  const asio::any_io_executor& executor() const { return ex_; }
  const qga_options& options() const { return options_; }
  const agent_config& config() const { return config_; }
  const service_registry& registry() const { return registry_; }
  const session_info& session() const { return session_; }
  const std::string& version() const { return session_.agent_version; }
  file_handles& files() { return *files_; }
  exec_table& execs() { return *execs_; }
  freezer& fsfreeze() { return freezer_; }

  // Agent shutdown: a freeze ends, started commands are left to run.
  void stop();
  // A host connection starts / ends (the freeze's host-gone guard).
  void connected();
  void disconnected();

 private:
  asio::any_io_executor ex_;
  const qga_options& options_;
  const agent_config& config_;
  const service_registry& registry_;
  session_info session_;
  std::unique_ptr<file_handles> files_;
  std::unique_ptr<exec_table> execs_;
  freezer& freezer_;  // the agent's one (the fsfreeze service's too)
  int connections_ = 0;
};

}  // namespace tether::agent::qga
