// The benchmark's guest: the fast initramfs guest, owned by this process
// (support/qemu_guest: it dies with us), stopped when the object goes.
#pragma once

#include <memory>
#include <string>

#include "support/qemu_guest.hpp"

namespace tether::bench {

class bench_vm {
 public:
  // Boots a new guest (or attaches to a running one's state dir).
  explicit bench_vm(const std::string& attach_state_dir = {});
  ~bench_vm();
  const std::string& dir() const { return dir_; }
  std::string socket(const std::string& name) const { return dir_ + "/" + name + ".sock"; }

 private:
  std::string dir_;
  std::unique_ptr<test::qemu_guest> guest_;
};

}  // namespace tether::bench
