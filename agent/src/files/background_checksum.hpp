// A transfer's checksum computed on a worker thread while the event loop
// moves the next chunk: in an emulated guest hashing costs as much as the
// I/O, so doing it inline would halve throughput and hold every other call
// of the session (a ping waits behind a 64 KiB SHA-256) for milliseconds.
//
// Chunks are hashed in submission order. At most `max_pending` chunks wait
// for the worker; submit() suspends the transfer beyond that, which bounds
// the memory a fast channel and a slow hash can pin.
//
// An upload also hands the worker its file (`write_to`): each chunk is
// written there, in order, right before it is hashed, so the loop goes back
// to reading the port while the worker writes. The worker writes through
// its own duplicate of the descriptor: a job outliving the transfer writes
// into the unlinked temporary file, never into a reused descriptor number.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "tether/common/checksum.hpp"

namespace tether::agent::files {

class background_checksum {
 public:
  background_checksum(boost::asio::thread_pool& pool, boost::asio::any_io_executor loop, checksum_kind kind,
                      std::size_t max_pending = 4, int write_to = -1);
  // Jobs in flight keep the shared state alive, never this object.
  ~background_checksum() = default;

  // Queues `bytes` for hashing (and writing); `owner` keeps them alive
  // until then. Waits only while max_pending chunks are queued. Throws the
  // first failed write's std::system_error (errno).
  boost::asio::awaitable<void> submit(std::shared_ptr<const void> owner, std::string_view bytes);
  boost::asio::awaitable<void> submit(std::shared_ptr<const std::string> chunk) {
    const std::string_view bytes = *chunk;
    return submit(std::move(chunk), bytes);
  }
  // Waits for every queued chunk, then returns the raw digest (or throws
  // the first failed write's error). Call once.
  boost::asio::awaitable<std::string> finish();

 private:
  struct state;
  boost::asio::awaitable<void> wait_for_one(state& s);
  std::shared_ptr<state> state_;
  std::size_t max_pending_;
};

}  // namespace tether::agent::files
