#include "power/power_action.hpp"

#include <linux/capability.h>
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "log.hpp"
#include "sys/sd_bus.hpp"
#include "tether/common/async_event.hpp"

namespace tether::agent::power {
namespace {

constexpr const char* logind_dest = "org.freedesktop.login1";
constexpr const char* logind_path = "/org/freedesktop/login1";
constexpr const char* logind_iface = "org.freedesktop.login1.Manager";
constexpr const char* systemd_dest = "org.freedesktop.systemd1";
constexpr const char* systemd_path = "/org/freedesktop/systemd1";
constexpr const char* systemd_iface = "org.freedesktop.systemd1.Manager";
constexpr const char* systemd_private = "unix:path=/run/systemd/private";

// logind's method for an action ("PowerOff"), and its Can* query.
std::string logind_member(v1::PowerAction a) {
  switch (a) {
    case v1::POWER_ACTION_POWEROFF: return "PowerOff";
    case v1::POWER_ACTION_REBOOT: return "Reboot";
    case v1::POWER_ACTION_HALT: return "Halt";
    case v1::POWER_ACTION_SUSPEND: return "Suspend";
    case v1::POWER_ACTION_HIBERNATE: return "Hibernate";
    case v1::POWER_ACTION_HYBRID_SLEEP: return "HybridSleep";
    default: return "";
  }
}

const char* target_unit(v1::PowerAction a) {
  switch (a) {
    case v1::POWER_ACTION_POWEROFF: return "poweroff.target";
    case v1::POWER_ACTION_REBOOT: return "reboot.target";
    case v1::POWER_ACTION_HALT: return "halt.target";
    case v1::POWER_ACTION_SUSPEND: return "suspend.target";
    case v1::POWER_ACTION_HIBERNATE: return "hibernate.target";
    case v1::POWER_ACTION_HYBRID_SLEEP: return "hybrid-sleep.target";
    default: return "";
  }
}

bool service_missing(const sys::bus_error& e) {
  return e.name() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
         e.name() == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
         e.name() == "org.freedesktop.DBus.Error.UnknownMethod" ||
         e.name() == "org.freedesktop.DBus.Error.UnknownObject" ||
         e.name() == "org.freedesktop.DBus.Error.UnknownInterface";
}

bool has_cap_sys_boot() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return ::geteuid() == 0;
  return (data[CAP_SYS_BOOT / 32].effective & (1u << (CAP_SYS_BOOT % 32))) != 0;
}

bool file_has_word(const char* path, std::initializer_list<std::string_view> words) {
  std::ifstream f(path);
  std::string word;
  while (f >> word) {
    if (word.size() > 2 && word.front() == '[' && word.back() == ']') word = word.substr(1, word.size() - 2);
    for (const auto w : words)
      if (word == w) return true;
  }
  return false;
}

// Whether the kernel offers the sleep state (/sys/power/state: "freeze mem
// disk"; /sys/power/disk: "[platform] shutdown reboot suspend").
bool kernel_can_sleep(v1::PowerAction action) {
  if (action == v1::POWER_ACTION_SUSPEND) return file_has_word("/sys/power/state", {"mem", "standby", "freeze"});
  if (!file_has_word("/sys/power/state", {"disk"})) return false;
  return action != v1::POWER_ACTION_HYBRID_SLEEP || file_has_word("/sys/power/disk", {"suspend"});
}

// Opens the bus systemd listens on: the system bus, or (no D-Bus daemon)
// systemd's private socket, as systemctl does. Throws UNAVAILABLE.
sys::bus open_systemd_bus(const asio::any_io_executor& ex, std::string& address) {
  std::string why;
  try {
    address.clear();
    return sys::bus::open_system(ex);
  } catch (const sys::bus_error& e) {
    why = e.what();
  }
  try {
    address = systemd_private;
    return sys::bus::open_direct(ex, address);
  } catch (const sys::bus_error& e) {
    throw call_error(v1::ERROR_CODE_UNAVAILABLE,
                     "cannot reach systemd: " + why + "; " + e.what());
  }
}

sys::bus open_plan_bus(const asio::any_io_executor& ex, const plan& p) {
  return p.bus_address.empty() ? sys::bus::open_system(ex) : sys::bus::open_direct(ex, p.bus_address);
}

// Asks logind whether `action` is possible: "yes", "no", "challenge", "na".
awaitable<std::string> logind_can(sys::bus& bus, v1::PowerAction action, const action_options& opts) {
  auto m = bus.new_method_call(logind_dest, logind_path, logind_iface, ("Can" + logind_member(action)).c_str());
  auto reply = co_await bus.call(std::move(m), opts.bus_timeout);
  co_return reply.read_string();
}

void check_logind_answer(v1::PowerAction action, const std::string& can) {
  const std::string what = action_name(action);
  if (can == "yes") return;
  if (can == "na")
    throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION,
                     what + " is not supported by this guest (logind Can" + logind_member(action) +
                         ": na" +
                         (action == v1::POWER_ACTION_SUSPEND
                              ? ": the kernel or the virtual hardware offers no sleep state, or it is "
                                "disabled in systemd-sleep.conf)"
                          : is_sleep(action)
                              ? ": the kernel offers no hibernation, no swap can hold the image, or it is "
                                "disabled in systemd-sleep.conf)"
                              : ")"));
  if (can == "challenge")
    throw call_error(v1::ERROR_CODE_PERMISSION_DENIED,
                     what + " needs interactive authorization (logind Can" + logind_member(action) +
                         ": challenge); the agent asks non-interactively: run it as root or allow it "
                         "in polkit");
  throw call_error(v1::ERROR_CODE_PERMISSION_DENIED,
                   what + " is not allowed (logind Can" + logind_member(action) + ": " + can + ")");
}

awaitable<plan> prepare_systemd(v1::PowerAction action, const action_options& opts, bool try_logind) {
  auto ex = co_await asio::this_coro::executor;
  plan p;  // (not braced: GCC 12 and aggregates with strings in coroutines)
  p.action = action;
  auto bus = open_systemd_bus(ex, p.bus_address);
  if (try_logind && p.bus_address.empty()) {
    std::optional<std::string> can;
    std::string missing;
    try {
      can = co_await logind_can(bus, action, opts);
    } catch (const sys::bus_error& e) {
      if (!service_missing(e))
        throw call_error(v1::ERROR_CODE_UNAVAILABLE, "cannot ask logind about " +
                                                         std::string(action_name(action)) + ": " + e.what());
      missing = e.what();
    }
    if (can) {
      check_logind_answer(action, *can);
      p.method = v1::POWER_METHOD_LOGIND;
      co_return p;
    }
    log::info("power: logind is not available ({}); using the systemd manager", missing);
  } else if (try_logind) {
    log::info("power: no D-Bus system bus; using the systemd manager on {}", p.bus_address);
  }
  if (is_sleep(action) && !kernel_can_sleep(action))
    throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION,
                     std::string(action_name(action)) + " is not supported by this guest: /sys/power/" +
                         (action == v1::POWER_ACTION_SUSPEND ? "state offers no sleep state" : "state offers no disk"));
  // A cheap call that proves the manager answers on this bus.
  auto m = bus.new_method_call(systemd_dest, systemd_path, "org.freedesktop.DBus.Peer", "Ping");
  try {
    co_await bus.call(std::move(m), opts.bus_timeout);
  } catch (const sys::bus_error& e) {
    throw call_error(v1::ERROR_CODE_UNAVAILABLE, std::string("the systemd manager does not answer: ") + e.what());
  }
  p.method = v1::POWER_METHOD_SYSTEMD;
  co_return p;
}

plan prepare_kernel(v1::PowerAction action, bool simulate) {
  if (is_sleep(action))
    throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION,
                     std::string(action_name(action)) +
                         " is not supported without systemd: this guest's init is not systemd, and "
                         "the agent's fallback (reboot(2)) has no sleep states");
  if (!simulate && !has_cap_sys_boot())
    throw call_error(v1::ERROR_CODE_PERMISSION_DENIED,
                     std::string("cannot ") + action_name(action) +
                         ": systemd is not running and the agent lacks CAP_SYS_BOOT for reboot(2)");
  return plan{.action = action, .method = v1::POWER_METHOD_KERNEL};
}

int reboot_command(v1::PowerAction a) {
  switch (a) {
    case v1::POWER_ACTION_REBOOT: return RB_AUTOBOOT;
    case v1::POWER_ACTION_HALT: return RB_HALT_SYSTEM;
    default: return RB_POWER_OFF;
  }
}

// sync(2) and reboot(2) on the worker thread: sync may take long (and block
// on a hung NFS server). On success the machine goes down mid-wait.
awaitable<void> kernel_execute(const plan& p, blocking_worker& worker) {
  auto ex = co_await asio::this_coro::executor;
  struct state {
    explicit state(const asio::any_io_executor& e) : finished(e) {}
    async_event finished;
    bool done = false;
    int err = 0;
  };
  auto st = std::make_shared<state>(ex);
  auto err = std::make_shared<int>(0);
  const int cmd = reboot_command(p.action);
  const bool started = worker.try_run(
      [cmd, err] {
        ::sync();
        if (::reboot(cmd) != 0) *err = errno;
      },
      [ex, st, err] {
        asio::post(ex, [st, err] {
          st->done = true;
          st->err = *err;
          st->finished.notify_all();
        });
      });
  if (!started) throw std::runtime_error("the agent's worker thread is busy");
  while (!st->done) co_await st->finished.wait();
  throw std::runtime_error(std::string("reboot(2) failed: ") + std::strerror(st->err));
}

}  // namespace

std::optional<method_choice> parse_method_choice(const std::string& s) {
  if (s == "auto") return method_choice::automatic;
  if (s == "logind") return method_choice::logind;
  if (s == "systemd") return method_choice::systemd;
  if (s == "kernel") return method_choice::kernel;
  return std::nullopt;
}

const char* action_name(v1::PowerAction a) {
  switch (a) {
    case v1::POWER_ACTION_POWEROFF: return "poweroff";
    case v1::POWER_ACTION_REBOOT: return "reboot";
    case v1::POWER_ACTION_HALT: return "halt";
    case v1::POWER_ACTION_SUSPEND: return "suspend";
    case v1::POWER_ACTION_HIBERNATE: return "hibernate";
    case v1::POWER_ACTION_HYBRID_SLEEP: return "hybrid-sleep";
    default: return "unspecified";
  }
}

bool is_sleep(v1::PowerAction a) {
  return a == v1::POWER_ACTION_SUSPEND || a == v1::POWER_ACTION_HIBERNATE || a == v1::POWER_ACTION_HYBRID_SLEEP;
}

const char* method_name(v1::PowerMethod m) {
  switch (m) {
    case v1::POWER_METHOD_LOGIND: return "logind";
    case v1::POWER_METHOD_SYSTEMD: return "systemd";
    case v1::POWER_METHOD_KERNEL: return "kernel";
    default: return "unspecified";
  }
}

awaitable<plan> prepare(v1::PowerAction action, const action_options& opts, bool simulate) {
  auto choice = opts.choice;
  if (choice == method_choice::automatic)
    choice = ::sd_booted() > 0 ? method_choice::logind : method_choice::kernel;
  switch (choice) {
    case method_choice::kernel: co_return prepare_kernel(action, simulate);
    case method_choice::systemd: co_return co_await prepare_systemd(action, opts, false);
    default: co_return co_await prepare_systemd(action, opts, true);
  }
}

awaitable<void> execute(const plan& p, const action_options& opts, blocking_worker& worker) {
  auto ex = co_await asio::this_coro::executor;
  if (p.method == v1::POWER_METHOD_KERNEL) {
    co_await kernel_execute(p, worker);
    co_return;
  }
  std::string failure;
  try {
    auto bus = open_plan_bus(ex, p);
    if (p.method == v1::POWER_METHOD_LOGIND) {
      auto m = bus.new_method_call(logind_dest, logind_path, logind_iface, logind_member(p.action).c_str());
      m.append("b", 0);  // interactive = false: never wait for a password prompt
      co_await bus.call(std::move(m), opts.bus_timeout);
    } else {
      auto m = bus.new_method_call(systemd_dest, systemd_path, systemd_iface, "StartUnit");
      m.append("ss", target_unit(p.action), "replace-irreversibly");
      auto reply = co_await bus.call(std::move(m), opts.bus_timeout);
      log::info("power: systemd queued {} as job {}", target_unit(p.action), reply.read_object_path());
    }
    co_return;
  } catch (const sys::bus_error& e) {
    failure = e.what();
  }
  throw std::runtime_error(std::string(p.method == v1::POWER_METHOD_LOGIND ? "logind" : "systemd") +
                           " refused to " + action_name(p.action) + ": " + failure);
}

}  // namespace tether::agent::power
