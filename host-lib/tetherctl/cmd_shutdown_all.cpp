// tetherctl shutdown-all [--config-dir DIR | --libvirt [URI]] [--deadline TIME]
//                        [--agent-timeout TIME] [--hook-timeout TIME]
// What tether-host-shutdown.service runs when the host goes down: every
// guest of DIR (default /etc/tether/guests.d, see tether/power.hpp for the
// format) is asked in parallel to power off as a host halt; a guest whose
// agent does not accept gets an ACPI power-down through QMP. With --libvirt:
// every running libvirt domain with a tether channel instead, libvirt's own
// shutdown as the fallback, down when libvirt says shut off. One line per
// guest; exit status 0 only if every guest is down.
#include <iostream>
#include <optional>

#include "cli.hpp"
#include "json_out.hpp"
#include "tether/power.hpp"

namespace tetherctl {
namespace {

namespace power = tether::power;

const char* via_text(power::guest_result::how h) {
  switch (h) {
    case power::guest_result::how::agent: return "agent";
    case power::guest_result::how::acpi: return "acpi";
    case power::guest_result::how::libvirt: return "libvirt";
    case power::guest_result::how::not_running: return "not-running";
    case power::guest_result::how::none: return "none";
  }
  return "?";
}

void print(const power::guest_result& r, bool as_json) {
  if (as_json)
    json::print(boost::json::object{{"name", r.name},
                                    {"down", r.down},
                                    {"via", via_text(r.via)},
                                    {"elapsed_ms", r.elapsed.count()},
                                    {"detail", r.detail}});
  else
    std::cout << r.name << ": " << (r.down ? "down" : "FAILED") << " - " << r.detail << "\n" << std::flush;
}

struct shutdown_args {
  std::string dir = "/etc/tether/guests.d";
  // --libvirt [URI]: set (URI, or empty for libvirt's default) instead of dir.
  std::optional<std::string> libvirt;
  power::shutdown_options opts;
};

awaitable<int> run_shutdown_all(context& ctx, shutdown_args a) {
  const std::string& dir = a.dir;
  auto& opts = a.opts;
  const bool json = ctx.global.json;

  power::guest_list list;
  if (a.libvirt) {
    list.guests = co_await power::libvirt_guests(*a.libvirt);
    // --domain NAME (global, repeatable only as one): that domain alone.
    if (!ctx.global.domain.empty())
      std::erase_if(list.guests, [&](const power::guest_config& g) { return g.domain != ctx.global.domain; });
  } else
    list = power::load_guests(dir);
  const std::string source = !a.libvirt          ? "in " + dir
                             : a.libvirt->empty() ? std::string("running in libvirt")
                                                  : "running in libvirt at " + *a.libvirt;
  for (const auto& e : list.errors) std::cerr << "tetherctl: shutdown-all: " << e << "\n";
  if (!json)
    std::cout << "shutdown-all: " << list.guests.size() << " guest(s) " << source << ", deadline "
              << opts.deadline.count() / 1000.0 << " s\n"
              << std::flush;
  opts.on_result = [json](const power::guest_result& r) { print(r, json); };
  const auto results = co_await power::shutdown_all(co_await asio::this_coro::executor, list.guests, opts);
  std::size_t down = 0;
  for (const auto& r : results) down += r.down ? 1 : 0;
  if (!json)
    std::cout << "shutdown-all: " << down << " of " << results.size() << " guest(s) down"
              << (list.errors.empty() ? "" : "; some guest files could not be used (see above)") << "\n"
              << std::flush;
  co_return down == results.size() && list.errors.empty() ? exit_ok : exit_remote_error;
}

}  // namespace

void add_shutdown_all(command_table& t) {
  auto a = std::make_shared<shutdown_args>();
  auto* app = t.add("shutdown-all",
                    "power off every guest of a directory as a host halt, in parallel (no --socket needed)",
                    [a](context& c) { return run_shutdown_all(c, *a); }, command_table::target::none);
  auto* dir = app->add_option("--config-dir", a->dir, "the guests' files (default /etc/tether/guests.d)")
                  ->type_name("DIR");
  app->add_option("--libvirt", a->libvirt,
                  "instead of DIR: every running libvirt domain with a tether channel (at URI; default: "
                  "libvirt's), libvirt's own shutdown where the agent does not answer")
      ->type_name("[URI]")
      ->expected(0, 1)
      ->default_str("")
      ->excludes(dir);
  app->footer("Exit status 0 only if every guest is down (1 otherwise).\n"
              "With --libvirt, the global --domain NAME limits it to that domain.");
  add_duration(app, "--deadline", a->opts.deadline, "every guest must be down by then (default 120s)");
  add_duration(app, "--agent-timeout", a->opts.agent_timeout,
               "a guest whose agent has not accepted by then gets an ACPI power-down through QMP "
               "(default 10s)");
  add_duration(app, "--hook-timeout", a->opts.hook_timeout, "time limit of each host-halt hook in the guests",
               {.max = power::max_hook_timeout});
}

}  // namespace tetherctl
