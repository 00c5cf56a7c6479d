#include "support/tetherctl_runner.hpp"

#include "support/build_paths.hpp"

#include <sys/wait.h>

#include <cstdio>

namespace tether::test {

ctl_result run_tetherctl(const std::string& args) {
  const std::string cmd = std::string(tetherctl_binary) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace tether::test
