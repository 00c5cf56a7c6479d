// A QEMU guest owned by this process, for VM tests and the benchmark.
//
// QEMU runs as our child (scripts/guest/start-vm.sh --foreground execs it),
// in its own process group, with PR_SET_PDEATHSIG(SIGKILL): whatever ends
// this process (a failed assertion, an exception, ctest's timeout, kill -9),
// its QEMU ends too. (The signal follows the *thread* that started QEMU:
// create and drop a guest on one thread that outlives it.) The object owns the process from the moment it exists;
// a boot that fails kills QEMU before the constructor throws.
//
// The boot is watched on the serial console: a console that shows nothing
// new for `silence_limit` is a stalled boot; its QEMU is killed and the boot
// retried (once by default), loudly, on stderr and in the boot log, so that
// flakiness stays visible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace tether::test {

struct boot_options {
  std::string kernel, initrd;
  std::string disk;            // root disk image; empty: none
  bool disk_snapshot = true;   // writes go to a throwaway overlay
  bool allow_reboot = false;   // a guest reboot restarts the guest, not QEMU's exit
  std::string append;          // extra kernel command line
  int mem_mb = 512;
  int smp = 0;                 // vCPUs; 0: start-vm.sh's default
  std::vector<std::string> qemu_args;  // more QEMU arguments (tests of this rig)
  // Where the state lives (sockets, console.log, qemu.log); empty: a fresh
  // /tmp/tether-vm-XXXXXX.
  std::string state_dir;
  // Wait for this line on the console before the constructor returns;
  // empty: return once QEMU runs (its QMP socket exists).
  std::string ready_marker = "TETHER-GUEST-READY";
  std::chrono::seconds ready_timeout{300};
  // No new console output for this long while booting: the boot stalled.
  std::chrono::seconds silence_limit{60};
  int attempts = 2;  // boots tried when one stalls (1: no retry)
  // Appended one line per boot (tests/vm: the suite-wide summary); empty: none.
  std::string boot_log;
  std::string label;  // names the boot in messages and the boot log
  bool keep_failed_state = false;  // a failed boot keeps its state directory
};

// What a boot did, for the summary at the end of the VM suites.
struct boot_report {
  int attempts = 0;          // QEMU starts
  int stalls = 0;            // boots killed for a silent console
  double seconds = 0;        // start of the first attempt to ready (or failure)
  double longest_silence = 0;  // longest console silence of the successful attempt
  bool ready = false;
};

// A boot that did not reach its ready marker; QEMU is already gone.
class boot_error : public std::runtime_error {
 public:
  boot_error(const std::string& what, boot_report r) : std::runtime_error(what), report(r) {}
  boot_report report;
};

class qemu_guest {
 public:
  explicit qemu_guest(boot_options o);
  ~qemu_guest();
  qemu_guest(const qemu_guest&) = delete;
  qemu_guest& operator=(const qemu_guest&) = delete;

  const std::string& state_dir() const { return dir_; }
  std::string socket(const std::string& name) const { return dir_ + "/" + name + ".sock"; }
  std::string console_path() const { return dir_ + "/console.log"; }
  const boot_report& report() const { return report_; }
  // QEMU's pid while it runs (it stays valid until we reap it in stop()).
  pid_t pid() const { return pid_; }
  // True once QEMU has exited (reaps it; never blocks).
  bool exited();
  // Waits up to `within` for QEMU to exit by itself; true once it has.
  bool wait_exit(std::chrono::milliseconds within);
  // QMP quit, SIGKILL after `grace`, reaped. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Keeps the state directory when the object goes (default: removed unless
  // TETHER_KEEP_VM_STATE=1).
  void keep_state() { keep_ = true; }

 private:
  void launch();
  void kill_now();
  std::string boot_once(int attempt);  // "" when ready, else why not
  std::string dump_stall(int attempt);  // vCPU state of a stalled boot, in words
  std::string wait_running(int pidfd);                 // "" once QEMU's QMP socket exists
  std::string wait_marker(int attempt, int pidfd);     // "" once the ready marker is on the console
  std::string exit_reason() const;                     // how QEMU ended, in words
  std::string tail(int lines) const;
  void log_boot(const std::string& result) const;

  boot_options o_;
  std::string dir_;
  bool own_dir_ = false, keep_ = false;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  boot_report report_;
};

// The last `lines` lines of a text file ("" if it cannot be read).
std::string file_tail(const std::string& path, int lines);

// Waits up to `within` for any process (ours or not) to end; true once it has.
bool wait_process_gone(pid_t pid, std::chrono::milliseconds within);

// Pids of every process whose command line mentions `needle` (other than
// this process): what a test checks to prove no QEMU of it was left behind.
std::vector<pid_t> processes_mentioning(const std::string& needle);

}  // namespace tether::test
