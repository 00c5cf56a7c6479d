// Where the broker (tetherd) serves guests: one socket per guest, NAME.sock
// in its runtime directory. A client connects there exactly as to a QEMU
// chardev socket; tetherctl --guest NAME and power::shutdown_all use it.
#pragma once

#include <string>

namespace tether {

// $TETHER_RUNTIME_DIR if set (and not empty), else /run/tether.
std::string broker_runtime_dir();
// DIR/NAME.sock.
std::string broker_socket(const std::string& guest_name, const std::string& dir = broker_runtime_dir());

}  // namespace tether
