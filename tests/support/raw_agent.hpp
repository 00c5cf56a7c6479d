// A hand-driven agent end for tests of libtether against a hostile guest:
// listens on a unix socket, answers the first connection's Hello, then runs
// a script on its own thread (blocking raw_peer calls, each with a deadline)
// while the test's io_context runs the real client.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "support/agent_process.hpp"
#include "support/raw_peer.hpp"

namespace tether::test {

class raw_agent {
 public:
  raw_agent();
  ~raw_agent();  // waits for the script (its reads time out), then removes the socket
  raw_agent(const raw_agent&) = delete;
  raw_agent& operator=(const raw_agent&) = delete;

  const std::string& socket_path() const { return socket_; }
  // Runs `script` on the first connection once its handshake is done, then
  // reads until the host hangs up.
  // A script's exception (the host hung up mid-send) ends it; what() is kept.
  void serve(std::function<void(raw_peer&)> script);
  // Waits for the script to end; its failure, or empty.
  std::string join();

 private:
  temp_dir dir_;
  std::string socket_;
  int listen_fd_ = -1;
  std::thread thread_;
  std::string failure_;
};

}  // namespace tether::test
