// tetherctl shutdown-all [--config-dir DIR] [--deadline S] [--agent-timeout S]
//                        [--hook-timeout S]
// What tether-host-shutdown.service runs when the host goes down: every
// guest of DIR (default /etc/tether/guests.d, see tether/power.hpp for the
// format) is asked in parallel to power off as a host halt; a guest whose
// agent does not accept gets an ACPI power-down through QMP. One line per
// guest; exit status 0 only if every guest is down.
#include <iostream>

#include "cli.hpp"
#include "tether/power.hpp"

namespace tetherctl {
namespace {

using std::chrono::milliseconds;
namespace power = tether::power;

const char* via_text(power::guest_result::how h) {
  switch (h) {
    case power::guest_result::how::agent: return "agent";
    case power::guest_result::how::acpi: return "acpi";
    case power::guest_result::how::not_running: return "not-running";
    case power::guest_result::how::none: return "none";
  }
  return "?";
}

milliseconds seconds_flag(const std::string& flag, const std::vector<std::string>& args, std::size_t& i) {
  return milliseconds(static_cast<long long>(parse_seconds(flag, flag_value(args, i)) * 1000));
}

awaitable<int> run_shutdown_all(context& ctx) {
  std::string dir = "/etc/tether/guests.d";
  power::shutdown_options opts;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    const auto& a = ctx.args[i];
    if (is_flag(a, "--config-dir")) dir = flag_value(ctx.args, i);
    else if (is_flag(a, "--deadline")) opts.deadline = seconds_flag(a, ctx.args, i);
    else if (is_flag(a, "--agent-timeout")) opts.agent_timeout = seconds_flag(a, ctx.args, i);
    else if (is_flag(a, "--hook-timeout")) opts.hook_timeout = seconds_flag(a, ctx.args, i);
    else throw usage_error("shutdown-all: unexpected argument '" + a + "'");
  }
  if (opts.hook_timeout > power::max_hook_timeout)
    throw usage_error("shutdown-all: --hook-timeout must be at most " +
                      std::to_string(power::max_hook_timeout.count() / 1000) + " s");
  const bool json = ctx.global.json;

  auto list = power::load_guests(dir);
  for (const auto& e : list.errors) std::cerr << "tetherctl: shutdown-all: " << e << "\n";
  if (!json)
    std::cout << "shutdown-all: " << list.guests.size() << " guest(s) in " << dir << ", deadline "
              << opts.deadline.count() / 1000.0 << " s\n"
              << std::flush;
  opts.on_result = [json](const power::guest_result& r) {
    if (json)
      std::cout << "{\"name\":" << json_quote(r.name) << ",\"down\":" << (r.down ? "true" : "false")
                << ",\"via\":\"" << via_text(r.via) << "\",\"elapsed_ms\":" << r.elapsed.count()
                << ",\"detail\":" << json_quote(r.detail) << "}\n";
    else
      std::cout << r.name << ": " << (r.down ? "down" : "FAILED") << " - " << r.detail << "\n";
    std::cout << std::flush;
  };
  const auto results = co_await power::shutdown_all(co_await asio::this_coro::executor, list.guests, opts);
  std::size_t down = 0;
  for (const auto& r : results) down += r.down ? 1 : 0;
  if (!json)
    std::cout << "shutdown-all: " << down << " of " << results.size() << " guest(s) down"
              << (list.errors.empty() ? "" : "; some guest files could not be used (see above)") << "\n"
              << std::flush;
  co_return down == results.size() && list.errors.empty() ? exit_ok : exit_remote_error;
}

const register_command reg{
    {"shutdown-all",
     "shutdown-all [--config-dir DIR] [--deadline S] [--agent-timeout S] [--hook-timeout S]\n"
     "                                       power off every guest of DIR (default /etc/tether/guests.d) as\n"
     "                                       a host halt, in parallel; no --socket needed",
     run_shutdown_all, /*needs_socket=*/false}};

}  // namespace
}  // namespace tetherctl
