// Freeze and thaw a guest's filesystems (for a consistent disk snapshot)
// through its agent's fsfreeze service. The agent has one freezer, shared
// with its QGA front end (libvirt's domfsfreeze), and thaws by itself when no
// thaw comes within its limit.
//
//   auto r = co_await tether::fsfreeze::freeze(guest);         // every filesystem
//   ... snapshot the disks ...
//   co_await tether::fsfreeze::thaw(guest);
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether {
class blocking_client;
}  // namespace tether

namespace tether::fsfreeze {

struct freeze_result {
  unsigned frozen = 0;                   // filesystems frozen
  std::chrono::milliseconds thaw_limit{0};  // the agent thaws by itself after this long
};

// Freezes `mountpoints` (empty: every filesystem on a device). Throws
// tether::error (remote FAILED_PRECONDITION when frozen already).
boost::asio::awaitable<freeze_result> freeze(client& guest, std::vector<std::string> mountpoints = {},
                                             call_options opts = {});
// Thaws; returns how many filesystems were thawed (0: none was frozen).
boost::asio::awaitable<unsigned> thaw(client& guest, call_options opts = {});
boost::asio::awaitable<bool> frozen(client& guest, call_options opts = {});

freeze_result freeze(blocking_client& guest, std::vector<std::string> mountpoints = {}, call_options opts = {});
unsigned thaw(blocking_client& guest, call_options opts = {});
bool frozen(blocking_client& guest, call_options opts = {});

}  // namespace tether::fsfreeze
