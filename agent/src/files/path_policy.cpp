#include "files/path_policy.hpp"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <memory>

#include "files/beneath.hpp"
#include "files/call_errors.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::files {
namespace {

constexpr int dir_flags = O_PATH | O_DIRECTORY | O_CLOEXEC;

std::string real(const std::string& p) {
  std::unique_ptr<char, decltype(&::free)> r(::realpath(p.c_str(), nullptr), &::free);
  return r ? std::string(r.get()) : std::string();
}

// `path` lies under `root` by its text: the rest of it, or nullopt.
std::optional<std::string> rest_under(const std::string& path, const std::string& root) {
  if (root.empty() || path.compare(0, root.size(), root) != 0) return std::nullopt;
  if (path.size() > root.size() && path[root.size()] != '/') return std::nullopt;
  std::string rest = path.substr(root.size());
  // Leading slashes would make the rest absolute (refused beneath a root);
  // trailing ones name the same entry.
  rest.erase(0, rest.find_first_not_of('/') == std::string::npos ? rest.size() : rest.find_first_not_of('/'));
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  return rest;
}

void check_syntax(const std::string& path) {
  if (path.empty() || path.front() != '/')
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "path '" + path + "' is not absolute");
  if (path.find('\0') != std::string::npos)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "path contains a NUL byte");
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
    if (r == "/") {  // everything is inside
      roots_.clear();
      return;
    }
    root& entry = roots_.emplace_back();
    entry.written = r;
    entry.fd.reset(::open(r.c_str(), dir_flags));
    if (entry.fd) entry.resolved = real(r);
  }
}

path_policy::~path_policy() = default;

void path_policy::outside(const std::string& path) const {
  std::string list;
  for (const auto& root : roots_) list += (list.empty() ? "" : ", ") + (root.resolved.empty() ? root.written : root.resolved);
  throw call_error(v1::ERROR_CODE_DISABLED_BY_CONFIG,
                   "path '" + path + "' is outside the directories file calls may touch (" + list +
                       "; agent.conf files.roots)");
}

void path_policy::fail(int err, const std::string& path, const std::string& what) const {
  if (err == EXDEV) outside(path);  // the kernel refused to leave the root
  if (err == ENOSYS) fail_errno(err, what + ": files.roots needs openat2 (Linux 5.6 or later)");
  fail_errno(err, what);
}

std::pair<const path_policy::root*, std::string> path_policy::find_root(const std::string& path,
                                                                          const std::string& what) const {
  const std::lock_guard lock(mutex_);
  for (const auto& r : roots_) {
    auto rest = rest_under(path, r.written);
    if (!rest) rest = rest_under(path, r.resolved);
    if (!rest) continue;
    if (!r.fd) {  // a root created after the agent started
      r.fd.reset(::open(r.written.c_str(), dir_flags));
      if (!r.fd) fail_errno(errno, what + ": files root '" + r.written + "'");
      r.resolved = real(r.written);
    }
    return {&r, std::move(*rest)};
  }
  outside(path);
}

unique_fd path_policy::open(const std::string& path, int flags, const std::string& what, mode_t mode) const {
  check_syntax(path);
  if (roots_.empty()) {
    unique_fd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
    if (!fd) fail_errno(errno, what);
    return fd;
  }
  const auto [root, rest] = find_root(path, what);
  unique_fd fd = open_beneath(root->fd.get(), rest.empty() ? "." : rest.c_str(), flags, mode);
  if (!fd) fail(errno, path, what);
  return fd;
}

place path_policy::locate(const std::string& path, const std::string& what,
                          const std::optional<std::string>& make_parents) const {
  check_syntax(path);
  if (roots_.empty()) {
    auto [dir, name] = split_path(path);
    if (make_parents) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) fail_errno(ec.value(), *make_parents);
    }
    unique_fd fd(::open(dir.c_str(), dir_flags));
    if (!fd) fail_errno(errno, what);
    return {std::move(fd), name.empty() ? "." : name};
  }

  const auto [root, rest] = find_root(path, what);
  const int base = root->fd.get();
  if (rest.empty()) {  // the root itself
    unique_fd fd = open_beneath(base, ".", dir_flags);
    if (!fd) fail(errno, path, what);
    return {std::move(fd), "."};
  }
  const auto slash = rest.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : rest.substr(0, slash);
  const std::string name = slash == std::string::npos ? rest : rest.substr(slash + 1);
  if (name == "." || name == "..")
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "path '" + path + "' must not end in '.' or '..' here");

  unique_fd dir = open_beneath(base, parent.c_str(), dir_flags);
  if (!dir && errno == ENOENT && make_parents) {
    // Component by component: each directory is made in the descriptor of
    // the one before, then opened again from the root, so a swap between
    // two steps is confined like any other lookup.
    unique_fd cur = open_beneath(base, ".", dir_flags);
    std::string prefix;
    for (std::size_t start = 0; cur && start <= parent.size();) {
      const auto end = std::min(parent.find('/', start), parent.size());
      const std::string comp = parent.substr(start, end - start);
      start = end + 1;
      if (comp.empty()) continue;
      prefix += (prefix.empty() ? "" : "/") + comp;
      unique_fd next = open_beneath(base, prefix.c_str(), dir_flags);
      if (!next && errno == ENOENT) {
        if (::mkdirat(cur.get(), comp.c_str(), 0777) != 0 && errno != EEXIST) fail(errno, path, *make_parents);
        next = open_beneath(base, prefix.c_str(), dir_flags);
      }
      if (!next) fail(errno, path, *make_parents);
      cur = std::move(next);
    }
    if (!cur) fail(errno, path, *make_parents);
    dir = std::move(cur);
  }
  if (!dir) fail(errno, path, what);
  return {std::move(dir), name};
}

}  // namespace tether::agent::files
