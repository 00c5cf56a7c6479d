#include "support/slurp.hpp"

#include <fstream>
#include <sstream>

namespace tether::test {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return std::move(s).str();
}

}  // namespace tether::test
