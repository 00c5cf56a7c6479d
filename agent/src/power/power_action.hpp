// Carrying out power actions: which way this guest offers (logind, the
// systemd manager, or the kernel when systemd is not PID 1), whether it can
// do the action at all, and doing it. The service checks (prepare) before it
// answers the host and acts (execute) after.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "sys/blocking_worker.hpp"
#include "tether/agent/service.hpp"
#include "tether/v1/power.pb.h"

namespace tether::agent::power {

// How the agent picks the method: auto (systemd when it is PID 1, else the
// kernel) or one forced by --power-method.
enum class method_choice { automatic, logind, systemd, kernel };

// "auto", "logind", "systemd", "kernel".
std::optional<method_choice> parse_method_choice(const std::string& s);

struct action_options {
  method_choice choice = method_choice::automatic;
  // Time limit of each D-Bus call.
  std::chrono::milliseconds bus_timeout{10'000};
};

// The outcome of prepare(): how execute() will carry the action out.
struct plan {
  v1::PowerAction action = v1::POWER_ACTION_UNSPECIFIED;
  v1::PowerMethod method = v1::POWER_METHOD_UNSPECIFIED;
  // systemd: the D-Bus address; empty for the system bus.
  std::string bus_address;
};

const char* action_name(v1::PowerAction a);  // "poweroff", ...
// Suspend, hibernate, hybrid sleep: the guest comes back.
bool is_sleep(v1::PowerAction a);
const char* method_name(v1::PowerMethod m);  // "logind", ...

// Checks that `action` can be carried out here and how. Throws call_error:
// FAILED_PRECONDITION (not supported, e.g. suspend without a sleep state or
// without systemd), PERMISSION_DENIED (logind says no; no CAP_SYS_BOOT),
// UNAVAILABLE (neither the system bus nor systemd's private socket answers).
// `simulate` skips the permission checks that only matter for the real thing.
awaitable<plan> prepare(v1::PowerAction action, const action_options& opts, bool simulate);

// Asks logind / systemd to start the action, or (kernel) syncs and reboots
// on `worker` (sync(2) may block for long). Returns once the action started
// (for the kernel method it never returns on success). Throws
// std::runtime_error with the reason when it could not be started.
awaitable<void> execute(const plan& p, const action_options& opts, blocking_worker& worker);

}  // namespace tether::agent::power
