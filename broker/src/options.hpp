// tetherd's command line.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "limits.hpp"
#include "listen_socket.hpp"
#include "log.hpp"

namespace tether::broker {

struct options {
  std::vector<std::pair<std::string, std::string>> guests;  // NAME, chardev socket
  std::string guests_dir = "/etc/tether/guests.d";          // empty: none
  socket_settings sockets;
  limits lim;
  log::level log_level = log::level::info;
};

// Parses argv; throws std::invalid_argument for bad values. Returns nullopt
// after printing --help or --version (exit 0) or a usage error (*exit_code
// set to 2).
std::optional<options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace tether::broker
