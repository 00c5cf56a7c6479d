#include "files/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {
namespace {

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

int remove_tree(int parent, const std::string& name) {
  unique_fd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOTDIR || errno == ELOOP)  // a file or a symlink: the entry itself goes
      return ::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT ? 0 : errno;
    return errno == ENOENT ? 0 : errno;
  }
  // Names first, removal after: removing while reading a directory may
  // skip entries.
  std::vector<std::string> names;
  {
    const int for_dir = ::dup(dir.get());
    if (for_dir < 0) return errno;
    std::unique_ptr<DIR, dir_closer> d(::fdopendir(for_dir));
    if (!d) {
      const int e = errno;
      ::close(for_dir);
      return e;
    }
    errno = 0;
    while (dirent* e = ::readdir(d.get())) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    if (errno) return errno;
  }
  for (const auto& n : names)
    if (const int err = remove_tree(dir.get(), n)) return err;
  return ::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : errno;
}

}  // namespace tether::agent::files
