#include "exec/spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace tether::agent::exec {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct pipe_pair {
  unique_fd read, write;
};

pipe_pair make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("cannot create a pipe for the child");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

// What the child leaves for the parent when a step before exec fails. A
// vfork child shares the parent's memory and the parent sleeps until the
// child execs or exits, so a plain store is seen once vfork returns: no
// status pipe, no extra wake-up of the agent's loop.
struct child_failure {
  volatile int step = 0;
  volatile int err = 0;
};

// Child side after vfork: it shares the agent's memory until exec, so only
// plain system calls from here on, no allocation, no glibc thread state.
[[noreturn]] void fail(child_failure* out, spawn_step step) {
  out->err = errno;
  out->step = step;
  ::_exit(127);
}

[[noreturn]] void run_child(const spawn_spec& spec, pid_t parent, int in, int out, int err, int tty_slave,
                            child_failure* failure, char* const* argv, char* const* envp) {
  // The agent blocks, ignores or handles some signals; a command must start
  // clean. Every disposition is reset (not only the ignored ones, which are
  // all exec would keep) before anything is unblocked: an agent handler
  // must never run in this child, which shares the agent's memory.
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Own session and process group: the agent signals the whole group.
  if (::setsid() < 0) fail(failure, step_setsid);
  if (tty_slave >= 0 && ::ioctl(tty_slave, TIOCSCTTY, 0) < 0) fail(failure, step_tty);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(failure, step_stdio);

  // Raw system calls: glibc's wrappers would broadcast the change to the
  // agent's threads, whose memory this vfork child shares.
  if (spec.creds) {
    const auto& c = *spec.creds;
    if (::syscall(SYS_setgroups, c.groups.size(), c.groups.data()) < 0) fail(failure, step_groups);
    if (::syscall(SYS_setresgid, c.gid, c.gid, c.gid) < 0) fail(failure, step_gid);
    if (::syscall(SYS_setresuid, c.uid, c.uid, c.uid) < 0) fail(failure, step_uid);
  }
  // After the credential change, which clears it.
  if (spec.die_with_agent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the agent died before prctl
  }
  if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) < 0) fail(failure, step_chdir);

  // Nothing of the agent's leaks into the command.
  if (::close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);

  ::execve(spec.path.c_str(), argv, envp);
  fail(failure, step_exec);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

spawn_error::spawn_error(spawn_step step, int err)
    : std::system_error(err, std::generic_category(), std::string("cannot ") + describe(step)), step_(step) {}

const char* describe(spawn_step s) {
  switch (s) {
    case step_setsid: return "create a session (setsid)";
    case step_tty: return "make the terminal controlling (TIOCSCTTY)";
    case step_stdio: return "set up stdin/stdout/stderr";
    case step_groups: return "set supplementary groups";
    case step_gid: return "switch group";
    case step_uid: return "switch user";
    case step_chdir: return "change to the working directory";
    case step_exec: return "execute";
  }
  return "start";
}

spawned spawn(const spawn_spec& spec) {
  spawned out;
  unique_fd child_in, child_out, child_err, tty_slave;

  if (spec.tty) {
    unique_fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) throw_errno("cannot open a pseudo-terminal");
    char name[128];
    if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
        ::ptsname_r(master.get(), name, sizeof name) != 0)
      throw_errno("cannot set up the pseudo-terminal");
    tty_slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!tty_slave) throw_errno("cannot open the pseudo-terminal's slave side");
    winsize ws{};
    ws.ws_row = spec.tty_rows;
    ws.ws_col = spec.tty_cols;
    ::ioctl(master.get(), TIOCSWINSZ, &ws);
    // Two descriptors so reading and writing are independent Asio objects.
    out.in.reset(::fcntl(master.get(), F_DUPFD_CLOEXEC, 0));
    if (!out.in) throw_errno("dup of the pseudo-terminal");
    out.out = std::move(master);
    child_in.reset(::fcntl(tty_slave.get(), F_DUPFD_CLOEXEC, 0));
    child_out.reset(::fcntl(tty_slave.get(), F_DUPFD_CLOEXEC, 0));
    child_err.reset(::fcntl(tty_slave.get(), F_DUPFD_CLOEXEC, 0));
    if (!child_in || !child_out || !child_err) throw_errno("dup of the pseudo-terminal");
  } else {
    if (spec.stdin_pipe) {
      auto p = make_pipe();
      child_in = std::move(p.read);
      out.in = std::move(p.write);
    } else {
      child_in.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!child_in) throw_errno("cannot open /dev/null");
    }
    auto o = make_pipe();
    // A bigger pipe means fewer wake-ups for chatty commands; best effort.
    ::fcntl(o.read.get(), F_SETPIPE_SZ, 256 * 1024);
    child_out = std::move(o.write);
    out.out = std::move(o.read);
    if (spec.merge_stderr) {
      child_err.reset(::fcntl(child_out.get(), F_DUPFD_CLOEXEC, 0));
      if (!child_err) throw_errno("dup of the stdout pipe");
    } else {
      auto e = make_pipe();
      child_err = std::move(e.write);
      out.err = std::move(e.read);
    }
  }
  child_failure failure;
  auto argv = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  const pid_t parent = ::getpid();
  // vfork: no copy of the agent's page tables (costly in an emulated
  // guest); the agent waits the few system calls until the child execs.
  // The child starts with every signal blocked (see run_child).
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::vfork();
  if (pid == 0)
    run_child(spec, parent, child_in.get(), child_out.get(), child_err.get(), tty_slave.get(),
              &failure, argv.data(), envp.data());
  const int vfork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) {
    errno = vfork_errno;
    throw_errno("vfork");
  }

  if (failure.step != 0) {
    ::waitpid(pid, nullptr, 0);  // it has exited: vfork returned
    throw spawn_error(static_cast<spawn_step>(failure.step), failure.err);
  }
  out.pid = pid;
  out.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!out.pidfd) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw std::system_error(e, std::generic_category(), "pidfd_open");
  }
  return out;
}

}  // namespace tether::agent::exec
