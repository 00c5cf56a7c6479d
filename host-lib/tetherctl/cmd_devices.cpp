// tetherctl devices | wait-device | events: the guest's devices as its udev
// sees them.
//   FILTER: --subsystem S --devtype T --sysname GLOB --property K=GLOB
//           --tag T --attr K=GLOB   (property, tag, attr repeatable; all ANDed)
#include <csignal>
#include <iostream>

#include "cli.hpp"
#include "json_types.hpp"
#include "tether/devices.hpp"

namespace tetherctl {
namespace {

namespace devices = tether::devices;
using namespace asio::experimental::awaitable_operators;

// Parses the FILTER flag at args[i], if it is one.
bool parse_filter_flag(const std::vector<std::string>& args, std::size_t& i, devices::filter& f) {
  const std::string& a = args[i];
  auto key_value = [&](const char* flag) {
    const std::string v = flag_value(args, i);
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      throw usage_error(std::string(flag) + " needs KEY=GLOB, got '" + v + "'");
    return std::pair{v.substr(0, eq), v.substr(eq + 1)};
  };
  if (is_flag(a, "--subsystem")) {
    f.subsystem = flag_value(args, i);
  } else if (is_flag(a, "--devtype")) {
    f.devtype = flag_value(args, i);
  } else if (is_flag(a, "--sysname")) {
    f.sys_name = flag_value(args, i);
  } else if (is_flag(a, "--tag")) {
    f.tags.push_back(flag_value(args, i));
  } else if (is_flag(a, "--property")) {
    auto [k, v] = key_value("--property");
    f.properties.insert_or_assign(std::move(k), std::move(v));
  } else if (is_flag(a, "--attr")) {
    auto [k, v] = key_value("--attr");
    f.attributes.insert_or_assign(std::move(k), std::move(v));
  } else {
    return false;
  }
  return true;
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

awaitable<int> run_devices(context& ctx) {
  devices::filter f;
  bool details = false;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (parse_filter_flag(ctx.args, i, f)) continue;
    if (ctx.args[i] == "--properties") details = true;
    else throw usage_error("devices: unexpected argument '" + ctx.args[i] + "'");
  }
  auto found = co_await devices::list(ctx.client, f, {ctx.global.timeout});
  for (const auto& d : found) {
    if (ctx.global.json) {
      std::cout << to_json(d) << "\n";
      continue;
    }
    std::cout << device_line(d) << "\n";
    if (details) print_details(d);
  }
  co_return exit_ok;
}

awaitable<int> run_wait_device(context& ctx) {
  devices::filter f;
  devices::wait_options opts{.gone = false, .timeout = ctx.global.timeout};
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (parse_filter_flag(ctx.args, i, f)) continue;
    if (ctx.args[i] == "--gone") {
      opts.gone = true;
    } else if (is_flag(ctx.args[i], "--timeout")) {
      opts.timeout = std::chrono::milliseconds(
          static_cast<long long>(parse_seconds("--timeout", flag_value(ctx.args, i)) * 1000));
    } else {
      throw usage_error("wait-device: unexpected argument '" + ctx.args[i] + "'");
    }
  }
  devices::wait_result r;
  std::optional<tether::error> timed_out;
  try {
    r = co_await devices::wait(ctx.client, f, opts);
  } catch (const tether::error& e) {
    if (e.remote_code() != tether::remote_errc::deadline_exceeded && e.code() != tether::errc::timeout) throw;
    timed_out = e;
  }
  if (timed_out) {
    std::cerr << "tetherctl: wait-device: " << timed_out->what() << "\n";
    co_return exit_connection;  // 3: timed out
  }
  if (ctx.global.json) {
    std::cout << to_json(r) << "\n";
  } else if (r.device) {
    std::cout << (opts.gone ? "gone: " : "") << device_line(*r.device) << "\n";
    if (!opts.gone) print_details(*r.device);
  } else {
    std::cout << "gone: no matching device exists\n";
  }
  co_return exit_ok;
}

void print_event(const devices::event& ev, bool json, bool details) {
  using K = devices::event::kind;
  if (json) {
    std::cout << to_json(ev) << std::endl;  // flushed: consumers read line by line
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

awaitable<int> run_events(context& ctx) {
  devices::filter f;
  devices::subscribe_options opts;
  bool details = false;
  long long count = -1;  // device events to print before exiting; -1: until interrupted
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (parse_filter_flag(ctx.args, i, f)) continue;
    if (is_flag(ctx.args[i], "--resume-after")) {
      opts.resume_after_seqnum = static_cast<std::uint64_t>(
          parse_int("--resume-after", flag_value(ctx.args, i), 0, std::numeric_limits<long long>::max()));
    } else if (is_flag(ctx.args[i], "--count")) {
      count = parse_int("--count", flag_value(ctx.args, i), 1, std::numeric_limits<long long>::max());
    } else if (ctx.args[i] == "--properties") {
      details = true;
    } else {
      throw usage_error("events: unexpected argument '" + ctx.args[i] + "'");
    }
  }
  auto ex = co_await asio::this_coro::executor;
  asio::signal_set signals(ex, SIGINT, SIGTERM);

  // Ends normally in every case (|| below waits for the first branch that
  // completes without throwing), keeping any failure for later.
  std::exception_ptr failure;
  auto stream = [&]() -> awaitable<void> {
    try {
      auto sub = co_await devices::subscribe(ctx.client, f, opts, {ctx.global.timeout});
      if (ctx.global.json) std::cout << to_json(sub.started()) << std::endl;
      else std::cerr << "listening (guest uevent sequence number " << sub.started().current_seqnum
                     << "); Ctrl-C stops\n";
      while (count != 0) {
        auto ev = co_await sub.next();
        if (!ev) break;
        print_event(*ev, ctx.global.json, details);
        if (ev->what == devices::event::kind::device && count > 0) --count;
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::operation_aborted) failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
  };
  bool interrupted_by_signal = false;
  auto interrupted = [&]() -> awaitable<void> {
    co_await signals.async_wait(tether::use_awaitable);  // throws only if cancelled
    interrupted_by_signal = true;
  };
  co_await (stream() || interrupted());
  // Ctrl-C cancels the subscription: that is the normal end, not a failure.
  if (failure && !interrupted_by_signal) std::rethrow_exception(failure);
  co_return exit_ok;
}

const register_command reg_devices{
    {"devices",
     "devices [FILTER] [--properties]    list the guest's initialized devices\n"
     "      FILTER: --subsystem S --devtype T --sysname GLOB --property K=GLOB --tag T\n"
     "              --attr K=GLOB (property, tag, attr repeatable; all must match)",
     run_devices}};
const register_command reg_wait{
    {"wait-device",
     "wait-device [FILTER] [--gone] [--timeout S]   wait for a device to appear (or go); 3 on timeout",
     run_wait_device}};
const register_command reg_events{
    {"events", "events [FILTER] [--resume-after SEQ] [--count N] [--properties]   udev events until Ctrl-C",
     run_events}};

}  // namespace
}  // namespace tetherctl
