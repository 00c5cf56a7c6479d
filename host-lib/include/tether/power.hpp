// Power a guest off, reboot, halt or suspend it through its agent, and wait
// until it is down (or, for a reboot, back); shut many guests down at once
// when the host halts.
//
//   auto r = co_await tether::power::request(guest, tether::power::action::reboot,
//                                            {.wait = true, .wait_timeout = 300s});
//   // r.reply.method: how the guest did it (logind, systemd, kernel)
//   // r.boot_id: the boot the agent serves in now
//
//   auto guests = tether::power::load_guests("/etc/tether/guests.d");
//   auto results = co_await tether::power::shutdown_all(ex, guests.guests, {.deadline = 120s});
//
// The agent answers a request before it acts (and, for a host halt, before
// its hooks run), so request() without wait returns as soon as the guest has
// accepted.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether {
class blocking_client;
}  // namespace tether

namespace tether::power {

enum class action { poweroff, reboot, halt, suspend };

// "poweroff", "reboot", "halt", "suspend".
const char* to_string(action a) noexcept;
std::optional<action> parse_action(std::string_view s) noexcept;

// How the guest carries an action out.
enum class method {
  unspecified,
  logind,   // systemd-logind (the normal way, inhibitors honoured)
  systemd,  // the systemd manager directly
  kernel,   // no systemd: sync and reboot(2)
};
// "logind", "systemd", "kernel" ("unspecified").
const char* to_string(method m) noexcept;

// The agent's answer to a request.
struct reply {
  power::method method = method::unspecified;
  // host_halt: the hooks that will run, in order (file names).
  std::vector<std::string> hooks;
  // Files in the host-halt directory that will not run, with the reason.
  std::vector<std::string> skipped;
  // The boot the request was accepted in: after a reboot the agent reports
  // another one (guest_info::boot_id).
  std::string boot_id;
  // The agent runs with --power-simulate: it stops instead of the action.
  bool simulated = false;
};

// What the agent reports on the way down (request() with wait).
struct event {
  enum class kind {
    unspecified,
    watching,        // a watch started (not passed to on_event)
    accepted,        // a request was accepted
    hook_started,    // a host-halt hook started: hook
    hook_finished,   // ... and ended: exit_code / signal / timed_out, run_time_ms, message if it did not run
    action_started,  // the action is under way: method
    action_failed,   // the action could not be started: message
  };
  kind what = kind::unspecified;
  std::optional<power::action> action;  // the action concerned, if known
  power::method method = method::unspecified;
  std::string hook;
  int exit_code = 0;
  int signal = 0;
  bool timed_out = false;
  std::uint64_t run_time_ms = 0;
  std::string message;
  bool host_halt = false;
};

// Longest hook time limit the agent accepts.
inline constexpr milliseconds max_hook_timeout{600'000};

struct options {
  // The host is shutting down: the guest runs its host-halt hooks
  // (/etc/tether/host-halt.d) before the action.
  bool host_halt = false;
  // Time limit of each hook. 0: the agent's default (30 s).
  milliseconds hook_timeout{0};
  // Wait until the guest is down (poweroff, halt, suspend) or back (reboot);
  // see request().
  bool wait = false;
  // With wait: how long, from the request on.
  milliseconds wait_timeout{300'000};
  // With wait: called with the agent's answer as soon as it arrives, before
  // the wait.
  std::function<void(const power::reply&)> on_accepted;
  // With wait: each event the agent reports on the way down (hooks started
  // and finished, action started).
  std::function<void(const power::event&)> on_event;
};

struct outcome {
  power::reply reply;  // the agent's answer
  // With wait: the guest went down (for reboot: went down and came back).
  bool done = false;
  // With wait: from sending the request until down (or back).
  milliseconds elapsed{0};
  // reboot with wait: the boot id the agent reports after the reboot.
  std::string boot_id;
};

// Asks the guest to carry out `a` and returns its answer. Throws
// tether::error: invalid_argument (hook_timeout out of range), a remote error
// (FAILED_PRECONDITION when the guest cannot do it, e.g. suspend without a
// sleep state or another action in progress; PERMISSION_DENIED; UNAVAILABLE),
// or connectivity errors.
//
// With wait, it then follows the guest (a power.Watch call opened before the
// request, so nothing is missed):
//   poweroff  until QEMU closes the agent's socket (the connection ends and
//             the socket no longer accepts connections);
//   reboot    until the agent serves again in a new boot (boot id differs);
//   halt,     until, after the agent started the action, it stops answering
//   suspend   (a halted guest's QEMU keeps the socket open; a suspended one
//             answers nothing until woken up).
// A failed action (the agent reports it could not start it) throws a remote
// UNAVAILABLE error with the agent's reason; running out of wait_timeout
// throws errc::timeout. `call` is the deadline of the request call (and of
// reaching the agent); wait_timeout bounds the wait.
boost::asio::awaitable<outcome> request(client& guest, action a, options opts = {}, call_options call = {});

// --- Many guests at host shutdown -------------------------------------------

// One guest of the host, from a file DIR/NAME.conf ('#' after a blank or at
// the start of a line begins a comment):
//   # comment
//   name = web1                              (optional; default: NAME)
//   socket = /run/vms/web1/tether.sock       (required: QEMU chardev socket of
//                                             the org.tether.agent.0 port)
//   qmp = /run/vms/web1/qmp.sock             (optional: QEMU's QMP socket, for
//                                             the ACPI fallback and to see QEMU
//                                             shut down)
struct guest_config {
  std::string name;
  std::string socket;
  std::string qmp;
  std::string file;  // where it was read from
  // A libvirt domain (libvirt_guests()): instead of QMP, libvirt tells when
  // it is shut off and its own shutdown (virDomainShutdown) is the fallback.
  std::string domain;
  std::string libvirt_uri;  // empty: libvirt's default URI
};

struct guest_list {
  std::vector<guest_config> guests;  // in file name order
  // Files that could not be used, as "FILE:LINE: what is wrong".
  std::vector<std::string> errors;
};

// Reads DIR/*.conf (other names are ignored). A missing directory has no
// guests; an unreadable one throws tether::error(invalid_argument).
guest_list load_guests(const std::string& dir);
// Parses one file's text (for tests and tools).
std::optional<guest_config> parse_guest(const std::string& text, const std::string& file,
                                        std::vector<std::string>& errors);

struct guest_result {
  std::string name;
  enum class how {
    agent,        // its agent accepted the host-halt power-off
    acpi,         // ACPI power button through QMP (agent did not accept)
    libvirt,      // libvirt's shutdown, virDomainShutdown (agent did not accept)
    not_running,  // neither socket accepts connections: already off
    none,         // nothing could be asked (no agent, no QMP)
  };
  how via = how::none;
  bool down = false;
  milliseconds elapsed{0};
  // One line for a log: what was done and why ("agent: poweroff via logind,
  // 2 hooks; down after 14.2 s", "agent did not answer (...); ACPI ...").
  std::string detail;
};

struct shutdown_options {
  // All guests must be down by then.
  milliseconds deadline{120'000};
  // A guest whose agent has not accepted the host-halt power-off within this
  // time gets an ACPI power button press through QMP instead.
  milliseconds agent_timeout{10'000};
  // Passed on to each guest's hooks (0: the agent's default).
  milliseconds hook_timeout{0};
  // Called as each guest's result is known.
  std::function<void(const guest_result&)> on_result;
};

// Every running libvirt domain at `uri` (empty: libvirt's default) with a
// tether channel (tether/libvirt.hpp), as guests for shutdown_all().
boost::asio::awaitable<std::vector<guest_config>> libvirt_guests(std::string uri = {});

// Powers every guest off in parallel (on `ex`, one client per guest) and
// waits until each is down or the deadline passed. Never throws for a
// guest's failure: see each result's `down`.
boost::asio::awaitable<std::vector<guest_result>> shutdown_all(boost::asio::any_io_executor ex,
                                                               std::vector<guest_config> guests,
                                                               shutdown_options opts = {});

// Blocking forms (blocking_client.hpp): request() on a blocking_client;
// shutdown_all() on an io_context of its own.
outcome request(blocking_client& guest, action a, options opts = {}, call_options call = {});
std::vector<guest_result> shutdown_all(std::vector<guest_config> guests, shutdown_options opts = {});

}  // namespace tether::power
