// guest-set-user-password as qemu-ga 7.2 does it: "USER:PASSWORD\n" into
// chpasswd (-e when the password is already crypted), the same checks in
// the same order and the same messages. chpasswd is started the way exec.Run
// starts commands (exec::launch), with its output dropped as qemu-ga's goes
// to /dev/null, and a time limit qemu-ga does not have.
#include "exec/launch.hpp"
#include "qga/base64.hpp"
#include "qga/qga_agent.hpp"
#include "tether/common/race.hpp"

namespace tether::agent::qga {
namespace {

constexpr auto chpasswd_limit = std::chrono::seconds(60);
constexpr const char* system_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

awaitable<void> drain(asio::posix::stream_descriptor& d) {
  char buf[4096];
  boost::system::error_code ec;
  while (!ec) co_await d.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
}

awaitable<json::value> set_user_password(command_call& c) {
  const auto user = c.a.string("username");
  const auto password = c.a.string("password");
  const bool crypted = c.a.boolean("crypted");
  c.a.done();
  const auto raw = decode_base64(password);
  // qemu-ga keeps the password as a C string: it ends at a NUL.
  const std::string pw = raw.substr(0, raw.find('\0'));
  if (pw.find('\n') != std::string::npos) throw qga_error("forbidden characters in raw password");
  if (user.find('\n') != std::string::npos || user.find(':') != std::string::npos)
    throw qga_error("forbidden characters in username");
  const auto path = exec::find_executable("chpasswd", system_path);
  if (path.empty()) throw qga_error("cannot find 'passwd' program in PATH");

  v1::ExecRequest req;
  req.add_argv(path);
  if (crypted) req.add_argv("-e");
  req.set_stdin(true);
  req.set_merge_stderr(true);
  auto ex = co_await asio::this_coro::executor;
  exec::launched l;
  try {
    l = exec::launch(req, exec::exec_policy{}, ex);
  } catch (const std::exception& e) {
    throw qga_error(std::string("failed to create child process: ") + e.what());
  }
  asio::posix::stream_descriptor in(ex, l.in.release()), out(ex);
  if (l.out) out.assign(l.out.release());
  const std::string line = user + ":" + pw + "\n";
  boost::system::error_code ec;
  co_await asio::async_write(in, asio::buffer(line), asio::redirect_error(use_awaitable, ec));
  if (ec) throw qga_error("cannot write new account password: " + ec.message());
  in.close(ec);
  const auto deadline = deadline_clock::now() + chpasswd_limit;
  if (out.is_open()) co_await with_deadline(drain(out), deadline);
  if (!co_await with_deadline(l.proc->wait_exit(), deadline)) {
    l.proc->terminate(std::chrono::seconds(1));
    throw qga_error("child process has failed to set user password: chpasswd did not finish within 60 s");
  }
  const auto& st = l.proc->status();
  if (st.signal) throw qga_error("child process has terminated abnormally");
  if (st.code != 0) throw qga_error("child process has failed to set user password");
  co_return json::object{};
}

}  // namespace

void add_password_command(std::vector<command_def>& t) {
  t.push_back({"guest-set-user-password", "", set_user_password});
}

}  // namespace tether::agent::qga
