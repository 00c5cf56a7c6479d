// tetherctl qmp --qmp PATH COMMAND [JSON-ARGS]: one QMP command to QEMU (no
// agent involved), printing its JSON reply. For hotplug from scripts:
//   tetherctl qmp --qmp vm/qmp.sock device_del '{"id": "disk7"}'
#include <cstdlib>
#include <iostream>

#include <boost/json.hpp>

#include "cli.hpp"
#include "tether/qmp.hpp"

namespace tetherctl {
namespace {

awaitable<int> run_qmp(context& ctx) {
  std::string path;
  if (const char* env = std::getenv("TETHER_QMP")) path = env;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (is_flag(ctx.args[i], "--qmp")) path = flag_value(ctx.args, i);
    else rest.push_back(ctx.args[i]);
  }
  if (path.empty()) throw usage_error("qmp: no QMP socket: pass --qmp PATH or set TETHER_QMP");
  if (rest.empty() || rest.size() > 2) throw usage_error("qmp: expected COMMAND [JSON-ARGS]");
  std::string args = "{}";
  if (rest.size() == 2) {
    boost::system::error_code ec;
    auto v = boost::json::parse(rest[1], ec);
    if (ec || !v.is_object())
      throw usage_error("qmp: JSON-ARGS must be a JSON object, e.g. '{\"id\": \"disk7\"}'" +
                        (ec ? " (" + ec.message() + ")" : std::string()));
    args = rest[1];
  }
  // A named options object: GCC 12 mis-copies braced aggregate temporaries
  // that hold strings inside coroutines.
  tether::qmp::options qopts;
  qopts.socket_path = path;
  qopts.command_timeout = ctx.global.timeout;
  tether::qmp::client qemu(co_await asio::this_coro::executor, qopts);
  co_await qemu.connect();
  std::optional<tether::error> failed;
  std::string reply;
  try {
    reply = co_await qemu.execute(rest[0], args);
  } catch (const tether::error& e) {
    if (e.code().category() != tether::qmp::qmp_category()) throw;
    failed = e;  // QEMU answered with an error
  }
  if (failed) {
    std::cerr << "tetherctl: " << failed->what() << "\n";
    co_return exit_remote_error;
  }
  std::cout << reply << "\n";
  co_return exit_ok;
}

const register_command reg{{"qmp",
                            "qmp --qmp PATH COMMAND [JSON-ARGS]   one QMP command to QEMU, prints the reply "
                            "(no --socket needed)",
                            run_qmp, /*needs_socket=*/false}};

}  // namespace
}  // namespace tetherctl
