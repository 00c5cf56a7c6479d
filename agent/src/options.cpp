#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "agent.hpp"
#include "config/config_file.hpp"
#include "config/settings.hpp"

namespace tether::agent {

std::string agent_version() { return TETHER_VERSION; }

std::string usage_text() {
  return R"(Usage: tether-agent [OPTIONS]

Serves tether RPCs (ping, info, ...) to the host over a virtio-serial port.
Normally started by systemd when the port org.tether.agent.0 appears.

Options:
)" + options_help() +
         R"(
The config file chooses the services served, the directories file calls
may touch, whether and as whom exec runs commands, and the limits above
(see the comments in the default file). A flag checks its value as the
config key does.

The agent waits without using CPU while no host is connected, survives the
port being unplugged and plugged back, and starts a fresh session (cancelling
the old one's work) on every new host connection.
)";
}

namespace {

struct flag_value {
  const setting* s;
  std::string value;
};

// argv as (setting, value) pairs: "--flag VALUE" or "--flag=VALUE"; flags
// without a value name in settings() take none.
std::vector<flag_value> tokenize(int argc, char** argv) {
  std::vector<flag_value> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    const auto eq = a.find('=');
    const setting* s = find_flag(a.substr(0, eq));
    if (!s) throw usage_error("unknown option '" + a + "'");
    if (s->value_name.empty()) {
      if (eq != std::string::npos) throw usage_error(std::string(s->flag) + " takes no value");
      out.push_back({s, ""});
    } else if (eq != std::string::npos) {
      out.push_back({s, a.substr(eq + 1)});
    } else {
      if (i + 1 >= argc) throw usage_error(a + " needs a value");
      out.push_back({s, argv[++i]});
    }
  }
  return out;
}

// Applies the flags over the config file's values: a single value per
// occurrence (the last wins); a list flag once, with all its occurrences,
// replacing the file's list.
void apply_flags(const std::vector<flag_value>& flags, agent_options& o) {
  std::map<const setting*, std::vector<std::string>> lists;
  std::vector<const setting*> list_order;
  for (const auto& [s, value] : flags) {
    if (!s->apply) continue;  // --config, --check-config: handled by parse_args
    if (s->list) {
      auto [it, fresh] = lists.try_emplace(s);
      if (fresh) list_order.push_back(s);
      it->second.push_back(value);
      continue;
    }
    try {
      if (s->value_name.empty())
        s->apply(o, {});
      else
        s->apply(o, std::span(&value, 1));
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string(s->flag) + " " + e.what());
    }
  }
  for (const auto* s : list_order) {
    try {
      s->apply(o, lists[s]);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string(s->flag) + " " + e.what());
    }
  }
}

}  // namespace

void resolve_qga(qga::qga_options& q) {
  // Where the flags or the file say, else its standard port when enabled.
  if (!q.ports.empty() || !q.listen_unix.empty()) {
    q.enabled = true;
    return;
  }
  q.enabled = q.mode == qga::serve_mode::on;
  if (q.mode == qga::serve_mode::unless_qemu_ga) {
    const auto it = std::find_if(q.qemu_ga_binaries.begin(), q.qemu_ga_binaries.end(),
                                 [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; });
    q.qemu_ga_found = it == q.qemu_ga_binaries.end() ? "" : *it;
    q.enabled = q.qemu_ga_found.empty();
  }
  if (q.enabled) q.ports.emplace_back(qga::default_port);
}

parse_result parse_args(int argc, char** argv) {
  parse_result r;
  auto& o = r.options;
  const auto flags = tokenize(argc, argv);
  std::optional<std::string> config_path;
  bool check_only = false;
  for (const auto& [s, value] : flags) {
    if (s->flag == "--help") {
      std::cout << usage_text();
      r.exit_now = true;
      return r;
    }
    if (s->flag == "--version") {
      std::cout << "tether-agent " << agent_version() << "\n";
      r.exit_now = true;
      return r;
    }
    if (s->flag == "--config") config_path = value;
    if (s->flag == "--check-config") check_only = true;
  }

  // Defaults, then the config file, then the flags.
  const auto path = config_path.value_or(default_config_path());
  const bool loaded = load_config_file(path, config_path.has_value(), o);
  apply_flags(flags, o);
  if (o.ports.empty() && o.listen_unix.empty()) o.ports.emplace_back(default_port);
  resolve_qga(o.qga);
  if (check_only) {
    std::cout << path << (loaded ? ": ok\n" : ": not present (defaults apply)\n");
    r.exit_now = true;
  }
  return r;
}

}  // namespace tether::agent
