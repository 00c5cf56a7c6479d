// guest-exec and guest-exec-status: the exec service's code starts the
// command (exec::launch, the [exec] policy); qemu-ga's model around it.
#include "qga/base64.hpp"
#include "qga/exec_table.hpp"
#include "qga/qga_agent.hpp"

namespace tether::agent::qga {
namespace {

// capture-output: qemu-ga 7.2 takes a boolean; 8.0 also takes the modes
// "none", "stdout", "stderr", "separated", "merged". Both are accepted.
exec_capture capture_mode(const json::value* v) {
  if (!v) return {};
  if (v->is_bool()) return v->get_bool() ? exec_capture{true, true, false} : exec_capture{};
  if (!v->is_string()) wrong_type("capture-output", "GuestExecCaptureOutput");
  const std::string_view m = v->get_string();
  if (m == "none") return {};
  if (m == "stdout") return {true, false, false};
  if (m == "stderr") return {false, true, false};
  if (m == "separated") return {true, true, false};
  if (m == "merged") return {true, false, true};
  bad_enum("capture-output", m);
}

awaitable<json::value> guest_exec(command_call& c) {
  const auto path = c.a.string("path");
  const auto arg = c.a.opt_strings("arg");
  const auto env = c.a.opt_strings("env");
  const auto input = c.a.opt_string("input-data");
  const auto capture = capture_mode(c.a.opt_value("capture-output"));
  c.a.done();

  v1::ExecRequest req;
  req.add_argv(path);
  for (const auto& a : arg.value_or(std::vector<std::string>{})) req.add_argv(a);
  if (env) {
    // qemu-ga's env is the whole environment, not edits of the agent's.
    req.set_clear_env(true);
    for (const auto& e : *env) req.add_env(e);
  }
  std::optional<std::string> data;
  if (input) data = decode_base64(*input);
  req.set_stdin(data.has_value());
  req.set_merge_stderr(capture.merged);
  const exec::exec_policy policy{.allowed_users = c.agent.config().exec_users};
  try {
    co_return json::object{{"pid", c.agent.execs().start(req, policy, std::move(data), capture)}};
  } catch (const call_error& e) {
    // qemu-ga passes glib's spawn error through in these words.
    if (e.code() == v1::ERROR_CODE_NOT_FOUND)
      throw qga_error("Guest agent command failed, error was 'Failed to execute child process \u201C" + path +
                      "\u201D (No such file or directory)'");
    throw qga_error(std::string("Guest agent command failed, error was '") + e.what() + "'");
  }
}

}  // namespace

void add_exec_commands(std::vector<command_def>& t) {
  t.push_back({"guest-exec", "exec", guest_exec});
  t.push_back({"guest-exec-status", "exec", [](command_call& c) -> awaitable<json::value> {
                 const auto pid = c.a.integer("pid");
                 c.a.done();
                 co_return c.agent.execs().status(pid);
               }});
}

}  // namespace tether::agent::qga
