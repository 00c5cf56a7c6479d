// The benchmark's guest: the fast initramfs guest booted with the project's
// scripts, stopped when the object goes.
#pragma once

#include <string>

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
  bool owned_ = false;
};

}  // namespace tether::bench
