#include "tether/runtime_dir.hpp"

#include <cstdlib>

namespace tether {

std::string broker_runtime_dir() {
  const char* env = std::getenv("TETHER_RUNTIME_DIR");
  return env && *env ? env : "/run/tether";
}

std::string broker_socket(const std::string& guest_name, const std::string& dir) {
  return dir + "/" + guest_name + ".sock";
}

}  // namespace tether
