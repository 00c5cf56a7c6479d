// Runs a blocking job (fsync, recursive removal: calls that may take long)
// on a worker thread and returns its errno (0 on success), so the event loop
// never waits for a disk.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "tether/common/asio.hpp"

namespace tether::agent::files {

awaitable<int> off_loop(asio::thread_pool& pool, std::function<int()> job);

}  // namespace tether::agent::files
