// tetherctl info
#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "json_types.hpp"

namespace tetherctl {
namespace {

std::string hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

awaitable<int> run_info(context& ctx) {
  if (!ctx.args.empty()) throw usage_error("info takes no arguments");
  auto r = co_await ctx.client.info({ctx.global.timeout});
  if (ctx.global.json) {
    // bytes fields (session_id) print as base64, as proto3 JSON defines.
    std::cout << to_json(r) << "\n";
    co_return exit_ok;
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
            << "session:     " << hex(r.session_id) << "\n";
  co_return exit_ok;
}

const register_command reg{{"info", "info                                 facts about the guest and the agent", run_info}};

}  // namespace
}  // namespace tetherctl
