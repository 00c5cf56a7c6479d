// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): opens a path relative to
// a directory descriptor and never resolves outside that directory, at the
// moment of the open (no absolute symlinks, no ".." above it, no /proc magic
// links). The one race-free way to confine a path: a check of the path
// string followed by an open by path loses to a concurrent symlink swap.
#pragma once

#include <sys/types.h>

#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {

// Opens `relative` ("." for the directory itself) beneath `dir` with open(2)
// `flags` (O_CLOEXEC is added) and `mode` (only with O_CREAT/O_TMPFILE).
// Retries the kernel's EAGAIN (a concurrent rename) a bounded number of
// times. On failure returns an empty fd with errno set: EXDEV means the path
// leads outside `dir`, ENOSYS a kernel before Linux 5.6.
unique_fd open_beneath(int dir, const char* relative, int flags, mode_t mode = 0);

}  // namespace tether::agent::files
