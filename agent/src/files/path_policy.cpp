#include "files/path_policy.hpp"

#include <limits.h>
#include <stdlib.h>

#include <memory>

#include "tether/agent/service.hpp"

namespace tether::agent::files {
namespace {

std::string real(const std::string& p) {
  std::unique_ptr<char, decltype(&::free)> r(::realpath(p.c_str(), nullptr), &::free);
  return r ? std::string(r.get()) : std::string();
}

bool inside(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

}  // namespace

std::pair<std::string, std::string> split_path(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

path_policy::path_policy(std::vector<std::string> roots) {
  for (auto& r : roots) {
    auto c = real(r);
    roots_.push_back(c.empty() ? r : c);  // a root that does not exist yet stays as written
  }
}

void path_policy::check(const std::string& path, bool follow_final) const {
  if (path.empty() || path.front() != '/')
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "path '" + path + "' is not absolute");
  if (path.find('\0') != std::string::npos)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "path contains a NUL byte");
  if (roots_.empty()) return;

  // Resolve the deepest existing ancestor; what does not exist yet cannot
  // be a symlink, but ".." in it could still climb out.
  std::string resolved;
  if (follow_final) resolved = real(path);
  if (resolved.empty()) {
    std::string rest;
    std::string cur = path;
    for (;;) {
      auto [parent, name] = split_path(cur);
      if (name == ".." || name == ".")
        throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                         "path '" + path + "' must not contain '.' or '..' components here");
      rest = rest.empty() ? name : name + "/" + rest;
      auto r = real(parent);
      if (!r.empty()) {
        resolved = (r == "/" ? "" : r) + "/" + rest;
        break;
      }
      if (parent == "/") {
        resolved = "/" + rest;
        break;
      }
      cur = parent;
    }
  }
  for (const auto& root : roots_)
    if (inside(resolved, root)) return;
  std::string list;
  for (const auto& root : roots_) list += (list.empty() ? "" : ", ") + root;
  throw call_error(v1::ERROR_CODE_DISABLED_BY_CONFIG,
                   "path '" + path + "' is outside the directories file calls may touch (" + list +
                       "; agent.conf files.roots)");
}

}  // namespace tether::agent::files
