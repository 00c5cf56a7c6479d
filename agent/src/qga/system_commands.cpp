// Facts about the guest system: guest-get-host-name, guest-get-osinfo,
// guest-get-time, guest-set-time, guest-get-timezone, guest-get-vcpus,
// guest-set-vcpus, guest-get-users, guest-get-load. Reply fields as qemu-ga 7.2's (load as
// newer qemu-ga's, which libvirt asks for).
#include <fcntl.h>
#include <unistd.h>
#include <utmpx.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>

#include "qga/qga_agent.hpp"
#include "qga/run_helper.hpp"
#include "qga/sys_text.hpp"
#include "tether/common/unique_fd.hpp"
#include "services/info_service.hpp"
#include "sys/procfs.hpp"

namespace tether::agent::qga {
namespace {

std::string read_first_line(const std::string& path, bool& exists) {
  std::ifstream f(path);
  exists = f.is_open();
  std::string s;
  std::getline(f, s);
  return s;
}

json::value osinfo() {
  const auto facts = read_os_facts();
  json::object o;
  o["kernel-release"] = facts.kernel_release;
  o["kernel-version"] = facts.kernel_version;
  o["machine"] = facts.machine;
  static constexpr std::pair<const char*, const char*> keys[] = {
      {"ID", "id"}, {"NAME", "name"}, {"PRETTY_NAME", "pretty-name"}, {"VERSION", "version"},
      {"VERSION_ID", "version-id"}, {"VARIANT", "variant"}, {"VARIANT_ID", "variant-id"}};
  for (const auto& [from, to] : keys)
    if (auto it = facts.os_release.find(from); it != facts.os_release.end()) o[to] = it->second;
  return o;
}

json::value vcpus() {
  // qemu-ga 7.2 lists the highest logical id first.
  json::array out;
  const long n = ::sysconf(_SC_NPROCESSORS_CONF);
  for (long i = n - 1; i >= 0; --i) {
    bool exists = false;
    const auto v = read_first_line("/sys/devices/system/cpu/cpu" + std::to_string(i) + "/online", exists);
    // No "online" file: the CPU cannot be taken offline (cpu0 usually).
    out.push_back(json::object{{"online", exists ? v == "1" : true}, {"can-offline", exists},
                               {"logical-id", i}});
  }
  return out;
}

// qemu-ga's transfer_vcpu (vcpu to sysfs): writes "online" only when it
// differs; a CPU without the file is "online" and cannot go offline.
void set_vcpu(std::int64_t id, bool online) {
  const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(id) + "/";
  const auto sys_error = [&](const std::string& call, const std::string& what) {
    return qga_error(call + "(\"" + what + "\"): " + std::strerror(errno));
  };
  const unique_fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) throw sys_error("open", dir);
  const std::string file = dir + "/online";
  const unique_fd fd(::openat(dfd.get(), "online", O_RDWR | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT) throw sys_error("open", file);
    if (!online) throw qga_error("logical processor #" + std::to_string(id) + " can't be offlined");
    return;  // already online, as it always is
  }
  char status = 0;
  const auto n = ::pread(fd.get(), &status, 1, 0);
  if (n < 0) throw sys_error("pread", file);
  if (n == 0) throw qga_error("pread(\"" + file + "\"): unexpected EOF");
  if (online == (status != '0')) return;
  status = online ? '1' : '0';
  if (::pwrite(fd.get(), &status, 1, 0) < 0) throw sys_error("pwrite", file);
}

// qemu-ga's partial success: the CPUs are set in order until one fails; the
// reply is how many were set, or that first error when none was.
awaitable<json::value> set_vcpus(command_call& c) {
  const auto& list = c.a.value("vcpus");
  c.a.done();
  if (!list.is_array()) wrong_type("vcpus", "array");
  struct want {
    std::int64_t id;
    bool online;
  };
  std::vector<want> wants;  // QAPI checks the whole list before the command runs
  for (std::size_t i = 0; i < list.as_array().size(); ++i) {
    const std::string name = "vcpus[" + std::to_string(i) + "]";
    const auto& v = list.as_array()[i];
    if (!v.is_object()) wrong_type(name, "object");
    args a(v.as_object(), name + ".");
    const auto id = a.integer("logical-id");
    const auto online = a.boolean("online");
    a.opt_boolean("can-offline");
    a.done();
    wants.push_back({id, online});
  }
  std::int64_t done = 0;
  for (const auto& w : wants) {
    try {
      set_vcpu(w.id, w.online);
    } catch (const qga_error&) {
      if (done == 0) throw;
      break;
    }
    ++done;
  }
  co_return json::value(done);
}

json::value users() {
  // Each user once, with the earliest of their logins (as qemu-ga).
  std::map<std::string, double> first;
  ::setutxent();
  while (const utmpx* u = ::getutxent()) {
    if (u->ut_type != USER_PROCESS) continue;
    const std::string name(u->ut_user, ::strnlen(u->ut_user, sizeof u->ut_user));
    const double t = static_cast<double>(u->ut_tv.tv_sec) + static_cast<double>(u->ut_tv.tv_usec) / 1e6;
    auto [it, fresh] = first.try_emplace(name, t);
    if (!fresh && t < it->second) it->second = t;
  }
  ::endutxent();
  json::array out;
  for (const auto& [name, t] : first) out.push_back(json::object{{"user", name}, {"login-time", t}});
  return out;
}

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

json::value load() {
  const auto l = procfs::parse_loadavg(read_text("/proc/loadavg"));
  if (!l) throw qga_error("cannot read /proc/loadavg");
  return json::object{{"load1", l->load1}, {"load5", l->load5}, {"load15", l->load15}};
}

json::value time_zone() {
  const time_t now = ::time(nullptr);
  tm local{};
  ::localtime_r(&now, &local);
  json::object o{{"offset", static_cast<std::int64_t>(local.tm_gmtoff)}};
  if (local.tm_zone) o["zone"] = local.tm_zone;
  return o;
}

awaitable<json::value> set_time(command_call& c) {
  const auto t = c.a.opt_integer("time");
  c.a.done();
  if (t) {
    // qemu-ga refuses times it cannot represent the same way.
    if (*t < 0) throw qga_error("Invalid time " + std::to_string(*t) + " for setting");
    const timespec ts{static_cast<time_t>(*t / 1'000'000'000), static_cast<long>(*t % 1'000'000'000)};
    if (::clock_settime(CLOCK_REALTIME, &ts) != 0)
      throw qga_error(std::string("Failed to set time to guest: ") + std::strerror(errno));
  }
  // As qemu-ga: with a time, the hardware clock follows the system's;
  // without one, the system clock is read from the hardware clock.
  std::vector<std::string> args;
  args.emplace_back(t ? "-w" : "-s");  // (not a braced list: GCC 12 coroutine bug)
  const auto r = co_await run_helper("hwclock", std::move(args));
  if (!r.ok())
    throw qga_error(t ? "hwclock failed to set hardware clock to system time"
                      : "hwclock failed to set system time from hardware clock: " + r.error);
  co_return json::object{};
}

}  // namespace

void add_system_commands(std::vector<command_def>& t) {
  t.push_back(simple_command("guest-get-load", "stats", load));
  t.push_back(simple_command("guest-get-osinfo", "info", osinfo));
  t.push_back(simple_command("guest-get-timezone", "info", time_zone));
  t.push_back(simple_command("guest-get-users", "info", users));
  t.push_back(simple_command("guest-get-host-name", "info", [] {
    return json::value(json::object{{"host-name", read_os_facts().hostname}});
  }));
  t.push_back({"guest-set-vcpus", "", set_vcpus});
  t.push_back(simple_command("guest-get-vcpus", "info", vcpus));
  t.push_back({"guest-set-time", "", set_time});
  t.push_back(simple_command("guest-get-time", "info", [] { return json::value(now_ns()); }));
}

}  // namespace tether::agent::qga
