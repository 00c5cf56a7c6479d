// tetherctl qmp --qmp PATH COMMAND [JSON-ARGS]: one QMP command to QEMU (no
// agent involved), printing its JSON reply. For hotplug from scripts:
//   tetherctl qmp --qmp vm/qmp.sock device_del '{"id": "disk7"}'
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "tether/qmp.hpp"

namespace tetherctl {
namespace {

struct qmp_args {
  std::string path;  // --qmp or $TETHER_QMP
  std::string command;
  std::string arguments = "{}";  // a JSON object, checked when parsed
};

awaitable<int> run_qmp(context& ctx, qmp_args a) {
  // A named options object: GCC 12 mis-copies braced aggregate temporaries
  // that hold strings inside coroutines.
  tether::qmp::options qopts;
  qopts.socket_path = a.path;
  qopts.command_timeout = ctx.global.timeout;
  tether::qmp::client qemu(co_await asio::this_coro::executor, qopts);
  co_await qemu.connect();
  std::optional<tether::error> failed;
  std::string reply;
  try {
    reply = co_await qemu.execute(a.command, a.arguments);
  } catch (const tether::error& e) {
    if (e.code().category() != tether::qmp::qmp_category()) throw;
    failed = e;  // QEMU answered with an error
  }
  if (failed) {
    std::cerr << "tetherctl: " << failed->what() << "\n";
    co_return exit_remote_error;
  }
  json::print(boost::json::parse(reply));
  co_return exit_ok;
}

}  // namespace

void add_qmp(command_table& t) {
  auto a = std::make_shared<qmp_args>();
  auto* app = t.add("qmp", "one QMP command to QEMU (--qmp PATH), prints its reply; no --socket needed",
                    [a](context& c) { return run_qmp(c, *a); }, command_table::target::none);
  app->add_option("--qmp", a->path, "QEMU's QMP socket (default: $TETHER_QMP)")
      ->envname("TETHER_QMP")
      ->type_name("PATH");
  app->add_option("COMMAND", a->command, "e.g. device_del, query-status")->required()->type_name("");
  app->add_option_function<std::string>(
      "JSON-ARGS",
      [a](const std::string& text) {
        boost::system::error_code ec;
        auto v = boost::json::parse(text, ec);
        if (ec || !v.is_object())
          throw CLI::ValidationError("JSON-ARGS must be a JSON object, e.g. '{\"id\": \"disk7\"}'" +
                                                      (ec ? " (" + ec.message() + ")" : std::string()));
        a->arguments = text;
      },
      "the command's arguments, a JSON object");
  app->callback([a] {
    if (a->path.empty()) throw usage_error("qmp: no QMP socket: pass --qmp PATH or set TETHER_QMP");
  });
}

}  // namespace tetherctl
