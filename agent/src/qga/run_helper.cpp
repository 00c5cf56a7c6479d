#include "qga/run_helper.hpp"

#include "exec/command_setup.hpp"
#include "files/path_policy.hpp"
#include "power/host_halt_hooks.hpp"

namespace tether::agent::qga {

awaitable<helper_result> run_helper(const std::string& program, std::vector<std::string> args,
                                    std::chrono::milliseconds time_limit) {
  const std::string path = exec::find_executable(program, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (path.empty()) co_return helper_result{program + " not found"};
  const auto [dir, name] = files::split_path(path);
  power::hook_options opts;
  opts.time_limit = time_limit;
  opts.args = std::move(args);
  opts.label = "qga helper";
  const auto r = co_await power::run_hook(dir, name, opts);
  if (!r.error.empty()) co_return helper_result{r.error};
  if (r.timed_out) co_return helper_result{path + " did not finish in time"};
  if (r.signal) co_return helper_result{path + " was killed by signal " + std::to_string(r.signal)};
  if (r.exit_code != 0) co_return helper_result{path + " exited with status " + std::to_string(r.exit_code)};
  co_return helper_result{};
}

}  // namespace tether::agent::qga
