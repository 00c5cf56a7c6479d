// The host's guest list, /etc/tether/guests.d/NAME.conf (format in
// tether/power.hpp and README), on the shared INI reader: no sections, keys
// name, socket and qmp.
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "tether/common/ini.hpp"
#include "tether/power.hpp"

namespace tether::power {
namespace {

// A guest file is a few lines.
constexpr ini::limits guest_file_limits{.max_file_bytes = 64 * 1024, .max_line_bytes = 64 * 1024};

}  // namespace

std::optional<guest_config> parse_guest(const std::string& text, const std::string& file,
                                        std::vector<std::string>& errors) {
  guest_config g;
  g.file = file;
  bool ok = true;
  auto bad = [&](std::size_t n, const std::string& what) {
    errors.push_back(file + ":" + std::to_string(n) + ": " + what);
    ok = false;
  };
  for (const auto& l : ini::parse(text, guest_file_limits)) {
    using kind = ini::line::kind;
    // A guest file has no sections: a header is just not KEY = VALUE.
    const bool not_a_pair = l.what == kind::section || (l.what == kind::error && (l.error == ini::line_error::not_a_pair ||
                                                                               l.error == ini::line_error::unclosed_section));
    if (not_a_pair) {
      bad(l.number, "expected KEY = VALUE, got '" + l.text + "'");
      continue;
    }
    if (l.what == kind::error) {
      bad(l.number, l.message);
      continue;
    }
    if (l.value.empty()) {
      bad(l.number, "'" + l.key + "' has no value");
      continue;
    }
    if (l.key == "name") g.name = l.value;
    else if (l.key == "socket") g.socket = l.value;
    else if (l.key == "qmp") g.qmp = l.value;
    else bad(l.number, "unknown key '" + l.key + "' (known: name, socket, qmp)");
  }
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
    std::string text;
    try {
      text = ini::read_file(path, guest_file_limits.max_file_bytes);
    } catch (const ini::file_error& e) {
      using reason = ini::file_error::reason;
      out.errors.push_back(path + ": " +
                           (e.why() == reason::too_large     ? std::string("larger than 64 KiB; not a guest file")
                            : e.why() == reason::not_regular ? std::string(e.what())
                                                             : "cannot read: " + std::string(std::strerror(e.error_number()))));
      continue;
    }
    if (auto g = parse_guest(text, path, out.errors)) out.guests.push_back(std::move(*g));
  }
  for (std::size_t i = 0; i < out.guests.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (out.guests[i].name == out.guests[j].name)
        out.errors.push_back(out.guests[i].file + ": guest name '" + out.guests[i].name + "' also used by " +
                             out.guests[j].file);
  return out;
}

}  // namespace tether::power
