#include "vm_fixture.hpp"

#include "support/slurp.hpp"
#include "vm_guest_config.hpp"

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <set>

namespace tether::test {
namespace {

vm_guest* g_guest = nullptr;
std::set<const vm_guest*> g_alive;  // every guest of this binary, for failure reports
int g_boots = 0, g_attempts = 0, g_stalls = 0;

// Stops the shared guest after the last test, even when tests failed, and
// says how the binary's boots went (the suite-wide summary is scripts/test.sh's).
class vm_environment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_guest;
    g_guest = nullptr;
    std::cerr << "[ vm boots ] " << g_boots << " guest(s) booted in " << g_attempts << " attempt(s); " << g_stalls
              << " boot(s) stalled and were retried" << std::endl;
  }
};
const auto* g_env = ::testing::AddGlobalTestEnvironment(new vm_environment);

std::string boot_log_path() {
  const char* env = std::getenv("TETHER_VM_BOOT_LOG");
  return env ? env : vm_config::boot_log;
}

void count(const boot_report& r) {
  ++g_boots;
  g_attempts += r.attempts;
  g_stalls += r.stalls;
}

}  // namespace

boot_options vm_guest::default_options(const std::string& extra_append) {
  boot_options o;
  o.kernel = vm_config::kernel;
  o.initrd = vm_config::initrd;
  o.disk = vm_config::disk;
  o.allow_reboot = !o.disk.empty();  // the Debian guest's tests reboot it
  o.mem_mb = vm_config::mem_mb;
  o.append = std::string(vm_config::append) + (extra_append.empty() ? "" : " " + extra_append);
  o.boot_log = boot_log_path();
  o.label = std::string(o.disk.empty() ? "fast" : "Debian") + " guest (" + vm_config::binary + ")";
  return o;
}

vm_guest& vm_guest::shared() {
  // A guest that did not boot fails every later test at once, not after
  // another full boot each.
  static std::string boot_failure;
  if (!boot_failure.empty()) throw std::runtime_error(boot_failure);
  try {
    if (!g_guest) g_guest = new vm_guest();  // deleted by the environment's TearDown
  } catch (const std::exception& e) {
    boot_failure = "this binary's guest did not boot (an earlier test shows why): " + std::string(e.what()).substr(0, 200);
    throw;
  }
  return *g_guest;
}

std::unique_ptr<vm_guest> vm_guest::boot_another(const std::string& extra_append) {
  return std::unique_ptr<vm_guest>(new vm_guest(extra_append));
}

vm_guest::vm_guest(const std::string& extra_append) try : qemu_(default_options(extra_append)) {
  count(qemu_.report());
  g_alive.insert(this);
} catch (const boot_error& e) {
  count(e.report);
  // (rethrown: a function-try-block of a constructor always rethrows)
}

vm_guest::~vm_guest() { g_alive.erase(this); }

std::string vm_guest::console() const { return slurp(qemu_.console_path()); }

void vm_test::TearDown() {
  if (!HasFailure()) return;
  for (const auto* g : g_alive)
    std::cerr << "---- guest console (last 40 lines of " << g->state_dir() << "/console.log) ----\n"
              << g->console_tail(40) << "---- end of console ----\n";
}

}  // namespace tether::test
