// tetherctl info
#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "json_types.hpp"
#include "tether/common/hex.hpp"

namespace tetherctl {
namespace {

void print(const tether::guest_info& r, bool as_json) {
  if (as_json) {
    json::print(to_json_value(r));
    return;
  }
  const std::time_t t = static_cast<std::time_t>(r.guest_time_ns / 1'000'000'000);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  std::string services;
  for (const auto& s : r.services) services += (services.empty() ? "" : ", ") + s;
  std::cout << "os:          " << r.os_pretty_name << "\n"
            << "kernel:      " << r.kernel_name << " " << r.kernel_release << " (" << r.machine << ")\n"
            << "hostname:    " << r.hostname << "\n"
            << "boot id:     " << r.boot_id << "\n"
            << "machine id:  " << r.machine_id << "\n"
            << "uptime:      " << static_cast<long long>(r.uptime_seconds) << " s\n"
            << "guest clock: " << when << "\n"
            << "agent:       tether-agent " << r.agent_version << " (protocol " << r.protocol_version
            << ", pid " << r.agent_pid << ")\n"
            << "services:    " << services << "\n"
            << "session:     " << tether::to_hex(r.session_id) << "\n";
}

awaitable<int> run_info(context& ctx) {
  print(co_await ctx.client.info({ctx.global.timeout}), ctx.global.json);
  co_return exit_ok;
}

}  // namespace

void add_info(command_table& t) { t.add("info", "facts about the guest and the agent", run_info); }

}  // namespace tetherctl
