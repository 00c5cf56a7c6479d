// files.Upload: the host's bytes (stream 0) into a temporary file beside the
// target, checked against the host's digest (stream 1), made durable
// (fsync of file and directory) and renamed into place; nothing is written
// under the target's name unless all of that succeeded.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <string>

#include "files/path_policy.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::files {

struct upload_threads {
  asio::thread_pool& blocking;  // fsync
  asio::thread_pool& hash;      // the checksum, beside the loop
};

// Serves one files.Upload call; returns the serialized TransferReply.
awaitable<std::string> upload(call_context& call, const path_policy& policy, upload_threads threads);

}  // namespace tether::agent::files
