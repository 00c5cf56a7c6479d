// The agent config file (/etc/tether/agent.conf), in the INI dialect of
// tether/common/ini.hpp: `key = value` lines under `[section]` headers, `#`
// comments. Every key and section is one of settings() (config/settings.hpp):
// an unknown one, a bad value or a key set twice is an error naming the file
// and line, so a typo never passes silently. config/agent.conf documents
// every key.
#pragma once

#include <string>
#include <string_view>

#include "agent.hpp"

namespace tether::agent {

// SYSCONFDIR/tether/agent.conf of the build (/etc/tether/agent.conf when
// installed under /usr), where the package puts the default file.
std::string default_config_path();

// A config file error. what() is "PATH:LINE: what is wrong" (or "PATH: ..."
// for errors about the whole file). A usage_error: the agent exits with 2,
// which the unit does not restart.
class config_error : public usage_error {
 public:
  using usage_error::usage_error;
};

// Applies the settings in `text` to `into`; `path` is used in messages and
// becomes into.config.source. Throws config_error.
void apply_config(std::string_view text, const std::string& path, agent_options& into);

// Reads `path` (a regular file of at most 1 MiB, or /dev/null for an empty
// config) and applies it. If `required` is false and the file does not
// exist, `into` is left unchanged and false is returned. Throws config_error
// for any other problem (unreadable, too large, invalid contents).
bool load_config_file(const std::string& path, bool required, agent_options& into);

}  // namespace tether::agent
