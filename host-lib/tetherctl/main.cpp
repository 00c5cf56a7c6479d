// tetherctl: command-line access to a guest's tether-agent.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli.hpp"
#include "duration.hpp"
#include "tether/libvirt.hpp"
#include "tether/runtime_dir.hpp"

namespace tetherctl {
namespace {

// Thrown when the guest cannot be reached before anything was tried.
class unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr const char* about =
    "Talks to tether-agent in a guest through the QEMU chardev unix socket of its\n"
    "virtio-serial port (org.tether.agent.0), or a libvirt domain's channel of that name\n"
    "(--domain). 'tetherctl COMMAND --help' describes a command.";

constexpr const char* footer =
    "Global options may come before or after the command name (after it, a command's own\n"
    "option of the same name wins: exec --timeout, wait-device --timeout).\n"
    "TIME: a number with a unit, e.g. 500ms, 30s, 2m, 1h; a bare number is seconds\n"
    "(milliseconds for ping --interval and stats --watch).\n"
    "QMP, e.g. for hotplug: tetherctl qmp --qmp PATH device_del '{\"id\": \"disk7\"}'.\n"
    "FILTER (devices, wait-device, events): --subsystem S --devtype T --sysname GLOB\n"
    "  --property K=GLOB --tag T --attr K=GLOB (property, tag, attr repeatable; all must match).\n"
    "--json: one JSON object per line; bytes that are not UTF-8 (binary output, odd file\n"
    "  names) become {\"base64\": \"...\"} instead of a string.\n"
    "\n"
    "Exit status: 0 success, 1 the guest answered with an error, 2 usage error,\n"
    "3 cannot reach the guest (no such socket, no answer) or timed out;\n"
    "exec: the command's own status (see 'tetherctl exec --help').";

// CLI11's help, with COMMAND for SUBCOMMAND and, under each command's help,
// where the global options are.
class help_formatter : public CLI::Formatter {
 public:
  help_formatter() {
    label("SUBCOMMAND", "COMMAND");
    label("TEXT", "STRING");
    column_width(28);
  }
  std::string make_footer(const CLI::App* app) const override {
    std::string f = CLI::Formatter::make_footer(app);
    if (app->get_parent())
      f += "\nGlobal options (before or after the command; see 'tetherctl --help'):\n"
           "  --socket PATH, --guest NAME, --domain NAME, --connect URI, --via PATH, --timeout TIME,\n"
           "  --json, --wait-for-guest\n";
    return f;
  }
};

// A socket path that does not exist is a typo or a guest that is not
// running: say so at once instead of retrying for the whole --timeout.
// With --via, the socket on this host is the first hop's; the others are
// inside guests.
void check_socket(const global_options& g) {
  const std::string& local = g.via.empty() ? g.socket : g.via.front();
  struct stat st{};
  if (::stat(local.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw unreachable(local + " is not a socket (expected the QEMU chardev socket of the guest's "
                                   "org.tether.agent.0 port)");
    return;
  }
  const int err = errno;
  if (err != ENOENT && err != ENOTDIR) return;  // e.g. no permission: connecting reports it
  if (g.wait_for_guest) {
    std::cerr << "tetherctl: waiting up to " << format_duration(g.timeout) << " for " << local
              << " to appear (--wait-for-guest)\n";
    return;
  }
  const std::string what = g.guest.empty() || !g.via.empty()
                               ? "is the guest's QEMU running with this chardev?"
                               : "is tetherd serving guest " + g.guest + ", and the guest running?";
  throw unreachable("no socket at " + local + ": " + std::strerror(err) + " (" + what +
                    " --wait-for-guest waits for it up to --timeout)");
}

// A libvirt domain that is unknown or has no tether channel cannot become
// reachable by waiting: say so at once. One that is not running may be
// started (--wait-for-guest waits for it). The client looks it up again at
// every (re)connection.
void check_domain(const global_options& g) {
  try {
    (void)tether::libvirt::find_domain(g.domain, g.connect_uri);
  } catch (const tether::error& e) {
    if (e.code() != tether::errc::domain_not_running || !g.wait_for_guest) throw;
    std::cerr << "tetherctl: waiting up to " << format_duration(g.timeout) << " for libvirt domain '" << g.domain
              << "' to run (--wait-for-guest)\n";
  }
}

int run_command(const command_table::entry& cmd, const global_options& g) {
  asio::io_context ctx(1);
  tether::client client(ctx.get_executor(),
                        {.socket_path = g.domain.empty() ? g.socket : std::string(),
                         .via = g.via,
                         .domain = g.domain,
                         .libvirt_uri = g.connect_uri,
                         .call_timeout = g.timeout,
                         .handshake_timeout = std::min<milliseconds>(g.timeout, milliseconds(5000))});
  context c{g, client};
  int status = exit_ok;
  std::exception_ptr failure;
  asio::co_spawn(ctx, cmd.run(c), [&](std::exception_ptr e, int rc) {
    failure = e;
    status = rc;
    client.close();
  });
  ctx.run();
  if (failure) std::rethrow_exception(failure);
  return status;
}

int run(int argc, char** argv) {
  global_options g;
  CLI::App app(about, "tetherctl");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tetherctl ") + TETHER_VERSION, "print the version and exit");
  app.set_help_flag("-h,--help", "this help; after a command: that command's help");
  app.formatter(std::make_shared<help_formatter>());  // before the commands: they inherit it
  app.add_option("--socket", g.socket, "the QEMU chardev socket of the guest's org.tether.agent.0 port")
      ->envname("TETHER_SOCKET")
      ->type_name("PATH");
  app.add_option("--guest", g.guest,
                 "guest NAME as served by the broker, tetherd: $TETHER_RUNTIME_DIR/NAME.sock (default "
                 "/run/tether/NAME.sock), instead of --socket")
      ->type_name("NAME");
  app.add_option("--via", g.via,
                 "reach the guest through another guest's agent (nested guests): --via L1_SOCKET --socket "
                 "L2_SOCKET_IN_L1; repeatable, each next --via a socket inside the previous guest (whose agent "
                 "must list it in forward.sockets)")
      ->type_name("PATH")
      ->expected(1)  // one path each: `--via A exec` must not take "exec"
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* domain_opt =
      app.add_option("--domain", g.domain,
                     "a libvirt domain instead of --socket: its org.tether.agent.0 channel, found in the running "
                     "domain's live XML (and again after it restarts)")
          ->type_name("NAME");
  app.add_option("--connect", g.connect_uri,
                 "the libvirt URI of --domain (default: libvirt's, as virsh: $LIBVIRT_DEFAULT_URI, then "
                 "qemu:///system for root)")
      ->type_name("URI")
      ->needs(domain_opt);
  domain_opt->excludes("--via");
  add_duration(&app, "--timeout", g.timeout, "deadline for connecting and for each call (default 30s)");
  app.add_flag("--json", g.json, "results as JSON, one object per line (encoding: below)");
  app.add_flag("--wait-for-guest", g.wait_for_guest,
               "no socket yet (QEMU still starting)? wait for it up to --timeout instead of exit 3");
  command_table commands(app);
  add_ping(commands);
  add_info(commands);
  add_stats(commands);
  add_exec(commands);
  add_files(commands);
  add_devices(commands);
  add_power(commands);
  add_fsfreeze(commands);
  add_shutdown_all(commands);
  add_qmp(commands);
  app.footer(footer);  // after the commands: they would inherit it

  // A usage error names the help to read: the command's, if one was given.
  auto usage = [&](const std::string& what, bool required_missing = false) {
    const auto* cmd = commands.chosen();
    std::string message = what;
    if (!cmd && !app.remaining().empty()) message = "unknown command '" + app.remaining().front() + "'";
    else if (!cmd && required_missing) message = "no command given";  // the root requires only that
    std::cerr << "tetherctl: " << message
              << "\nTry 'tetherctl " << (cmd ? cmd->app->get_name() + " " : "") << "--help'.\n";
    return exit_usage;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    return usage(e.what(), true);
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  } catch (const usage_error& e) {  // a command's own checks
    return usage(e.what());
  }
  const auto* cmd = commands.chosen();
  if (!g.guest.empty()) {
    // (An inherited TETHER_SOCKET does not count: the command line names the guest.)
    if (app.get_option("--socket")->count() > 0) throw usage_error("--socket and --guest name two guests; pass one");
    g.socket = tether::broker_socket(g.guest);
  }
  if (cmd->needs == command_table::target::agent) {
    if (!g.domain.empty()) {
      if (!g.guest.empty()) throw usage_error("--guest and --domain both name the guest: pass one");
      // --domain wins over $TETHER_SOCKET, not over --socket.
      const char* env = std::getenv("TETHER_SOCKET");
      if (!g.socket.empty() && (!env || g.socket != env))
        throw usage_error("--socket and --domain both name the guest: pass one");
      check_domain(g);
    } else {
      if (g.socket.empty())
        throw usage_error("no socket: pass --socket PATH, --guest NAME or --domain NAME, or set TETHER_SOCKET");
      check_socket(g);
    }
  }
  return run_command(*cmd, g);
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
  } catch (const unreachable& e) {
    std::cerr << "tetherctl: " << e.what() << "\n";
    return exit_connection;
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
