// Running a helper program for a QGA command (hwclock, the fsfreeze hook)
// the way the power service runs its hooks (power/host_halt_hooks.hpp):
// own process group, output logged, a time limit.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tether/common/asio.hpp"

namespace tether::agent::qga {

struct helper_result {
  std::string error;  // empty: it ran and exited 0
  bool ok() const { return error.empty(); }
};

// `program`: a path, or a name looked up in the system's PATH.
awaitable<helper_result> run_helper(const std::string& program, std::vector<std::string> args,
                                    std::chrono::milliseconds time_limit = std::chrono::seconds(60));

}  // namespace tether::agent::qga
