// Reading the kernel's text files and directories (/proc, /sys) for QGA's
// commands: a missing file reads as "", a missing directory lists nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tether::agent::qga {

std::string read_text(const std::string& path);
// The entries of `dir`, in the order the kernel lists them (qemu-ga's order).
std::vector<std::filesystem::path> list_dir(const std::string& dir);

}  // namespace tether::agent::qga
