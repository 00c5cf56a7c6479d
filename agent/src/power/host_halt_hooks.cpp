#include "power/host_halt_hooks.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "exec/child_process.hpp"
#include "exec/command_setup.hpp"
#include "exec/spawn.hpp"
#include "log.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/race.hpp"

namespace tether::agent::power {

using stream_descriptor = asio::posix::stream_descriptor;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Names run-parts would not run either: editor backups, package manager
// leftovers, hidden files.
const char* leftover_reason(const std::string& name) {
  if (name.starts_with(".")) return "hidden file";
  if (name.ends_with("~")) return "backup file";
  for (const char* s : {".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-tmp", ".dpkg-bak", ".ucf-old",
                        ".ucf-new", ".ucf-dist", ".rpmsave", ".rpmnew", ".disabled"})
    if (name.ends_with(s)) return "package manager leftover or disabled";
  return nullptr;
}

// Reads the hook's output and logs it line by line. Lives in a shared_ptr:
// the reader may outlive run_hook's wait by a little (output that was still
// in the pipe when the hook exited).
struct output_logger : std::enable_shared_from_this<output_logger> {
  output_logger(const asio::any_io_executor& ex, int fd, std::string hook_name, std::string label,
                std::size_t max_line)
      : pipe(ex, fd), name(std::move(hook_name)), label(std::move(label)), max(max_line), finished(ex) {}

  stream_descriptor pipe;
  std::string name;
  std::string label;
  std::size_t max;
  std::string partial;
  bool done = false;
  async_event finished;

  void line(std::string_view l) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    log::notice("{} {}: {}", label, name, l);
  }

  // Empty lines are not logged.
  void flush_partial() {
    if (!partial.empty()) line(partial);
    partial.clear();
  }

  void feed(std::string_view chunk) {
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      auto piece = chunk.substr(0, nl);
      while (!piece.empty()) {
        const auto take = std::min(piece.size(), max - partial.size());
        partial.append(piece.substr(0, take));
        piece.remove_prefix(take);
        if (partial.size() >= max) flush_partial();
      }
      if (nl == std::string_view::npos) break;
      flush_partial();
      chunk.remove_prefix(nl + 1);
    }
  }

  static awaitable<void> pump(std::shared_ptr<output_logger> self) {
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = co_await self->pipe.async_read_some(asio::buffer(buf),
                                                                asio::redirect_error(use_awaitable, ec));
      if (ec) break;  // EOF (every writer closed), or closed by run_hook
      self->feed(std::string_view(buf, n));
    }
    self->flush_partial();
    self->done = true;
    self->finished.notify_all();
  }
};

}  // namespace

hook_list find_hooks(const std::string& dir) {
  hook_list out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return out;
    throw std::system_error(errno, std::generic_category(), "cannot read the host-halt directory " + dir);
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (const char* why = leftover_reason(name)) {
      out.skipped.push_back(name + ": " + why);
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(d.get()), name.c_str(), &st, 0) != 0) {
      out.skipped.push_back(name + ": " + std::strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
      out.skipped.push_back(name + ": not a regular file");
    } else if ((st.st_mode & 0111) == 0) {
      out.skipped.push_back(name + ": not executable");
    } else {
      out.run.push_back(name);
    }
  }
  return out;
}

awaitable<hook_result> run_hook(const std::string& dir, const std::string& name, const hook_options& opts) {
  auto ex = co_await asio::this_coro::executor;
  hook_result result;
  exec::spawn_spec spec;
  spec.path = dir + "/" + name;
  spec.argv.push_back(spec.path);
  spec.argv.insert(spec.argv.end(), opts.args.begin(), opts.args.end());
  spec.env = exec::inherited_environment();
  exec::apply_env_edits(spec.env, opts.env);
  spec.cwd = "/";
  spec.merge_stderr = true;

  const auto started = steady_clock::now();
  exec::spawned sp;
  try {
    sp = exec::spawn(spec);
  } catch (const std::system_error& e) {
    result.error = e.what();
    co_return result;
  }
  auto proc = exec::child_process::adopt(ex, sp.pid, std::move(sp.pidfd), started);
  auto out = std::make_shared<output_logger>(ex, sp.out.release(), name, opts.label, std::max<std::size_t>(opts.max_line, 1));
  asio::co_spawn(ex, output_logger::pump(out), asio::detached);

  // Ends the hook's group when we leave: early (cancelled, the agent
  // stops), or with processes the hook left behind.
  struct guard {
    std::shared_ptr<exec::child_process> p;
    milliseconds grace;
    bool terminated = false;
    ~guard() {
      if (!terminated && (!p->exited() || p->group_alive())) p->terminate(grace);
    }
  } kill_on_exit{proc, opts.kill_grace};

  const bool exited = co_await with_timeout(proc->wait_exit(), opts.time_limit);
  if (!exited) {
    result.timed_out = true;
    log::warning("{} {} still runs after {} ms: terminating it", opts.label, name, opts.time_limit.count());
    proc->terminate(opts.kill_grace);
    kill_on_exit.terminated = true;
    // SIGKILL follows the grace; a process stuck in the kernel may still
    // not go, so this wait is bounded too.
    co_await with_timeout(proc->wait_exit(), opts.kill_grace + std::chrono::seconds(5));
  }
  result.run_time = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  if (proc->exited()) {
    result.exit_code = proc->status().code;
    result.signal = proc->status().signal;
  }
  // Output still in the pipe: read it, unless something the hook left
  // running holds the pipe open.
  if (!out->done) {
    co_await with_timeout(out->finished.wait(), milliseconds(500));
    boost::system::error_code ignored;
    out->pipe.close(ignored);
  }
  co_return result;
}

}  // namespace tether::agent::power
