// tetherctl exec [options] -- ARGV...: runs a command in the guest with its
// stdout/stderr streamed live to ours, and exits with its exit status.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "tether/common/race.hpp"
#include "tether/exec.hpp"

namespace tetherctl {
namespace {


// Exit statuses of `exec` besides the command's own (0-255, 128+N for a
// signal), chosen as timeout(1) and ssh(1) do.
constexpr int exit_timed_out = 124;
constexpr int exit_exec_failed = 255;

struct exec_args {
  tether::exec::options opts;
  bool forward_stdin = false;
};

// Local terminal in raw mode while a remote terminal runs, restored on exit.
struct raw_terminal {
  bool active = false;
  termios saved{};
  void enable() {
    if (::tcgetattr(STDIN_FILENO, &saved) != 0) return;
    termios raw = saved;
    ::cfmakeraw(&raw);
    active = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~raw_terminal() {
    if (active) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  }
};

bool window_size(std::uint16_t& rows, std::uint16_t& cols) {
  winsize ws{};
  for (int fd : {STDOUT_FILENO, STDIN_FILENO})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
      rows = ws.ws_row;
      cols = ws.ws_col;
      return true;
    }
  return false;
}

// Writes all of `data` to a local descriptor. Blocking on purpose: when our
// stdout is slow, not reading further output is what makes the guest
// command wait (flow control end to end).
void write_local(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n < 0) throw std::system_error(errno, std::generic_category(), "writing output");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

awaitable<void> print_output(tether::exec::process& p) {
  while (auto chunk = co_await p.read())
    write_local(chunk->which == tether::exec::stream_id::err ? STDERR_FILENO : STDOUT_FILENO, chunk->bytes);
}

awaitable<void> copy_stdin(tether::exec::process& p) {
  struct stat st{};
  const bool pollable = ::fstat(STDIN_FILENO, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
  std::string buf(256 * 1024, '\0');
  if (pollable) {
    asio::posix::stream_descriptor in(co_await asio::this_coro::executor, ::dup(STDIN_FILENO));
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = co_await in.async_read_some(asio::buffer(buf), asio::redirect_error(tether::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
      if (ec) break;
      co_await p.write(std::string_view(buf.data(), n));
    }
  } else {
    // Regular files cannot be polled; their reads do not block for long.
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (n <= 0) break;
      co_await p.write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
  }
  p.close_stdin();
}

// Our stdin to the command's. Never completes by itself: the command's
// output (print_output) decides the end, also when the command stopped
// taking input before we had sent all of ours.
awaitable<void> forward_stdin(tether::exec::process& p, bool enabled) {
  auto ex = co_await asio::this_coro::executor;
  if (enabled) {
    try {
      co_await copy_stdin(p);
    } catch (const tether::error&) {
      // The call no longer takes input; print_output reports how it ended.
    }
  }
  asio::steady_timer forever(ex, asio::steady_timer::time_point::max());
  co_await forever.async_wait(tether::use_awaitable);
}

void print(const tether::exec::captured& c) {
  const auto& r = c.result;
  boost::json::object o{{"pid", r.pid}};
  if (r.exit_code) o.emplace("exit_code", *r.exit_code);
  if (r.signal) o.emplace("signal", *r.signal);
  o.emplace("timed_out", r.timed_out);
  o.emplace("run_time_us", r.run_time.count());
  o.emplace("stdout", c.out);
  o.emplace("stderr", c.err);
  o.emplace("stdout_truncated", c.out_truncated);
  o.emplace("stderr_truncated", c.err_truncated);
  json::print(o);
}

int final_status(const tether::exec::exit_result& r, const tether::exec::options& o) {
  if (r.timed_out) {
    std::cerr << "tetherctl: exec: '" << o.argv[0] << "' timed out after "
              << static_cast<double>(o.timeout.count()) / 1000 << " s; its process group was terminated\n";
    return exit_timed_out;
  }
  return r.status();
}

awaitable<int> run_exec_checked(context& ctx, exec_args& a) {
  if (ctx.global.json) {
    auto c = co_await tether::exec::run(ctx.client, a.opts, {}, {ctx.global.timeout});
    print(c);
    co_return c.result.timed_out ? exit_timed_out : c.result.status();
  }

  raw_terminal term;
  if (a.opts.tty) {
    window_size(a.opts.tty_rows, a.opts.tty_cols);
    if (::isatty(STDIN_FILENO)) term.enable();
  }
  auto p = co_await tether::exec::process::start(ctx.client, a.opts, {ctx.global.timeout});

  // Without a terminal, our SIGINT/SIGTERM/SIGHUP go to the command's
  // group; a third one gives up and has the agent kill it. With a terminal
  // in raw mode, ^C is just a byte for the remote terminal.
  auto ex = co_await asio::this_coro::executor;
  asio::signal_set signals(ex, SIGINT, SIGTERM, SIGHUP);
  if (a.opts.tty) signals.add(SIGWINCH);
  int forwarded = 0;
  std::function<void()> arm = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGWINCH) {
        std::uint16_t rows = 0, cols = 0;
        if (window_size(rows, cols))
          asio::co_spawn(ex, p.resize(rows, cols), asio::detached);
      } else if (++forwarded >= 3) {
        p.cancel();
      } else {
        asio::co_spawn(ex, p.signal(sig, {.group = true}), asio::detached);
      }
      arm();
    });
  };
  arm();
  struct stop_signals {
    asio::signal_set& s;
    ~stop_signals() {
      boost::system::error_code ignored;
      s.cancel(ignored);
    }
  } stop{signals};

  if (auto failure = co_await tether::first_to_end(print_output(p), forward_stdin(p, a.forward_stdin)))
    std::rethrow_exception(failure);
  const auto r = co_await p.wait();
  co_return final_status(r, a.opts);
}

awaitable<int> run_exec(context& ctx, exec_args a) {
  if (a.opts.tty && ::isatty(STDIN_FILENO)) a.forward_stdin = true;
  a.opts.stdin = a.forward_stdin;
  try {
    co_return co_await run_exec_checked(ctx, a);
  } catch (const tether::error& e) {
    // Not the command's status: tetherctl's own failure (ssh's convention).
    std::cerr << "tetherctl: exec: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "tetherctl: exec: " << e.what() << "\n";
  }
  co_return exit_exec_failed;
}

}  // namespace

void add_exec(command_table& t) {
  auto a = std::make_shared<exec_args>();
  auto* app = t.add("exec", "run a command in the guest; its output streams live; exits with its status",
                    [a](context& c) { return run_exec(c, *a); });
  auto& o = a->opts;
  // The first word that is not an option starts the command: its own
  // options stay its own, with or without "--".
  app->positionals_at_end();
  app->add_option("COMMAND", o.argv, "the command and its arguments (looked up in the guest's PATH)")
      ->required()
      ->type_name("");
  app->add_option("-e,--env", o.env, "KEY=VALUE sets, KEY unsets a variable (repeatable)")
      ->allow_extra_args(false)
      ->type_name("K=V");
  app->add_flag("--clear-env", o.clear_env, "start from an empty environment");
  app->add_option("--cwd", o.cwd, "working directory (default /, or the user's home with --user)")
      ->type_name("DIR");
  app->add_option("-u,--user", o.user, "run as this user (name or uid)")->type_name("USER");
  app->add_option("-g,--group", o.group, "with this group (name or gid)")->type_name("GROUP");
  add_duration(app, "--timeout", o.timeout,
               "stop the command after TIME: SIGTERM to its process group, SIGKILL after --kill-grace; "
               "exit status 124");
  add_duration(app, "--kill-grace", o.kill_grace, "from SIGTERM to SIGKILL on --timeout (default 2s)");
  app->add_flag("-t,--tty", o.tty, "a pseudo-terminal; the window size follows ours (implies -i on a terminal)");
  app->add_flag("-i,--stdin", a->forward_stdin, "our stdin becomes the command's (default: /dev/null)");
  app->add_flag("--merge-stderr", o.merge_stderr, "its stderr into its stdout");
  app->add_flag("--keep-running", o.keep_running, "let it run on if tetherctl is interrupted or disconnected");
  app->footer(
      "Exit status: the command's (128+N if signal N killed it), 124 on --timeout, 255 if it\n"
      "could not be run (e.g. not found) or tetherctl failed while it ran.\n"
      "--json (global): capture the output and print one object: pid, exit_code or signal,\n"
      "timed_out, run_time_us, stdout, stderr (strings, or {\"base64\": ...} if not UTF-8),\n"
      "stdout_truncated, stderr_truncated.\n"
      "Without a terminal, SIGINT/SIGTERM/SIGHUP go to the command's process group; a third\n"
      "one has the agent kill it.");
}

}  // namespace tetherctl
