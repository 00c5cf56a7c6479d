// tether-agent's QGA replies side by side with the real qemu-ga's: the same
// request to both, the replies compared (same keys, same JSON types, same
// error classes and messages, equal values except at the paths a test calls
// volatile). The loopback comparison (both agents on this machine) and the
// VM one (both in one guest, on two virtio ports) share it.
#pragma once

#include <boost/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "support/qga_client.hpp"

namespace tether::test {

// Differences between the reference reply `a` and tether's `b`, by path
// (".return.statistics.rx-bytes"; array elements as "[]"). Paths in `loose`
// are compared by type only (an array's length too).
std::vector<std::string> qga_diff(const boost::json::value& a, const boost::json::value& b,
                                  const std::set<std::string>& loose = {});

// The paths of `command`'s reply whose values move between two requests
// (counters: guest-get-cpustats, guest-get-diskstats,
// guest-network-get-interfaces), for qga_diff's `loose`.
std::set<std::string> qga_counter_paths(const std::string& command);

class qga_pair {
 public:
  qga_pair(qga_client& reference, qga_client& tether) : qemu_ga_(reference), tether_(tether) {}

  struct replies {
    boost::json::value qemu_ga, tether;
  };

  replies ask_both(const std::string& a_text, const std::string& b_text);
  // Sends the request to both and expects the same reply (see qga_diff).
  replies expect_same(const std::string& text, const std::set<std::string>& loose = {});
  // The same request, worded for each agent (its own handle or pid).
  replies expect_same_replies(const std::string& a_text, const std::string& b_text,
                              const std::set<std::string>& loose = {});
  // `cmd` on the handle each agent returned in `opened`, with the further
  // arguments `rest` (",\"count\":5").
  void on_handles(const replies& opened, const std::string& cmd, const std::string& rest);
  // guest-exec on both, then guest-exec-status until both report the end
  // (within `limit`); the final replies compared, then the pid unknown to both.
  void expect_same_exec(const std::string& exec_args, std::chrono::seconds limit = std::chrono::seconds(20));
  // The counters commands (qga_counter_paths), compared by type and shape.
  void expect_same_counters();

  // guest-info from both: the entries of the commands both list must be
  // equal; returns the names only one of them lists.
  struct command_lists {
    std::set<std::string> only_tether, only_qemu_ga;
  };
  command_lists compare_guest_info();

 private:
  qga_client& qemu_ga_;
  qga_client& tether_;
};

}  // namespace tether::test
