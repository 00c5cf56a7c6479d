#include "services/info_service.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "tether/v1/info.pb.h"
#include "tether/wire/codec.hpp"

namespace tether::agent {
namespace {

std::string read_text(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string first_line(const char* path) {
  std::string s = read_text(path);
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key(line.substr(0, eq));
    std::string_view raw = line.substr(eq + 1);
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      const char q = raw.front();
      for (std::size_t i = 1; i < raw.size() && raw[i] != q; ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size() && q == '"') ++i;
        value.push_back(raw[i]);
      }
    } else {
      value.assign(raw);
    }
    out[std::move(key)] = std::move(value);
  }
  return out;
}

os_facts read_os_facts() {
  os_facts f;
  std::string os = read_text("/etc/os-release");
  if (os.empty()) os = read_text("/usr/lib/os-release");
  f.os_release = parse_os_release(os);
  utsname u{};
  if (::uname(&u) == 0) {
    f.kernel_name = u.sysname;
    f.kernel_release = u.release;
    f.kernel_version = u.version;
    f.machine = u.machine;
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) f.hostname = host;
  return f;
}

void info_service::add_methods(service_registry& registry) {
  registry.add_method("info.Get", [](call_context& call) -> awaitable<std::string> {
    (void)call.request<v1::InfoRequest>();
    v1::InfoReply r;
    const auto& s = call.session();
    r.set_agent_version(s.agent_version);
    r.set_protocol_version(s.protocol_version);
    for (const auto& name : s.services) r.add_services(name);
    r.set_session_id(s.session_id);

    const auto facts = read_os_facts();
    for (const auto& [k, v] : facts.os_release) (*r.mutable_os_release())[k] = v;
    if (auto it = r.os_release().find("PRETTY_NAME"); it != r.os_release().end())
      r.set_os_pretty_name(it->second);
    if (!facts.kernel_name.empty()) {
      r.set_kernel_name(facts.kernel_name);
      r.set_kernel_release(facts.kernel_release);
      r.set_kernel_version(facts.kernel_version);
      r.set_machine(facts.machine);
    }
    r.set_hostname(facts.hostname);
    r.set_boot_id(first_line("/proc/sys/kernel/random/boot_id"));
    r.set_machine_id(first_line("/etc/machine-id"));
    r.set_uptime_seconds(std::strtod(read_text("/proc/uptime").c_str(), nullptr));

    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    r.set_guest_time_ns(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
    tm local{};
    ::localtime_r(&ts.tv_sec, &local);
    r.set_utc_offset_seconds(static_cast<std::int32_t>(local.tm_gmtoff));
    r.set_agent_pid(static_cast<std::uint32_t>(::getpid()));
    co_return r.SerializeAsString();
  });
}

}  // namespace tether::agent
