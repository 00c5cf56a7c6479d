#include "run.hpp"

#include <systemd/sd-daemon.h>

#include <iostream>

#include "broker.hpp"
#include "log.hpp"
#include "options.hpp"
#include "tether/power.hpp"

namespace tether::broker {
namespace {

// --guest first, then guests.d; a name twice is an error the log names.
void add_guests(broker& b, const options& o) {
  auto add = [&](const std::string& name, const std::string& socket, const std::string& from) {
    try {
      b.add_guest(name, socket);
    } catch (const std::exception& e) {
      log::error(from + ": " + e.what());
    }
  };
  for (const auto& [name, socket] : o.guests) add(name, socket, "--guest " + name);
  if (o.guests_dir.empty()) return;
  const auto list = power::load_guests(o.guests_dir);
  for (const auto& e : list.errors) log::error(e);
  for (const auto& g : list.guests) add(g.name, g.socket, g.file);
}

}  // namespace

int run_tetherd(int argc, char** argv) {
  int exit_code = 0;
  std::optional<options> o;
  try {
    o = parse_options(argc, argv, exit_code);
  } catch (const std::exception& e) {
    std::cerr << "tetherd: " << e.what() << "\nTry 'tetherd --help'.\n";
    return 2;
  }
  if (!o) return exit_code;
  log::set_max_level(o->log_level);
  try {
    asio::io_context ctx(1);
    broker b(ctx.get_executor(), o->sockets, o->lim, activated_sockets::from_environment());
    add_guests(b, *o);
    for (const auto& name : b.unclaimed_sockets())
      log::warning("socket '" + name + "' from systemd names no configured guest; unused");
    if (b.guests().empty()) log::warning("no guests to serve (--guest, --guests-dir)");
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log::info(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
      b.stop();
      ctx.stop();
    });
    ::sd_notify(0, "READY=1");
    ctx.run();
    b.stop();
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  return 0;
}

}  // namespace tether::broker
