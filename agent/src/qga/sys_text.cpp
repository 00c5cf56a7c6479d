#include "qga/sys_text.hpp"

#include <fstream>
#include <sstream>

namespace tether::agent::qga {

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::filesystem::path> list_dir(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path());
  return out;
}

}  // namespace tether::agent::qga
