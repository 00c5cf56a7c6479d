// The guests.d files of shutdown_all (power::load_guests).
#include "tether/power.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace tether::power {

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

// --- guests.d ----------------------------------------------------------------

std::optional<guest_config> parse_guest(const std::string& text, const std::string& file,
                                        std::vector<std::string>& errors) {
  guest_config g;
  g.file = file;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  bool ok = true;
  auto bad = [&](const std::string& what) {
    errors.push_back(file + ":" + std::to_string(n) + ": " + what);
    ok = false;
  };
  while (std::getline(in, line)) {
    ++n;
    // Comments: whole lines, or from a '#' after a blank to the end.
    for (std::size_t h = line.find('#'); h != std::string::npos; h = line.find('#', h + 1))
      if (h == 0 || line[h - 1] == ' ' || line[h - 1] == '\t') {
        line.resize(h);
        break;
      }
    line = trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      bad("expected KEY = VALUE, got '" + line + "'");
      continue;
    }
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (value.empty()) {
      bad("'" + key + "' has no value");
      continue;
    }
    if (key == "name") g.name = value;
    else if (key == "socket") g.socket = value;
    else if (key == "qmp") g.qmp = value;
    else bad("unknown key '" + key + "' (known: name, socket, qmp)");
  }
  n = 0;
  if (g.socket.empty()) {
    errors.push_back(file + ": no 'socket = PATH' (the guest's tether chardev socket)");
    ok = false;
  }
  for (const auto* p : {&g.socket, &g.qmp})
    if (!p->empty() && (*p)[0] != '/') {
      errors.push_back(file + ": '" + *p + "' is not an absolute path");
      ok = false;
    }
  if (!ok) return std::nullopt;
  if (g.name.empty()) {
    auto base = file.substr(file.find_last_of('/') + 1);
    if (base.ends_with(".conf")) base.resize(base.size() - 5);
    g.name = base;
  }
  return g;
}

guest_list load_guests(const std::string& dir) {
  guest_list out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return out;
    throw error(errc::invalid_argument, "cannot read the guest directory " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name.size() > 5 && name.ends_with(".conf") && name[0] != '.') names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    std::ifstream f(path);
    if (!f) {
      out.errors.push_back(path + ": cannot read: " + std::strerror(errno));
      continue;
    }
    std::ostringstream text;
    text << f.rdbuf();
    // Bounded: a guest file is a few lines.
    if (text.str().size() > 64 * 1024) {
      out.errors.push_back(path + ": larger than 64 KiB; not a guest file");
      continue;
    }
    if (auto g = parse_guest(text.str(), path, out.errors)) out.guests.push_back(std::move(*g));
  }
  for (std::size_t i = 0; i < out.guests.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (out.guests[i].name == out.guests[j].name)
        out.errors.push_back(out.guests[i].file + ": guest name '" + out.guests[i].name + "' also used by " +
                             out.guests[j].file);
  return out;
}

}  // namespace tether::power
