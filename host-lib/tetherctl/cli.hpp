// tetherctl's shared pieces: global options, exit codes, argument helpers.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tether/client.hpp"
#include "tether/common/asio.hpp"

namespace tetherctl {

namespace asio = tether::asio;
using tether::awaitable;

enum exit_code : int {
  exit_ok = 0,
  exit_remote_error = 1,  // the guest answered with an error
  exit_usage = 2,
  exit_connection = 3,    // cannot reach the agent, or timed out
};

class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct global_options {
  std::string socket;
  std::chrono::milliseconds timeout{30'000};
  bool json = false;
};

// What a command gets: its arguments (after the command name) and a client.
struct context {
  global_options global;
  std::vector<std::string> args;
  tether::client& client;
};

struct command {
  std::string name;
  std::string synopsis;  // one line for --help
  std::function<awaitable<int>(context&)> run;
  // False for commands that do not talk to the agent (e.g. qmp): no
  // --socket needed.
  bool needs_socket = true;
};

// Commands register themselves from their own files.
std::vector<command>& commands();
struct register_command {
  explicit register_command(command c) { commands().push_back(std::move(c)); }
};

// Small argument helpers.
long long parse_int(const std::string& flag, const std::string& value, long long min, long long max);
double parse_seconds(const std::string& flag, const std::string& value);
// Pops the value of a flag at args[i] ("--x V" or "--x=V"); advances i.
std::string flag_value(const std::vector<std::string>& args, std::size_t& i);
bool is_flag(const std::string& arg, const std::string& name);
// JSON string literal.
std::string json_quote(std::string_view s);

}  // namespace tetherctl
