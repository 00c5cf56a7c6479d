// tetherctl: command-line access to a guest's tether-agent.
#include <cstdlib>
#include <iostream>

#include "cli.hpp"

namespace tetherctl {
namespace {

std::string usage() {
  std::string s =
      "Usage: tetherctl [--socket PATH] [--timeout SECONDS] [--json] COMMAND [ARGS...]\n"
      "\n"
      "Talks to tether-agent in a guest through the QEMU chardev unix socket of its\n"
      "virtio-serial port (org.tether.agent.0).\n"
      "\n"
      "Options:\n"
      "  --socket PATH      the chardev socket (default: $TETHER_SOCKET)\n"
      "  --timeout SECONDS  deadline for connecting and for each call (default 30)\n"
      "  --json             one JSON object per result, for scripts\n"
      "  --help             this help; --version prints the version\n"
      "\n"
      "Commands:\n";
  for (const auto& c : commands()) s += "  " + c.synopsis + "\n";
  s +=
      "\n"
      "Exit status: 0 success, 1 the guest answered with an error, 2 usage error,\n"
      "3 connection failure or timeout.\n";
  return s;
}

int run(int argc, char** argv) {
  global_options g;
  if (const char* env = std::getenv("TETHER_SOCKET")) g.socket = env;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::size_t i = 0;
  for (; i < args.size() && args[i].starts_with("-"); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage();
      return exit_ok;
    } else if (a == "--version") {
      std::cout << "tetherctl " << TETHER_VERSION << "\n";
      return exit_ok;
    } else if (is_flag(a, "--socket")) {
      g.socket = flag_value(args, i);
    } else if (is_flag(a, "--timeout")) {
      g.timeout = std::chrono::milliseconds(
          static_cast<long long>(parse_seconds("--timeout", flag_value(args, i)) * 1000));
    } else if (a == "--json") {
      g.json = true;
    } else {
      throw usage_error("unknown option '" + a + "'");
    }
  }
  if (i >= args.size()) throw usage_error("no command given");
  const std::string name = args[i++];
  const command* cmd = nullptr;
  for (const auto& c : commands())
    if (c.name == name) cmd = &c;
  if (!cmd) throw usage_error("unknown command '" + name + "'");
  if (g.socket.empty() && cmd->needs_socket)
    throw usage_error("no socket: pass --socket PATH or set TETHER_SOCKET");

  asio::io_context ctx(1);
  tether::client client(ctx.get_executor(),
                        {.socket_path = g.socket,
                         .call_timeout = g.timeout,
                         .handshake_timeout = std::min<std::chrono::milliseconds>(g.timeout, std::chrono::milliseconds(5000))});
  context c{g, std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(i), args.end()), client};
  int status = exit_ok;
  std::exception_ptr failure;
  asio::co_spawn(ctx, cmd->run(c), [&](std::exception_ptr e, int rc) {
    failure = e;
    status = rc;
    client.close();
  });
  ctx.run();
  if (failure) std::rethrow_exception(failure);
  return status;
}

}  // namespace
}  // namespace tetherctl

int main(int argc, char** argv) {
  using namespace tetherctl;
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "tetherctl: " << e.what() << "\nTry 'tetherctl --help'.\n";
    return exit_usage;
  } catch (const tether::error& e) {
    std::cerr << "tetherctl: " << e.what() << "\n";
    if (e.is_remote()) return exit_remote_error;
    if (e.code() == tether::errc::invalid_argument) return exit_usage;
    return exit_connection;
  } catch (const std::exception& e) {
    std::cerr << "tetherctl: " << e.what() << "\n";
    return exit_connection;
  }
}
