// Running commands in the guest (service "exec").
//
// Streaming:
//   auto p = co_await tether::exec::process::start(guest, {.argv = {"journalctl", "-f"}});
//   while (auto chunk = co_await p.read()) write(chunk->which, chunk->bytes);
//   auto result = co_await p.wait();
//
// Run to completion, capturing output up to a limit:
//   auto r = co_await tether::exec::run(guest, {.argv = {"uname", "-a"}});
//   if (r.result.exit_code == 0) std::cout << r.out;
//
// Output arrives as the command produces it, under flow control: a caller
// that reads slowly makes the command block on its output pipe in the
// guest. The command runs in its own process group; on timeout, cancel or a
// lost connection the agent terminates the group (SIGTERM, then SIGKILL).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether {
class blocking_client;
}  // namespace tether

namespace tether::exec {

using std::chrono::microseconds;

struct options {
  std::vector<std::string> argv;  // argv[0] is looked up in the guest's PATH
  // "KEY=VALUE" sets, "KEY" unsets; applied to the agent's environment, or
  // to an empty one with clear_env.
  std::vector<std::string> env;
  bool clear_env = false;
  std::string cwd;    // empty: "/" (the user's home with `user`)
  std::string user;   // name or uid; empty: the agent's user (root)
  std::string group;  // name or gid; empty: the user's primary group
  bool tty = false;   // pseudo-terminal; all output comes as stdout
  std::uint16_t tty_rows = 0, tty_cols = 0;  // 0: 24x80
  bool stdin = false;  // send stdin with write(); otherwise /dev/null
  bool merge_stderr = false;
  milliseconds timeout{0};     // 0: none; the agent kills the group after it
  milliseconds kill_grace{0};  // SIGTERM -> SIGKILL; 0: 2 s
  bool keep_running = false;   // survive cancel and lost connections
};

struct exit_result {
  int pid = 0;
  std::optional<int> exit_code;  // set when the command exited
  std::optional<int> signal;     // set when a signal killed it
  bool core_dumped = false;
  bool timed_out = false;  // options.timeout fired; the group was terminated
  microseconds run_time{0};
  microseconds user_cpu{0}, system_cpu{0};
  std::uint64_t max_rss_kib = 0;

  // As a shell reports it: the exit code, or 128 + signal.
  int status() const noexcept { return exit_code ? *exit_code : 128 + signal.value_or(0); }
};

enum class stream_id : std::uint32_t { out = 1, err = 2 };

struct output_chunk {
  stream_id which = stream_id::out;
  std::string bytes;
};

struct signal_options {
  bool group = false;  // signal the command's whole process group
};

class process {
 public:
  // Starts the command. `call` bounds reaching the agent and starting; the
  // command then runs until it ends (options.timeout), is cancelled, or the
  // process object is destroyed. Throws tether::error: NOT_FOUND for an
  // unknown command, user or working directory, DISABLED_BY_CONFIG, ...
  static boost::asio::awaitable<process> start(client& guest, options opts, call_options call = {});

  process(process&&) noexcept;
  process& operator=(process&&) noexcept;
  ~process();  // cancels the command if it still runs

  std::uint64_t call_id() const noexcept;

  // Next piece of output; nullopt once stdout and stderr have both ended.
  boost::asio::awaitable<std::optional<output_chunk>> read();
  // Feeds stdin (options.stdin must be set); waits for the agent's credit.
  boost::asio::awaitable<void> write(std::string_view data);
  void close_stdin();
  // Sends a signal to the command (or its whole process group).
  boost::asio::awaitable<void> signal(int sig, signal_options opts = {}, call_options call = {});
  // New terminal size (options.tty).
  boost::asio::awaitable<void> resize(std::uint16_t rows, std::uint16_t cols, call_options call = {});
  // Waits for the end, discarding output not read yet.
  boost::asio::awaitable<exit_result> wait();
  // Asks the agent to stop the command; wait() then throws CANCELLED.
  void cancel();

 private:
  process(client& guest, std::unique_ptr<call_stream> call);
  client* guest_;
  std::unique_ptr<call_stream> call_;
};

struct captured {
  exit_result result;
  std::string out, err;
  // Output beyond output_limit was read and dropped.
  bool out_truncated = false, err_truncated = false;
};

struct run_options {
  // Output kept per stream; more is read and dropped (captured::*_truncated).
  std::size_t output_limit = 16u << 20;
  // Fed to the command's stdin while its output is read (options.stdin is
  // implied); unset: stdin is /dev/null unless options.stdin.
  std::optional<std::string> input;
};

// Runs a command to completion, capturing its output. `call` as in
// process::start.
boost::asio::awaitable<captured> run(client& guest, options opts, run_options run = {}, call_options call = {});

// Blocking forms (blocking_client.hpp): run(), and a process whose calls
// block (as subprocess.Popen's do).
captured run(blocking_client& guest, options opts, run_options run = {}, call_options call = {});

class blocking_process {
 public:
  // Starts the command as process::start() does.
  static blocking_process start(blocking_client& guest, options opts, call_options call = {});

  std::uint64_t call_id() const noexcept { return process_.call_id(); }
  std::optional<output_chunk> read();
  void write(std::string_view data);
  void close_stdin() { process_.close_stdin(); }
  void signal(int sig, signal_options opts = {}, call_options call = {});
  void resize(std::uint16_t rows, std::uint16_t cols, call_options call = {});
  exit_result wait();
  void cancel() { process_.cancel(); }
  // The asynchronous process.
  process& async() noexcept { return process_; }

 private:
  blocking_process(blocking_client& guest, process p) : guest_(&guest), process_(std::move(p)) {}
  blocking_client* guest_;
  process process_;
};

}  // namespace tether::exec
