// One real guest per VM test binary: booted on first use with the project's
// scripts (scripts/guest/start-vm.sh), shared by every test of the binary,
// stopped when the binary exits. Tests wait on conditions, never on sleeps.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

namespace tether::test {

class vm_guest {
 public:
  // The binary's guest, booted on first call. Throws (failing the test
  // loudly) if QEMU, the kernel or the guest image is missing.
  static vm_guest& shared();
  // One more guest of the same image, with `extra_append` on the kernel
  // command line; stopped when destroyed.
  static std::unique_ptr<vm_guest> boot_another(const std::string& extra_append);
  ~vm_guest() { stop(); }

  const std::string& state_dir() const { return dir_; }
  const std::string& tether_socket() const { return tether_; }
  const std::string& qmp_socket() const { return qmp_; }
  const std::string& qga_socket() const { return qga_; }
  const std::string& raw_socket() const { return raw_; }
  std::string console_tail(int lines = 40) const;
  // The whole serial console so far.
  std::string console() const;
  // QEMU's process id (read it before QEMU may exit: the pidfile goes with it).
  pid_t qemu_pid() const;
  void stop();

 private:
  explicit vm_guest(const std::string& extra_append = "");
  std::string dir_, tether_, qmp_, qga_, raw_, console_;
  bool running_ = false;
};

// Waits up to `within` for a process that is not our child (QEMU runs
// daemonized) to end; true once it has.
bool wait_process_gone(pid_t pid, std::chrono::seconds within);

// Base for VM tests: prints the guest console tail when a test failed.
class vm_test : public ::testing::Test {
 protected:
  vm_guest& guest = vm_guest::shared();
  void TearDown() override;
};

}  // namespace tether::test
