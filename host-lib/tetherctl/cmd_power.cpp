// tetherctl power poweroff|reboot|halt|suspend [--wait [--wait-timeout S]]
//                 [--host-halt [--hook-timeout S]]
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "json_types.hpp"
#include "tether/power.hpp"

namespace tetherctl {
namespace {

using std::chrono::milliseconds;
namespace power = tether::power;

std::string secs(std::uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

const char* method_text(power::method m) {
  switch (m) {
    case power::method::logind: return "logind";
    case power::method::systemd: return "the systemd manager";
    case power::method::kernel: return "the kernel (no systemd: sync and reboot(2))";
    default: return "?";
  }
}

void print_event(const power::event& e, bool json) {
  using K = power::event::kind;
  if (json) {
    std::cout << "{\"event\":" << to_json(e) << "}\n" << std::flush;
    return;
  }
  switch (e.what) {
    case K::hook_started: std::cout << "host-halt hook " << e.hook << " started\n"; break;
    case K::hook_finished:
      std::cout << "host-halt hook " << e.hook << " ";
      if (!e.message.empty()) std::cout << "did not run: " << e.message;
      else if (e.timed_out) std::cout << "stopped at its time limit";
      else if (e.signal) std::cout << "killed by signal " << e.signal;
      else std::cout << "exited with status " << e.exit_code;
      std::cout << " after " << secs(e.run_time_ms) << "\n";
      break;
    case K::action_started: std::cout << "the guest is going down (" << method_text(e.method) << ")\n"; break;
    case K::action_failed: std::cout << "the guest could not start the action: " << e.message << "\n"; break;
    default: return;
  }
  std::cout << std::flush;
}

awaitable<int> run_power(context& ctx) {
  std::optional<power::action> act;
  power::options opts;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    const auto& a = ctx.args[i];
    if (a == "--wait") {
      opts.wait = true;
    } else if (a == "--host-halt") {
      opts.host_halt = true;
    } else if (is_flag(a, "--hook-timeout")) {
      opts.hook_timeout = milliseconds(static_cast<long long>(parse_seconds(a, flag_value(ctx.args, i)) * 1000));
    } else if (is_flag(a, "--wait-timeout")) {
      opts.wait_timeout = milliseconds(static_cast<long long>(parse_seconds(a, flag_value(ctx.args, i)) * 1000));
    } else if (!a.starts_with("-") && !act) {
      act = power::parse_action(a);
      if (!act) throw usage_error("power: unknown action '" + a + "' (poweroff, reboot, halt or suspend)");
    } else {
      throw usage_error("power: unexpected argument '" + a + "'");
    }
  }
  if (!act) throw usage_error("power: which action? poweroff, reboot, halt or suspend");
  if (opts.hook_timeout > power::max_hook_timeout)
    throw usage_error("power: --hook-timeout must be at most " + std::to_string(power::max_hook_timeout.count() / 1000) + " s");
  if (opts.hook_timeout.count() && !opts.host_halt) throw usage_error("power: --hook-timeout needs --host-halt");
  const bool json = ctx.global.json;
  if (opts.wait) opts.on_event = [json](const power::event& e) { print_event(e, json); };

  auto accepted = [json, act, host_halt = opts.host_halt](const power::reply& r) {
    if (json) {
      std::cout << "{\"accepted\":" << to_json(r) << "}\n" << std::flush;
      return;
    }
    std::cout << power::to_string(*act) << " accepted by the guest (via " << method_text(r.method) << ")"
              << (r.simulated ? " [simulated: the agent stops instead]" : "") << "\n";
    if (host_halt) {
      std::cout << "host-halt hooks to run first: " << (r.hooks.empty() ? "none" : "");
      for (std::size_t i = 0; i < r.hooks.size(); ++i) std::cout << (i ? ", " : "") << r.hooks[i];
      std::cout << "\n";
      for (const auto& s : r.skipped) std::cout << "  skipped " << s << "\n";
    }
    std::cout << std::flush;
  };
  if (opts.wait) opts.on_accepted = accepted;

  auto out = co_await power::request(ctx.client, *act, opts, {ctx.global.timeout});
  if (!opts.wait) accepted(out.reply);
  if (opts.wait) {
    if (json) {
      std::cout << "{\"done\":true,\"elapsed_ms\":" << out.elapsed.count();
      if (!out.boot_id.empty()) std::cout << ",\"boot_id\":" << json_quote(out.boot_id);
      std::cout << "}\n";
    } else if (*act == power::action::reboot) {
      std::cout << "the guest is back after " << secs(static_cast<std::uint64_t>(out.elapsed.count()))
                << " (new boot " << out.boot_id << "); its agent serves again\n";
    } else {
      std::cout << "the guest is " << (*act == power::action::suspend ? "suspended" : "down") << " after "
                << secs(static_cast<std::uint64_t>(out.elapsed.count())) << "\n";
    }
  }
  std::cout << std::flush;
  co_return exit_ok;
}

const register_command reg{
    {"power",
     "power poweroff|reboot|halt|suspend [--wait [--wait-timeout S]] [--host-halt [--hook-timeout S]]\n"
     "                                       power the guest off, reboot, halt or suspend it; --wait follows it\n"
     "                                       down (reboot: until its agent serves again, default limit 300 s)",
     run_power}};

}  // namespace
}  // namespace tetherctl
