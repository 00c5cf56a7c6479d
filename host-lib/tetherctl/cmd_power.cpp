// tetherctl power poweroff|reboot|halt|suspend [--wait [--wait-timeout TIME]]
//                 [--host-halt [--hook-timeout TIME]]
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "json_types.hpp"
#include "tether/power.hpp"

namespace tetherctl {
namespace {

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

void print_event(const power::event& e, bool as_json) {
  using K = power::event::kind;
  if (as_json) {
    json::print(boost::json::object{{"event", to_json_value(e)}});
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

void print_accepted(const power::reply& r, power::action act, bool host_halt, bool as_json) {
  if (as_json) {
    json::print(boost::json::object{{"accepted", to_json_value(r)}});
    return;
  }
  std::cout << power::to_string(act) << " accepted by the guest (via " << method_text(r.method) << ")"
            << (r.simulated ? " [simulated: the agent stops instead]" : "") << "\n";
  if (host_halt) {
    std::cout << "host-halt hooks to run first: " << (r.hooks.empty() ? "none" : "");
    for (std::size_t i = 0; i < r.hooks.size(); ++i) std::cout << (i ? ", " : "") << r.hooks[i];
    std::cout << "\n";
    for (const auto& s : r.skipped) std::cout << "  skipped " << s << "\n";
  }
  std::cout << std::flush;
}

// With --wait: the guest is down (or back).
void print_done(const power::outcome& out, power::action act, bool as_json) {
  if (as_json) {
    boost::json::object o{{"done", true}, {"elapsed_ms", out.elapsed.count()}};
    if (!out.boot_id.empty()) o.emplace("boot_id", out.boot_id);
    json::print(o);
  } else if (act == power::action::reboot) {
    std::cout << "the guest is back after " << secs(static_cast<std::uint64_t>(out.elapsed.count()))
              << " (new boot " << out.boot_id << "); its agent serves again\n";
  } else {
    std::cout << "the guest is " << (act == power::action::suspend ? "suspended" : "down") << " after "
              << secs(static_cast<std::uint64_t>(out.elapsed.count())) << "\n";
  }
  std::cout << std::flush;
}

struct power_args {
  power::action act = power::action::poweroff;
  power::options opts;
};

awaitable<int> run_power(context& ctx, power_args a) {
  const bool json = ctx.global.json;
  auto& opts = a.opts;
  auto accepted = [json, act = a.act, host_halt = opts.host_halt](const power::reply& r) {
    print_accepted(r, act, host_halt, json);
  };
  if (opts.wait) {
    opts.on_event = [json](const power::event& e) { print_event(e, json); };
    opts.on_accepted = accepted;
  }
  auto out = co_await power::request(ctx.client, a.act, opts, {ctx.global.timeout});
  if (opts.wait) print_done(out, a.act, json);
  else accepted(out.reply);
  co_return exit_ok;
}

}  // namespace

void add_power(command_table& t) {
  auto a = std::make_shared<power_args>();
  auto* app = t.add("power", "power the guest off, reboot, halt or suspend it",
                    [a](context& c) { return run_power(c, *a); });
  app->add_option_function<std::string>(
         "ACTION",
         [a](const std::string& name) {
           const auto act = power::parse_action(name);
           if (!act) throw CLI::ValidationError("unknown action '" + name + "' (poweroff, reboot, halt or suspend)");
           a->act = *act;
         },
         "poweroff, reboot, halt or suspend")
      ->required()
      ->type_name("");
  app->add_flag("--wait", a->opts.wait,
                             "follow the guest down (poweroff, halt: until QEMU exits; suspend: until suspended; "
                             "reboot: until its agent serves again)");
  add_duration(app, "--wait-timeout", a->opts.wait_timeout, "with --wait: how long (default 300s)");
  auto* host_halt = app->add_flag("--host-halt", a->opts.host_halt,
                                  "the host is going down: the guest runs its host-halt hooks first");
  add_duration(app, "--hook-timeout", a->opts.hook_timeout,
               "with --host-halt: time limit of each hook (default: the guest's, 30s)",
               {.max = power::max_hook_timeout})
      ->needs(host_halt);
}

}  // namespace tetherctl
