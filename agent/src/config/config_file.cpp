#include "config/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>

#include "config/settings.hpp"
#include "tether/common/ini.hpp"

namespace tether::agent {
namespace {

constexpr ini::limits config_limits{};  // 1 MiB, lines of 64 KiB

std::string joined(const std::set<std::string>& names, std::string_view before, std::string_view after,
                   std::string_view separator) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : std::string(separator)) + std::string(before) + n + std::string(after);
  return s;
}

std::set<std::string> known_sections() {
  std::set<std::string> out;
  for (const auto& s : settings())
    if (s.has_key()) out.emplace(s.section);
  return out;
}

std::set<std::string> keys_of(std::string_view section) {
  std::set<std::string> out;
  for (const auto& s : settings())
    if (s.has_key() && s.section == section) out.emplace(s.key);
  return out;
}

std::set<std::string> sections_with(std::string_view key) {
  std::set<std::string> out;
  for (const auto& s : settings())
    if (s.has_key() && s.key == key) out.emplace(s.section);
  return out;
}

}  // namespace

std::string default_config_path() { return TETHER_DEFAULT_CONFIG; }

void apply_config(std::string_view text, const std::string& path, agent_options& into) {
  // Applied to a copy, so a bad file changes nothing.
  agent_options o = into;
  o.config.source = path;
  for (const auto& l : ini::parse(text, config_limits)) {
    auto fail = [&](const std::string& what) {
      throw config_error(path + ":" + std::to_string(l.number) + ": " + what);
    };
    switch (l.what) {
      case ini::line::kind::error:
        fail(l.message);
        break;
      case ini::line::kind::section:
        if (!known_sections().contains(l.section))
          fail("unknown section [" + l.section + "] (known: " + joined(known_sections(), "[", "]", ", ") + ")");
        break;
      case ini::line::kind::pair: {
        if (l.section.empty()) {
          const auto where = sections_with(l.key);
          fail("'" + l.key + "' is outside a section; " +
               (where.empty() ? "start with a section header such as [limits]"
                              : "put it under " + joined(where, "[", "]", " or ")));
        }
        const setting* s = find_key(l.section, l.key);
        if (!s)
          fail("unknown key '" + l.key + "' in [" + l.section + "] (known: " + joined(keys_of(l.section), "", "", ", ") +
               ")");
        try {
          if (s->list) {
            const auto items = ini::split_list(l.value);
            s->apply(o, items);
          } else {
            s->apply(o, std::span(&l.value, 1));
          }
        } catch (const std::invalid_argument& e) {
          fail(l.dotted() + " " + e.what());
        }
        break;
      }
    }
  }
  into = std::move(o);
}

bool load_config_file(const std::string& path, bool required, agent_options& into) {
  std::string text;
  try {
    text = ini::read_file(path, config_limits.max_file_bytes);
  } catch (const ini::file_error& e) {
    if (e.why() == ini::file_error::reason::cannot_open && e.error_number() == ENOENT && !required) return false;
    throw config_error(path + ": " + e.what());
  }
  apply_config(text, path, into);
  return true;
}

}  // namespace tether::agent
