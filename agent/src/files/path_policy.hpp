// Which guest paths file calls may touch (agent.conf `files.roots`), and
// the descriptors they touch them through.
//
// With roots, a request path is matched to a root by its text (the root as
// configured or as it resolves), and the rest of it is resolved by the
// kernel beneath a descriptor of that root (files/beneath.hpp): every
// symlink and ".." on the way is followed only while it stays inside, at
// the moment of use. Callers then act on the place's descriptor with *at()
// calls on a single name, so nothing resolves the path again. Without
// roots, paths are opened as written (every absolute path is allowed).
#pragma once

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {

// Where a path lives: its parent directory, held open (O_PATH), and its
// final name, never resolved yet ("." for a root or "/" itself).
struct place {
  unique_fd dir;
  std::string name;
};

class path_policy {
 public:
  // Empty (or "/" among them): every absolute path is allowed. Each root is
  // opened once, when first used while it does not exist yet.
  explicit path_policy(std::vector<std::string> roots = {});
  ~path_policy();

  bool restricted() const noexcept { return !roots_.empty(); }

  // Opens `path` itself with open(2) `flags`, following a final symlink
  // (inside the root). Errors throw call_error: "WHAT: strerror" for the
  // filesystem's, INVALID_ARGUMENT for a malformed path, DISABLED_BY_CONFIG
  // for one that leads outside the roots. `mode`: with O_CREAT.
  unique_fd open(const std::string& path, int flags, const std::string& what, mode_t mode = 0) const;

  // The parent of `path`, opened, and its final name. With `make_parents`
  // (the message of that step's failure), missing parents are created one
  // at a time, each through the descriptor of the one before. With roots,
  // a final "." or ".." is INVALID_ARGUMENT.
  place locate(const std::string& path, const std::string& what,
               const std::optional<std::string>& make_parents = std::nullopt) const;

 private:
  struct root {
    std::string written;
    mutable std::string resolved;  // its realpath, once it exists
    mutable unique_fd fd;          // O_PATH | O_DIRECTORY, once it exists
  };
  // The root `path` is under and the rest of it ("" for the root itself).
  std::pair<const root*, std::string> find_root(const std::string& path, const std::string& what) const;
  [[noreturn]] void outside(const std::string& path) const;
  [[noreturn]] void fail(int err, const std::string& path, const std::string& what) const;

  mutable std::mutex mutex_;  // guards the opening of a root that appears late
  std::vector<root> roots_;
};

// Parent directory and final name of an absolute path ("/a/b/" -> "/a", "b").
std::pair<std::string, std::string> split_path(const std::string& path);

}  // namespace tether::agent::files
