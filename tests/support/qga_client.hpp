// A minimal qemu-guest-agent client (JSON over the chardev socket of the
// org.qemu.guest_agent.0 port), for side-by-side comparisons and for looking
// into a guest without going through tether. One request at a time, like
// qemu-ga itself; every read has a deadline.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <chrono>
#include <string>
#include <vector>

namespace tether::test {

class qga_client {
 public:
  // Connects and synchronises with guest-sync-delimited (discarding stale
  // bytes), retrying until `within` passes: the guest agent may start late.
  qga_client(const std::string& socket_path, std::chrono::milliseconds within = std::chrono::seconds(60));
  ~qga_client();
  qga_client(const qga_client&) = delete;
  qga_client& operator=(const qga_client&) = delete;

  // Sends {"execute": cmd, "arguments": args_json} and returns the "return"
  // value; throws std::runtime_error with qemu-ga's error description.
  google::protobuf::Value execute(const std::string& cmd, const std::string& args_json = "{}",
                                  std::chrono::milliseconds within = std::chrono::seconds(30));

  // Sends one request as written (a line) and returns the reply line as
  // sent, without the 0xFF of a guest-sync-delimited reply: for tests that
  // compare replies, errors included.
  std::string request(const std::string& text, std::chrono::milliseconds within = std::chrono::seconds(30));

  struct exec_result {
    int exit_code = -1;
    std::string out, err;
  };
  // guest-exec + guest-exec-status polling (qemu-ga offers nothing better),
  // with `poll_interval` between status queries.
  exec_result exec(const std::vector<std::string>& argv,
                   std::chrono::milliseconds within = std::chrono::seconds(60),
                   std::chrono::microseconds poll_interval = std::chrono::milliseconds(1));
  // A guest file's bytes (cat through guest-exec); throws std::runtime_error
  // when it cannot be read.
  std::string read_file(const std::string& path);
  // How many guest-exec-status polls the last exec() needed.
  int last_exec_polls() const { return last_polls_; }

 private:
  void connect_and_sync(const std::string& path, std::chrono::steady_clock::time_point deadline);
  std::string read_line(std::chrono::steady_clock::time_point deadline);
  void send_all(const std::string& s);

  int fd_ = -1;
  std::string buf_;
  int last_polls_ = 0;
};

std::string base64_decode(const std::string& in);
std::string base64_encode(const std::string& in);
std::string json_quote(const std::string& s);

}  // namespace tether::test
