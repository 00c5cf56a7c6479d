#include "bench_vm.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace tether::bench {

bench_vm::bench_vm(const std::string& attach_state_dir) {
  if (!attach_state_dir.empty()) {
    dir_ = attach_state_dir;
    return;
  }
  char tmpl[] = "/tmp/tether-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  owned_ = true;
  const std::string cmd = std::string("'" TETHER_SOURCE_DIR "/scripts/guest/start-vm.sh' --kernel '") +
                          TETHER_GUEST_KERNEL + "' --initrd '" + TETHER_GUEST_INITRD + "' --state '" + dir_ +
                          "' --mem 1024 --wait-ready 180";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("booting the benchmark guest failed: " + cmd);
}

bench_vm::~bench_vm() {
  if (!owned_) return;
  const std::string cmd = std::string("'" TETHER_SOURCE_DIR "/scripts/guest/stop-vm.sh' --state '") + dir_ +
                          "' >/dev/null 2>&1; rm -rf '" + dir_ + "'";
  [[maybe_unused]] int rc = std::system(cmd.c_str());
}

}  // namespace tether::bench
