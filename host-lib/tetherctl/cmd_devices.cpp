// tetherctl devices | wait-device | events: the guest's devices as its udev
// sees them.
//   FILTER: --subsystem S --devtype T --sysname GLOB --property K=GLOB
//           --tag T --attr K=GLOB   (property, tag, attr repeatable; all ANDed)
#include <csignal>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "json_types.hpp"
#include "tether/common/race.hpp"
#include "tether/devices.hpp"

namespace tetherctl {
namespace {

namespace devices = tether::devices;

// FILTER options (devices, wait-device, events).
void add_filter(CLI::App* app, devices::filter& f) {
  // KEY=GLOB into a map; repeated keys: the last wins.
  auto key_value = [app](const char* name, std::map<std::string, std::string>& into, const char* help) {
    auto set = [name, &into](const std::vector<std::string>& values) {
      for (const auto& v : values) {
        const auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0)
          throw CLI::ValidationError(std::string(name) + " needs KEY=GLOB, got '" + v + "'");
        into.insert_or_assign(v.substr(0, eq), v.substr(eq + 1));
      }
    };
    app->add_option_function<std::vector<std::string>>(name, set, help)
        ->allow_extra_args(false)
        ->type_name("K=GLOB")
        ->group("FILTER");
  };
  app->add_option("--subsystem", f.subsystem, "udev subsystem: block, net, ...")->type_name("S")->group("FILTER");
  app->add_option("--devtype", f.devtype, "device type: disk, partition, ...")->type_name("T")->group("FILTER");
  app->add_option("--sysname", f.sys_name, "kernel name (glob)")->type_name("GLOB")->group("FILTER");
  key_value("--property", f.properties, "udev property K matches GLOB (repeatable)");
  app->add_option("--tag", f.tags, "udev tag, all required (repeatable)")
      ->allow_extra_args(false)
      ->type_name("T")
      ->group("FILTER");
  key_value("--attr", f.attributes, "sysfs attribute K matches GLOB (repeatable)");
}

std::string kind_of(const devices::device& d) {
  return d.devtype.empty() ? d.subsystem : d.subsystem + "/" + d.devtype;
}

// One line: what udevadm monitor shows, plus the node.
std::string device_line(const devices::device& d) {
  std::string s;
  if (d.seqnum != 0) s += std::to_string(d.seqnum) + " ";
  if (!d.action.empty()) s += d.action + " ";
  s += kind_of(d) + " " + d.sys_name;
  if (!d.devnode.empty()) s += " " + d.devnode;
  s += " " + d.device_path;
  if (d.out_of_order) s += " (out of order)";
  return s;
}

void print_details(const devices::device& d) {
  for (const auto& l : d.devlinks) std::cout << "  link " << l << "\n";
  for (const auto& t : d.tags) std::cout << "  tag  " << t << "\n";
  for (const auto& [k, v] : d.properties) std::cout << "  " << k << "=" << v << "\n";
  for (const auto& [k, v] : d.attributes) std::cout << "  attr{" << k << "}=" << v << "\n";
}

void print(const devices::device& d, bool as_json, bool details) {
  if (as_json) {
    json::print(to_json_value(d));
    return;
  }
  std::cout << device_line(d) << "\n";
  if (details) print_details(d);
}

void print(const devices::wait_result& r, bool gone, bool as_json) {
  if (as_json) {
    json::print(to_json_value(r));
  } else if (r.device) {
    std::cout << (gone ? "gone: " : "") << device_line(*r.device) << "\n";
    if (!gone) print_details(*r.device);
  } else {
    std::cout << "gone: no matching device exists\n";
  }
}

void print_event(const devices::event& ev, bool as_json, bool details) {
  using K = devices::event::kind;
  if (as_json) {
    json::print(to_json_value(ev));
    return;
  }
  if (ev.what == K::device) {
    std::cout << device_line(ev.device) << "\n";
    if (details) print_details(ev.device);
  } else if (ev.what == K::lost) {
    std::cout << "-- lost " << (ev.lost.count_unknown ? std::string("an unknown number of")
                                                      : std::to_string(ev.lost.count))
              << " events: " << ev.lost.reason << "\n";
  } else if (ev.what == K::replay_gap) {
    std::cout << "-- replay gap after " << ev.gap.resume_after_seqnum << ": " << ev.gap.reason << "\n";
  }
  std::cout << std::flush;
}

struct devices_args {
  devices::filter filter;
  bool details = false;  // --properties
};

awaitable<int> run_devices(context& ctx, const devices_args& a) {
  for (const auto& d : co_await devices::list(ctx.client, a.filter, {ctx.global.timeout}))
    print(d, ctx.global.json, a.details);
  co_return exit_ok;
}

struct wait_args {
  devices::filter filter;
  devices::wait_options opts{.timeout = milliseconds(0)};  // 0: the global --timeout
};

awaitable<int> run_wait_device(context& ctx, wait_args a) {
  if (a.opts.timeout.count() == 0) a.opts.timeout = ctx.global.timeout;
  devices::wait_result r;
  std::optional<tether::error> timed_out;
  try {
    r = co_await devices::wait(ctx.client, a.filter, a.opts);
  } catch (const tether::error& e) {
    if (e.remote_code() != tether::remote_errc::deadline_exceeded && e.code() != tether::errc::timeout) throw;
    timed_out = e;
  }
  if (timed_out) {
    std::cerr << "tetherctl: wait-device: " << timed_out->what() << "\n";
    co_return exit_connection;  // 3: timed out
  }
  print(r, a.opts.gone, ctx.global.json);
  co_return exit_ok;
}

struct events_args {
  devices::filter filter;
  devices::subscribe_options opts;
  bool details = false;
  long long count = -1;  // device events to print before exiting; -1: until interrupted
};

awaitable<int> run_events(context& ctx, events_args a) {
  auto ex = co_await asio::this_coro::executor;
  asio::signal_set signals(ex, SIGINT, SIGTERM);

  auto stream = [&]() -> awaitable<void> {
    auto sub = co_await devices::subscribe(ctx.client, a.filter, a.opts, {ctx.global.timeout});
    if (ctx.global.json) json::print(to_json_value(sub.started()));
    else std::cerr << "listening (guest uevent sequence number " << sub.started().current_seqnum
                   << "); Ctrl-C stops\n";
    while (a.count != 0) {
      auto ev = co_await sub.next();
      if (!ev) break;
      print_event(*ev, ctx.global.json, a.details);
      if (ev->what == devices::event::kind::device && a.count > 0) --a.count;
    }
  };
  // Ctrl-C cancels the subscription: that is the normal end, not a failure.
  auto interrupted = [&]() -> awaitable<void> { co_await signals.async_wait(tether::use_awaitable); };
  if (auto failure = co_await tether::first_to_end(stream(), interrupted())) std::rethrow_exception(failure);
  co_return exit_ok;
}

}  // namespace

void add_devices(command_table& t) {
  const char* properties_help = "also each device's links, tags, properties and attributes";

  auto d = std::make_shared<devices_args>();
  auto* list = t.add("devices", "list the guest's devices that udev has initialized",
                     [d](context& c) { return run_devices(c, *d); });
  add_filter(list, d->filter);
  list->add_flag("--properties", d->details, properties_help);

  auto w = std::make_shared<wait_args>();
  auto* wait = t.add("wait-device", "wait until a matching device is there (or with --gone, is not); 3 on timeout",
                     [w](context& c) { return run_wait_device(c, *w); });
  add_filter(wait, w->filter);
  wait->add_flag("--gone", w->opts.gone, "wait until no matching device exists");
  add_duration(wait, "--timeout", w->opts.timeout, "how long the guest waits (default: the global --timeout)");

  auto e = std::make_shared<events_args>();
  auto* events = t.add("events", "print the guest's udev events as they happen, until Ctrl-C",
                       [e](context& c) { return run_events(c, *e); });
  add_filter(events, e->filter);
  events->add_option_function<long long>(
            "--resume-after", [e](long long seq) { e->opts.resume_after_seqnum = static_cast<std::uint64_t>(seq); },
            "start with the events after this sequence number that the guest still holds")
      ->check(in_range(0LL, std::numeric_limits<long long>::max()))
      ->type_name("SEQ");
  events->add_option("--count", e->count, "exit after N device events")
      ->check(in_range(1LL, std::numeric_limits<long long>::max()))
      ->type_name("N");
  events->add_flag("--properties", e->details, properties_help);
}

}  // namespace tetherctl
