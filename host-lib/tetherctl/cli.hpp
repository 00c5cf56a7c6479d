// tetherctl's shared pieces: global options, exit codes, the command table
// every cmd_*.cpp adds its subcommand to, and option helpers for CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tether/client.hpp"
#include "tether/common/asio.hpp"

namespace tetherctl {

namespace asio = tether::asio;
using tether::awaitable;
using std::chrono::milliseconds;

enum exit_code : int {
  exit_ok = 0,
  exit_remote_error = 1,  // the guest answered with an error
  exit_usage = 2,
  exit_connection = 3,    // cannot reach the agent (no socket, no answer), or timed out
};

// A command line that cannot work; main prints it with a pointer to --help.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct global_options {
  std::string socket;
  // --guest NAME: the broker's socket for NAME (tether/runtime_dir.hpp).
  std::string guest;
  // A route to a nested guest (--via, repeatable): the first is a socket on
  // this host, each next one and --socket are sockets inside the previous guest.
  std::vector<std::string> via;
  // A libvirt domain by name instead of --socket (--domain), and the libvirt
  // URI to find it at (--connect; empty: libvirt's default).
  std::string domain;
  std::string connect_uri;
  milliseconds timeout{30'000};
  bool json = false;
  // Without it a socket path that does not exist fails at once (exit 3);
  // with it tetherctl waits up to --timeout for the guest's QEMU to create it.
  bool wait_for_guest = false;
};

// What a command gets when it runs.
struct context {
  const global_options& global;
  tether::client& client;
};

using run_fn = std::function<awaitable<int>(context&)>;

// The subcommands. A command file adds its subcommand with add(), binds its
// options to state its run function shares (a shared_ptr both capture), and
// puts checks CLI11 cannot express in the subcommand's callback (CLI::App::
// callback), which runs after parsing, before any connection.
class command_table {
 public:
  explicit command_table(CLI::App& root) : root_(root) {}
  enum class target { agent, none };  // none: needs no --socket (qmp, shutdown-all)
  CLI::App* add(const std::string& name, const std::string& description, run_fn run, target t = target::agent);

  struct entry {
    CLI::App* app;
    run_fn run;
    target needs;
  };
  // The command the command line chose (after root.parse()), or nullptr.
  const entry* chosen() const;

 private:
  CLI::App& root_;
  std::vector<entry> entries_;
};

// Times: a number with a unit ("500ms", "30s", "1.5m", "2h"); a bare
// number is in the option's default unit (seconds, except where an option
// took milliseconds before units existed).
struct duration_rule {
  milliseconds bare_unit{1000};
  milliseconds min{1};  // at least this (a zero time is refused by default)
  milliseconds max{std::chrono::hours(24 * 365)};
};
CLI::Option* add_duration(CLI::App* app, const std::string& name, milliseconds& into, const std::string& help,
                          duration_rule rule = {});

// CLI::Range without its text in the option's type column (help texts say
// the range where it matters).
template <typename T>
CLI::Validator in_range(T min, T max) {
  CLI::Validator v = CLI::Range(min, max);
  v.description("");
  return v;
}

// Every command: one function per command file, called in help order by main.
void add_ping(command_table&);
void add_fsfreeze(command_table&);
void add_info(command_table&);
void add_stats(command_table&);
void add_exec(command_table&);
void add_files(command_table&);
void add_devices(command_table&);
void add_power(command_table&);
void add_shutdown_all(command_table&);
void add_qmp(command_table&);

}  // namespace tetherctl
