#include "exec/launch.hpp"

#include <cstring>

#include "tether/agent/service.hpp"

namespace tether::agent::exec {

launched launch(const v1::ExecRequest& req, const exec_policy& policy, const asio::any_io_executor& ex) {
  const auto spec = prepare(req, policy);
  const auto started = std::chrono::steady_clock::now();
  spawned sp;
  try {
    sp = spawn(spec);
  } catch (const spawn_error& e) {
    std::string what = "cannot " + std::string(describe(e.step()));
    if (e.step() == step_chdir) what += " '" + spec.cwd + "'";
    throw call_error(error_code_from_errno(e.code().value()),
                     what + " for '" + spec.argv[0] + "': " + std::strerror(e.code().value()));
  }
  launched l;
  l.proc = child_process::adopt(ex, sp.pid, std::move(sp.pidfd), started);
  l.in = std::move(sp.in);
  l.out = std::move(sp.out);
  l.err = std::move(sp.err);
  l.tty = spec.tty;
  l.program = spec.argv[0];
  return l;
}

}  // namespace tether::agent::exec
