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

struct qga_options {
  // Serve QGA on default_port when no --qga-port / --qga-listen-unix names
  // another place. Off by default while guests still run qemu-ga on that
  // port (the fast test guest does; the package does not yet replace it).
  bool enabled = false;
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
