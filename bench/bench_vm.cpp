#include "bench_vm.hpp"

#include "bench_paths.hpp"

namespace tether::bench {

bench_vm::bench_vm(const std::string& attach_state_dir) {
  if (!attach_state_dir.empty()) {
    dir_ = attach_state_dir;
    return;
  }
  test::boot_options o;
  o.kernel = paths::guest_kernel;
  o.initrd = paths::guest_initrd;
  o.mem_mb = 1024;
  o.ready_timeout = std::chrono::seconds(180);
  o.label = "benchmark guest";
  guest_ = std::make_unique<test::qemu_guest>(o);
  dir_ = guest_->state_dir();
}

bench_vm::~bench_vm() = default;

}  // namespace tether::bench
