// Which guest paths file calls may touch (agent.conf `files.roots`).
#pragma once

#include <string>
#include <vector>

namespace tether::agent::files {

class path_policy {
 public:
  // Empty: every absolute path is allowed. Roots are canonicalized once.
  explicit path_policy(std::vector<std::string> roots = {});

  // Checks a request path: absolute, no NUL; with roots, inside one of them
  // after resolving symlinks (the final component only when follow_final,
  // so a symlink itself can be removed or renamed). Throws call_error
  // (INVALID_ARGUMENT, DISABLED_BY_CONFIG).
  void check(const std::string& path, bool follow_final = false) const;

  bool restricted() const noexcept { return !roots_.empty(); }

 private:
  std::vector<std::string> roots_;
};

// Parent directory and final name of an absolute path ("/a/b/" -> "/a", "b").
std::pair<std::string, std::string> split_path(const std::string& path);

}  // namespace tether::agent::files
