// Starting a command for a request: prepare (checks, lookup, user), spawn,
// adopt. exec.Run and QGA's guest-exec both start commands through this.
#pragma once

#include <memory>
#include <string>

#include "exec/child_process.hpp"
#include "exec/command_setup.hpp"

namespace tether::agent::exec {

struct launched {
  std::shared_ptr<child_process> proc;
  // The parent's ends (see spawned); closed when the request asked for none.
  unique_fd in, out, err;
  bool tty = false;
  std::string program;  // argv[0] as requested
};

// Throws call_error: the policy's and prepare's (INVALID_ARGUMENT,
// NOT_FOUND, DISABLED_BY_CONFIG), or a failed step between fork and exec
// ("cannot change to directory '/x' for 'ls': No such file or directory").
launched launch(const v1::ExecRequest& req, const exec_policy& policy, const asio::any_io_executor& ex);

}  // namespace tether::agent::exec
