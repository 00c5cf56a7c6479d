// Turning an exec request into a spawn_spec: environment, executable lookup,
// user and group. Runs in the agent before fork, so errors are reported with
// a clear message instead of a bare exit status 127.
#pragma once

#include <string>
#include <vector>

#include "exec/spawn.hpp"
#include "tether/v1/exec.pb.h"

namespace tether::agent::exec {

// Who may be run as: empty = anyone (the agent runs as root).
struct exec_policy {
  std::vector<std::string> allowed_users;
};

// The agent's environment minus what belongs to the agent's own supervision
// (NOTIFY_SOCKET, LISTEN_FDS, ...), which a command must not inherit.
std::vector<std::string> inherited_environment();

// Applies "K=V" (set) and "K" (unset) edits to `env`, in order.
void apply_env_edits(std::vector<std::string>& env, const std::vector<std::string>& edits);

// The value of `key` in `env`, or nullptr.
const std::string* find_env(const std::vector<std::string>& env, std::string_view key);

// Finds `name` in the colon-separated `path_var` as execvp would (names with
// a '/' are taken as they are). Empty when not found.
std::string find_executable(const std::string& name, const std::string& path_var);

// Builds the spec or throws call_error (INVALID_ARGUMENT, NOT_FOUND,
// DISABLED_BY_CONFIG) saying what is wrong.
spawn_spec prepare(const v1::ExecRequest& req, const exec_policy& policy);

}  // namespace tether::agent::exec
