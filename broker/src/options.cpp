#include "options.hpp"

#include <grp.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "tether/runtime_dir.hpp"

namespace tether::broker {
namespace {

constexpr const char* about =
    "tetherd: the tether broker. Owns each guest's connection to tether-agent (the QEMU chardev\n"
    "socket of its org.tether.agent.0 port) and serves any number of local clients on\n"
    "DIR/NAME.sock, each with its own calls, streams and subscriptions over the one guest\n"
    "session. Clients (libtether, tetherctl --guest NAME, the Python package) connect to it\n"
    "exactly as to the chardev socket.";

constexpr const char* footer =
    "Guests: every --guest, and every DIR/*.conf of --guests-dir (the host's guests.d:\n"
    "  name = NAME, socket = CHARDEV_SOCKET; see README).\n"
    "Sockets: DIR/NAME.sock exists while the guest's chardev socket accepts connections\n"
    "  (as the chardev's own does); access is the socket's mode and group. Under systemd,\n"
    "  sockets passed by socket activation with FileDescriptorName=NAME are used instead\n"
    "  (tetherd-guest@NAME.socket), and kept for the broker's life.\n"
    "A client that goes away has its running calls cancelled in the guest; when the guest's\n"
    "  session ends its clients are disconnected and reconnect, as from a guest.\n"
    "Log: one line per client connection (with its pid, uid and gid) and per guest event.";

gid_t group_id(const std::string& g) {
  if (!g.empty() && g.find_first_not_of("0123456789") == std::string::npos) return static_cast<gid_t>(std::stoul(g));
  if (const group* gr = ::getgrnam(g.c_str())) return gr->gr_gid;
  throw std::invalid_argument("no such group '" + g + "' (--socket-group)");
}

}  // namespace

std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options o;
  o.sockets.runtime_dir = broker_runtime_dir();
  std::vector<std::string> guests;
  std::string mode = "0660", group, level = "info";
  bool no_guests_dir = false;
  CLI::App app(about, "tetherd");
  app.set_version_flag("--version", std::string("tetherd ") + TETHER_VERSION, "print the version and exit");
  app.add_option("--guest", guests, "serve guest NAME whose tether chardev socket is CHARDEV_SOCKET (repeatable)")
      ->type_name("NAME=CHARDEV_SOCKET");
  app.add_option("--guests-dir", o.guests_dir, "also serve the guests of DIR/*.conf")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_flag("--no-guests-dir", no_guests_dir, "serve only the --guest guests");
  app.add_option("--runtime-dir", o.sockets.runtime_dir, "where the guests' sockets are made (DIR/NAME.sock)")
      ->envname("TETHER_RUNTIME_DIR")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--socket-mode", mode, "mode of the sockets, octal: who may use the guests")
      ->type_name("MODE")
      ->capture_default_str();
  app.add_option("--socket-group", group, "group of the sockets (name or number)")->type_name("GROUP");
  app.add_option("--max-clients", o.lim.max_clients, "clients of one guest at once")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--max-calls", o.lim.max_calls_per_client, "running calls of one client at once")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--max-client-queue", o.lim.max_client_queue,
                 "bytes queued toward a client that does not read before it is disconnected")
      ->type_name("BYTES")
      ->capture_default_str();
  app.add_option("--min-stream-window", o.lim.min_stream_window,
                 "stream window announced to agents (4 KiB..64 MiB); clients must announce at least this")
      ->type_name("BYTES")
      ->capture_default_str()
      ->check(CLI::Range(4096u, 64u << 20).description(""));
  app.add_option("--log-level", level, "error, warning, info or debug")->type_name("LEVEL")->capture_default_str();
  app.footer(footer);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  for (const auto& g : guests) {
    const auto eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size())
      throw std::invalid_argument("--guest " + g + ": expected NAME=CHARDEV_SOCKET");
    o.guests.emplace_back(g.substr(0, eq), g.substr(eq + 1));
  }
  if (no_guests_dir) o.guests_dir.clear();
  std::size_t used = 0;
  const unsigned long m = std::stoul(mode, &used, 8);
  if (used != mode.size() || m > 07777) throw std::invalid_argument("--socket-mode " + mode + ": not an octal mode");
  o.sockets.mode = static_cast<mode_t>(m);
  if (!group.empty()) o.sockets.group = group_id(group);
  if (o.lim.max_clients == 0 || o.lim.max_calls_per_client == 0)
    throw std::invalid_argument("--max-clients and --max-calls must be at least 1");
  if (level == "error") o.log_level = log::level::error;
  else if (level == "warning") o.log_level = log::level::warning;
  else if (level == "info") o.log_level = log::level::info;
  else if (level == "debug") o.log_level = log::level::debug;
  else throw std::invalid_argument("--log-level " + level + ": expected error, warning, info or debug");
  exit_code = 0;
  return o;
}

}  // namespace tether::broker
