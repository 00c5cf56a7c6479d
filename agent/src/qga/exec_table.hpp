// Commands started by guest-exec, until guest-exec-status has reported
// their end (qemu-ga's model: the host polls). Output is kept in memory up
// to qemu-ga's 16 MiB per stream; more is read and dropped, and reported as
// truncated. Unlike qemu-ga, a command whose pipes stay open after it exited
// (a daemon it started holds them) is reported once it exited and its
// output had a moment to drain, not never; and the table is bounded.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "exec/command_setup.hpp"
#include "qga/protocol.hpp"
#include "tether/common/asio.hpp"

namespace tether::agent::qga {

struct exec_capture {
  bool out = false, err = false;
  bool merged = false;  // stderr into the out stream
};

class exec_table {
 public:
  static constexpr std::size_t max_output = 16u << 20;  // per stream, qemu-ga's GUEST_EXEC_MAX_OUTPUT
  static constexpr std::size_t max_entries = 1024;      // started, status not yet collected

  explicit exec_table(const asio::any_io_executor& ex) : ex_(ex) {}
  ~exec_table();

  // Starts `req` (argv, env) and returns its pid. `input` goes to stdin,
  // which is closed after it (/dev/null without input). Throws call_error.
  std::int64_t start(const v1::ExecRequest& req, const exec::exec_policy& policy,
                     std::optional<std::string> input, exec_capture capture);

  // guest-exec-status's reply; forgets the command once it reported the end.
  // Throws qga_error "Invalid parameter 'pid'" for a pid it does not hold.
  json::value status(std::int64_t pid);

  struct entry;

 private:
  asio::any_io_executor ex_;
  std::map<std::int64_t, std::shared_ptr<entry>> entries_;
};

}  // namespace tether::agent::qga
