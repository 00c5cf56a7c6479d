// A whole file as a string: what tests compare files and /proc entries with.
#pragma once

#include <filesystem>
#include <string>

namespace tether::test {

// The file's bytes; "" when it does not exist or cannot be read (a process
// that is gone has no /proc entries).
std::string slurp(const std::filesystem::path& path);

}  // namespace tether::test
