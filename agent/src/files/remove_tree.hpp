// Recursive removal through directory descriptors: each level is opened
// with O_NOFOLLOW from its parent's descriptor, so a directory swapped for
// a symlink mid-way is unlinked as a symlink, never followed.
#pragma once

#include <string>

namespace tether::agent::files {

// Removes `name` in the directory `parent` and, if it is a directory,
// everything under it. Returns 0 or the errno of the first failure.
int remove_tree(int parent, const std::string& name);

}  // namespace tether::agent::files
