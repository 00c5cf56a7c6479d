// Settings of the QGA front end ([qga] in agent.conf, --qga-* flags; each
// described once in config/settings.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tether::agent::qga {

inline constexpr const char* default_port = "org.qemu.guest_agent.0";

// [qga] enabled: whether QGA is served on default_port. A virtio port has one
// reader, so tether-agent and qemu-ga must not both want it: `auto` (the
// default) serves it only where qemu-ga is not installed, and a guest that
// has both keeps qemu-ga until qemu-guest-agent is removed (the package's
// trigger then restarts the agent, which takes the port over).
enum class serve_mode { off, on, unless_qemu_ga };

struct qga_options {
  serve_mode mode = serve_mode::unless_qemu_ga;
  // Where qemu-ga is installed (Debian, Fedora): `auto` looks for these.
  std::vector<std::string> qemu_ga_binaries{"/usr/sbin/qemu-ga", "/usr/bin/qemu-ga"};
  // Decided at start-up (resolve_qga): serve QGA on `ports` and
  // `listen_unix`; with neither given, on default_port when `mode` says so.
  bool enabled = false;
  std::string qemu_ga_found;  // the binary that made `auto` leave the port
  std::vector<std::string> ports;        // virtio port names or paths
  std::vector<std::string> listen_unix;  // unix socket paths (tests)
  // Like qemu-ga's --allow-rpcs / --block-rpcs: commands outside `allow`
  // (when set) or inside `block` answer "Command X has been disabled".
  std::optional<std::set<std::string>> allow;
  std::set<std::string> block;
  // Run with "freeze" before a freeze and "thaw" after a thaw, when it
  // exists (qemu-ga's -F); empty: never.
  std::string fsfreeze_hook = "/etc/qemu/fsfreeze-hook";
  // A freeze the host does not end is ended by the agent after this long
  // (qemu-ga leaves the guest frozen forever).
  std::chrono::milliseconds freeze_limit{10 * 60 * 1000};
  // ... and after this long without a host connected (libvirt keeps its
  // agent connection open while it manages the guest).
  std::chrono::milliseconds freeze_host_gone_limit{60 * 1000};
};

}  // namespace tether::agent::qga
