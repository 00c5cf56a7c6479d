#include "support/qemu_guest.hpp"

#include "support/build_paths.hpp"
#include "support/slurp.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>
#include <utility>

namespace tether::test {
namespace {

using clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool keep_state_env() {
  const char* v = std::getenv("TETHER_KEEP_VM_STATE");
  return v && std::string(v) == "1";
}

// A file descriptor closed on scope exit.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) : fd(f) {}
  fd_guard(fd_guard&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const auto nl = text.find_last_of('\n', end);
  const auto begin = nl == std::string::npos ? 0 : nl + 1;
  return text.substr(begin, end - begin + 1);
}

// An inotify instance watching `path` for `events`, closed on scope exit.
fd_guard watch(const std::string& path, uint32_t events) {
  fd_guard ino{::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)};
  if (ino.fd < 0 || ::inotify_add_watch(ino.fd, path.c_str(), events) < 0)
    throw std::system_error(errno, std::generic_category(), "inotify on " + path);
  return ino;
}

// Sleeps until `ino` reports a change, `pidfd` an exit, or `ms` pass; then
// empties the inotify queue (the caller looks at the files itself).
void wait_change(int ino, int pidfd, long long ms, const char* what) {
  pollfd p[2] = {{ino, POLLIN, 0}, {pidfd, POLLIN, 0}};
  if (::poll(p, 2, static_cast<int>(std::clamp<long long>(ms, 0, 60'000))) < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), what);
  char ev[4096];
  while (::read(ino, ev, sizeof ev) > 0) {
  }
}

// Runs one human-monitor command over QMP (blocking, 5 s per read) and
// returns its text; "" if QMP does not answer.
std::string qmp_human(const std::string& socket_path, const std::string& command) {
  fd_guard fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd.fd < 0 || socket_path.size() >= sizeof addr.sun_path) return "";
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  timeval tv{5, 0};
  ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return "";
  const std::string req = R"({"execute":"qmp_capabilities"})"
                          "\n"
                          R"({"execute":"human-monitor-command","arguments":{"command-line":")" +
                          command + "\"}}\n";
  if (::write(fd.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "";
  std::string in;
  char buf[4096];
  // Greeting, capabilities' reply, then the command's: three lines.
  while (std::count(in.begin(), in.end(), '\n') < 3) {
    const ssize_t n = ::read(fd.fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  const auto at = in.find("{\"return\": \"");
  if (at == std::string::npos) return in;
  std::string text;  // the JSON string, unescaped enough to read
  for (size_t i = at + 12; i < in.size() && in[i] != '"'; ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      ++i;
      text += in[i] == 'n' ? '\n' : in[i] == 'r' ? '\r' : in[i];
    } else {
      text += in[i];
    }
  }
  return text;
}

// The kernel function holding `address`, from the System.map beside the
// guest's kernel release (test guests boot with nokaslr).
std::string kernel_symbol(const std::string& kernel, unsigned long long address) {
  std::ifstream rel(fs::path(kernel).parent_path() / "kernel-release");
  std::string release;
  if (!(rel >> release)) return "";
  // Debian's /boot/System.map is a stub; the -dbg package has the real one,
  // and a guest's own /proc/kallsyms (nokaslr) saved beside the kernel will do.
  std::ifstream map;
  for (const auto& p : {fs::path(kernel).parent_path() / "System.map", fs::path("/usr/lib/debug/boot/System.map-" + release),
                        fs::path("/boot/System.map-" + release)}) {
    map.open(p);
    if (map) break;
  }
  unsigned long long best = 0;
  std::string best_name;
  for (std::string line; std::getline(map, line);) {
    unsigned long long a = 0;
    char type = 0, name[256];
    if (std::sscanf(line.c_str(), "%llx %c %255s", &a, &type, name) != 3) continue;
    if (a <= address && a >= best && (type == 't' || type == 'T')) {
      best = a;
      best_name = name;
    }
  }
  if (best_name.empty()) return "";
  char off[32];
  std::snprintf(off, sizeof off, "+0x%llx", address - best);
  return best_name + off;
}

}  // namespace

std::string file_tail(const std::string& path, int lines) {
  std::ifstream f(path);
  std::deque<std::string> tail;
  for (std::string line; std::getline(f, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (auto& l : tail) out += l + "\n";
  return out;
}

bool wait_process_gone(pid_t pid, std::chrono::milliseconds within) {
  fd_guard fd{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
  if (fd.fd < 0) return errno == ESRCH;
  pollfd p{fd.fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(within.count())) > 0;
}

std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    const std::string cmdline = slurp(e.path() / "cmdline");
    // A zombie has an empty command line: it is gone in all but name.
    if (cmdline.find(needle) != std::string::npos) found.push_back(pid);
  }
  return found;
}

qemu_guest::qemu_guest(boot_options o) : o_(std::move(o)) {
  if (o_.state_dir.empty()) {
    char tmpl[] = "/tmp/tether-vm-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::system_error(errno, std::generic_category(), "mkdtemp /tmp/tether-vm-XXXXXX");
    dir_ = tmpl;
    own_dir_ = true;
  } else {
    dir_ = o_.state_dir;
    fs::create_directories(dir_);
  }
  if (o_.label.empty()) o_.label = fs::path(o_.kernel).parent_path().filename().string() + " guest";
  const auto t0 = clock::now();
  std::string why;
  try {
    for (int attempt = 1; attempt <= std::max(1, o_.attempts); ++attempt) {
      why = boot_once(attempt);
      if (why.empty() || report_.stalls < attempt) break;  // ready, or failed for another reason than a stall
      if (attempt < o_.attempts)
        std::cerr << "[ vm boot  ] " << o_.label << ": " << why << "; QEMU killed, booting again (attempt "
                  << attempt + 1 << " of " << o_.attempts << ")" << std::endl;
    }
  } catch (...) {
    kill_now();
    throw;
  }
  report_.seconds = seconds(clock::now() - t0);
  report_.ready = why.empty();
  if (report_.ready) {
    log_boot("ready");
    return;
  }
  log_boot("failed");
  std::string msg = "booting the " + o_.label + " failed after " + std::to_string(report_.attempts) +
                    " attempt(s): " + why + "\n---- console (last 60 lines of " + console_path() + ") ----\n" +
                    tail(60) + "---- QEMU's output (" + dir_ + "/qemu.log) ----\n" + file_tail(dir_ + "/qemu.log", 20);
  kill_now();
  if (own_dir_ && !keep_state_env() && !o_.keep_failed_state) {
    msg += "(state removed; TETHER_KEEP_VM_STATE=1 keeps it)";
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    msg += "(state kept in " + dir_ + ")";
  }
  throw boot_error(msg, report_);
}

qemu_guest::~qemu_guest() {
  stop();
  if (own_dir_ && !keep_ && !keep_state_env()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else if (own_dir_) {
    std::cerr << "[ vm state ] kept " << dir_ << " (console.log, qemu.log, firmware.log)" << std::endl;
  }
}

void qemu_guest::launch() {
  std::vector<std::string> args = {std::string(source_dir) + "/scripts/guest/start-vm.sh",
                                   "--foreground",
                                   "--kernel", o_.kernel,
                                   "--initrd", o_.initrd,
                                   "--state", dir_,
                                   "--mem", std::to_string(o_.mem_mb)};
  if (!o_.disk.empty()) {
    args.insert(args.end(), {"--disk", o_.disk});
    if (o_.disk_snapshot) args.push_back("--disk-snapshot");
  }
  if (o_.smp > 0) args.insert(args.end(), {"--smp", std::to_string(o_.smp)});
  if (o_.allow_reboot) args.push_back("--allow-reboot");
  if (!o_.append.empty()) args.insert(args.end(), {"--append", o_.append});
  for (const auto& a : o_.qemu_args) args.insert(args.end(), {"--qemu-arg", a});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = dir_ + "/qemu.log";

  // Everything the child needs is prepared: after fork() it only makes
  // async-signal-safe calls.
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork for QEMU");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // survives execve: QEMU dies with us
    if (::getppid() != parent) ::_exit(127);  // we died before prctl took effect
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (null < 0 || out < 0 || ::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no window where a kill of the group misses it
  pid_ = pid;
  exit_status_ = -1;
  ++report_.attempts;
}

std::string qemu_guest::boot_once(int attempt) {
  const std::string console = console_path();
  if (attempt > 1 && fs::exists(console)) {
    // The stalled attempt's console stays beside the new one.
    std::error_code ec;
    fs::rename(console, dir_ + "/console.stalled-" + std::to_string(attempt - 1) + ".log", ec);
  }
  // The console file exists before QEMU starts, so it can be watched; a QMP
  // socket of an earlier attempt must not count as this QEMU running.
  { std::ofstream(console, std::ios::trunc); }
  ::unlink(socket("qmp").c_str());
  launch();
  fd_guard pidfd{static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0))};
  if (pidfd.fd < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open of QEMU");
  return o_.ready_marker.empty() ? wait_running(pidfd.fd) : wait_marker(attempt, pidfd.fd);
}

std::string qemu_guest::wait_marker(int attempt, int pidfd) {
  // Watched before the first read, so no write after that read goes unseen.
  const fd_guard ino = watch(console_path(), IN_MODIFY);
  fd_guard in{::open(console_path().c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) throw std::system_error(errno, std::generic_category(), "open " + console_path());

  const auto start = clock::now();
  const auto deadline = start + o_.ready_timeout;
  auto last_output = start;
  double longest = 0;
  std::string window;  // the end of what was read, so a marker split across reads is found
  char buf[8192];
  for (;;) {
    bool grew = false;
    for (ssize_t n; (n = ::read(in.fd, buf, sizeof buf)) > 0;) {
      grew = true;
      window.append(buf, static_cast<size_t>(n));
      if (window.find(o_.ready_marker) != std::string::npos) {
        report_.longest_silence = std::max(longest, seconds(clock::now() - last_output));
        return "";
      }
      if (window.size() > 4096) window.erase(0, window.size() - 4096);
    }
    const auto now = clock::now();
    if (grew) {
      longest = std::max(longest, seconds(now - last_output));
      last_output = now;
    }
    if (exited()) return "QEMU exited (" + exit_reason() + ") before the guest was ready";
    if (now - last_output >= o_.silence_limit) {
      ++report_.stalls;
      const auto silent = std::chrono::duration_cast<std::chrono::seconds>(now - last_output).count();
      const std::string last = last_line(window);
      const std::string where = dump_stall(attempt);
      kill_now();
      return "boot stalled: console silent for " + std::to_string(silent) + " s " +
             (last.empty() ? std::string("(nothing printed at all)") : "after \"" + last + "\"") + where;
    }
    if (now >= deadline) {
      kill_now();
      return "not ready within " + std::to_string(o_.ready_timeout.count()) + " s (no \"" + o_.ready_marker +
             "\" on the console)";
    }
    // Sleep until the console grows, QEMU exits, or the next limit is due.
    const auto next = std::min(deadline, last_output + o_.silence_limit);
    wait_change(ino.fd, pidfd, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1,
                "poll while booting");
  }
}

std::string qemu_guest::dump_stall(int attempt) {
  // What the vCPUs were doing, for the record (stall-N.txt) and the message.
  const std::string status = qmp_human(socket("qmp"), "info status");
  const std::string regs = qmp_human(socket("qmp"), "info registers -a");
  std::string where;
  // One "RIP=" (long mode) or "EIP=" line per vCPU.
  for (size_t at = 0, cpu = 0; (at = regs.find("IP=", at)) != std::string::npos; at += 3) {
    if (at == 0 || (regs[at - 1] != 'R' && regs[at - 1] != 'E')) continue;
    const unsigned long long rip = std::strtoull(regs.c_str() + at + 3, nullptr, 16);
    const std::string sym = kernel_symbol(o_.kernel, rip);
    char line[160];
    std::snprintf(line, sizeof line, "%svCPU %zu at %llx%s%s", where.empty() ? "" : ", ", cpu, rip,
                  sym.empty() ? "" : " ", sym.c_str());
    where += line;
    ++cpu;
  }
  std::ofstream(dir_ + "/stall-" + std::to_string(attempt) + ".txt")
      << "info status: " << status << "\n" << where << "\n\n" << regs;
  const std::string state = status.substr(0, status.find_first_of("\r\n"));
  return where.empty() ? "" : " (" + (state.empty() ? "" : state + "; ") + where + ")";
}

std::string qemu_guest::wait_running(int pidfd) {
  // Watched before the first look, so the socket's creation is not missed.
  const fd_guard dir_watch = watch(dir_, IN_CREATE);
  const auto deadline = clock::now() + o_.ready_timeout;
  for (;;) {
    if (fs::exists(socket("qmp"))) return "";
    if (exited()) return "QEMU exited (" + exit_reason() + ") before it ran";
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      kill_now();
      return "QEMU did not start within " + std::to_string(o_.ready_timeout.count()) + " s";
    }
    wait_change(dir_watch.fd, pidfd, left, "poll while QEMU starts");
  }
}

std::string qemu_guest::exit_reason() const {
  const int st = exit_status_;
  return WIFEXITED(st) ? "status " + std::to_string(WEXITSTATUS(st)) : "signal " + std::to_string(WTERMSIG(st));
}

bool qemu_guest::exited() {
  if (pid_ <= 0) return true;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    exit_status_ = st;
    pid_ = -1;
    return true;
  }
  return false;
}

bool qemu_guest::wait_exit(std::chrono::milliseconds within) {
  if (pid_ > 0) wait_process_gone(pid_, within);
  return exited();  // reaps it
}

void qemu_guest::kill_now() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = st;
  pid_ = -1;
}

void qemu_guest::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  // SIGTERM is QEMU's clean quit (as QMP "quit"): it closes its files and exits.
  ::kill(pid_, SIGTERM);
  if (!wait_exit(grace)) kill_now();
}

std::string qemu_guest::tail(int lines) const { return file_tail(console_path(), lines); }

void qemu_guest::log_boot(const std::string& result) const {
  if (o_.boot_log.empty()) return;
  std::ofstream f(o_.boot_log, std::ios::app);
  char line[512];
  std::snprintf(line, sizeof line, "%s attempts=%d stalls=%d seconds=%.1f longest_silence=%.1f guest=\"%s\" state=%s\n",
                result.c_str(), report_.attempts, report_.stalls, report_.seconds, report_.longest_silence,
                o_.label.c_str(), dir_.c_str());
  f << line;
}

}  // namespace tether::test
