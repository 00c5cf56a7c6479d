// agent.conf (agent/src/config/config_file.cpp, on the INI reader and the
// settings table): any text either applies or throws config_error, which
// names the file.
#include <cstdint>
#include <cstdlib>

#include "config/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tether::agent::agent_options options;
  try {
    tether::agent::apply_config(text, "/etc/tether/agent.conf", options);
    if (options.config.source != "/etc/tether/agent.conf") std::abort();
  } catch (const tether::agent::config_error& e) {
    if (std::string_view(e.what()).find("/etc/tether/agent.conf") != 0) std::abort();
  }
  return 0;
}
