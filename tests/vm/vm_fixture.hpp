// One real guest per VM test binary: booted on first use (support/qemu_guest,
// which runs scripts/guest/start-vm.sh), shared by every test of the binary,
// stopped when the binary exits. QEMU is this process's child and dies with
// it, whatever fails. Tests wait on conditions, never on sleeps.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "support/qemu_guest.hpp"
#include "tether/client.hpp"

namespace tether::test {

class vm_guest {
 public:
  // The binary's guest, booted on first call. Throws (failing the test
  // loudly, with the console) if QEMU, the kernel or the image is missing or
  // the guest does not boot; a boot whose console stays silent is retried once.
  static vm_guest& shared();
  // One more guest of the same image, with `extra_append` on the kernel
  // command line; stopped when destroyed.
  static std::unique_ptr<vm_guest> boot_another(const std::string& extra_append);
  // The options this binary boots its guests with (tests/vm/CMakeLists.txt).
  static boot_options default_options(const std::string& extra_append = "");
  ~vm_guest();

  const std::string& state_dir() const { return qemu_.state_dir(); }
  std::string tether_socket() const { return qemu_.socket("tether"); }
  std::string qmp_socket() const { return qemu_.socket("qmp"); }
  std::string qga_socket() const { return qemu_.socket("qga"); }
  std::string raw_socket() const { return qemu_.socket("raw"); }
  // For a libtether client of the guest's agent; the default call deadline
  // allows for a loaded TCG guest.
  client_options agent_client_options(std::chrono::milliseconds call_timeout = std::chrono::seconds(60)) const {
    return {.socket_path = tether_socket(), .call_timeout = call_timeout};
  }
  std::string console_tail(int lines = 40) const { return file_tail(qemu_.console_path(), lines); }
  // The whole serial console so far.
  std::string console() const;
  // QEMU's process id (valid until the guest is stopped).
  pid_t qemu_pid() const { return qemu_.pid(); }
  // Waits up to `within` for QEMU to exit by itself (the guest powered off).
  bool wait_exit(std::chrono::milliseconds within) { return qemu_.wait_exit(within); }
  void stop() { qemu_.stop(); }

 private:
  explicit vm_guest(const std::string& extra_append = "");
  qemu_guest qemu_;
};

// Base for VM tests: when a test failed, prints the console tail of every
// guest still alive (and where their state is).
class vm_test : public ::testing::Test {
 protected:
  vm_guest& guest = vm_guest::shared();
  void TearDown() override;
};

// A VM test with one libtether client of the guest's agent (it connects on
// first use).
class vm_client_test : public vm_test {
 protected:
  boost::asio::io_context ctx;
  client guest_client{ctx.get_executor(), guest.agent_client_options()};
};

}  // namespace tether::test
