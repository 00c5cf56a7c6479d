#include "vm_fixture.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace tether::test {
namespace {

vm_guest* g_guest = nullptr;

// Stops the guest after the last test, even when tests failed.
class vm_environment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_guest) g_guest->stop();
  }
};
const auto* g_env = ::testing::AddGlobalTestEnvironment(new vm_environment);

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

vm_guest& vm_guest::shared() {
  if (!g_guest) g_guest = new vm_guest();  // lives until exit; stop() by the environment
  return *g_guest;
}

std::unique_ptr<vm_guest> vm_guest::boot_another(const std::string& extra_append) {
  return std::unique_ptr<vm_guest>(new vm_guest(extra_append));
}

vm_guest::vm_guest(const std::string& extra_append) {
  char tmpl[] = "/tmp/tether-vm-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  tether_ = dir_ + "/tether.sock";
  qmp_ = dir_ + "/qmp.sock";
  qga_ = dir_ + "/qga.sock";
  raw_ = dir_ + "/raw.sock";
  console_ = dir_ + "/console.log";
  // Which guest: set per test binary (tests/vm/CMakeLists.txt).
  std::string cmd = sh_quote(TETHER_SOURCE_DIR "/scripts/guest/start-vm.sh") + " --kernel " +
                    sh_quote(TETHER_GUEST_KERNEL) + " --initrd " + sh_quote(TETHER_GUEST_INITRD) +
                    " --state " + sh_quote(dir_) + " --mem " TETHER_GUEST_MEM " --wait-ready 300";
  if (std::string(TETHER_GUEST_DISK).size())
    cmd += " --disk " + sh_quote(TETHER_GUEST_DISK) + " --disk-snapshot --allow-reboot";
  const std::string append = std::string(TETHER_GUEST_APPEND) + (extra_append.empty() ? "" : " " + extra_append);
  if (!append.empty()) cmd += " --append " + sh_quote(append);
  cmd += " >" + sh_quote(dir_ + "/start.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  running_ = true;
  if (rc != 0) {
    std::ifstream log(dir_ + "/start.log");
    std::string text((std::istreambuf_iterator<char>(log)), {});
    throw std::runtime_error("booting the test guest failed (" + cmd + "):\n" + text +
                             "\nconsole:\n" + console_tail(60));
  }
}

std::string vm_guest::console_tail(int lines) const {
  std::ifstream f(console_);
  std::deque<std::string> tail;
  for (std::string line; std::getline(f, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (auto& l : tail) out += l + "\n";
  return out;
}

std::string vm_guest::console() const {
  std::ifstream f(console_);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

pid_t vm_guest::qemu_pid() const {
  std::ifstream f(dir_ + "/qemu.pid");
  pid_t pid = 0;
  if (!(f >> pid) || pid <= 0) throw std::runtime_error("no QEMU pid in " + dir_ + "/qemu.pid");
  return pid;
}

bool wait_process_gone(pid_t pid, std::chrono::seconds within) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(within).count()));
  ::close(fd);
  return r > 0;
}

void vm_guest::stop() {
  if (!running_) return;
  running_ = false;
  const std::string cmd = sh_quote(TETHER_SOURCE_DIR "/scripts/guest/stop-vm.sh") + " --state " +
                          sh_quote(dir_) + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) std::cerr << "warning: stop-vm.sh failed for " << dir_ << "\n";
  if (!std::getenv("TETHER_KEEP_VM_STATE")) std::system(("rm -rf " + sh_quote(dir_)).c_str());
}

void vm_test::TearDown() {
  if (HasFailure())
    std::cerr << "---- guest console (last 40 lines of " << guest.state_dir() << "/console.log) ----\n"
              << guest.console_tail(40) << "---- end of console ----\n";
}

}  // namespace tether::test
