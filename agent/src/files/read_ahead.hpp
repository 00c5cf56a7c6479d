// A download's file reads, ahead of the channel: a worker thread reads the
// next chunks (large preads into a few reused buffers) and hashes each one
// right after reading it, while the event loop frames and writes the chunk
// before. Reading, hashing and writing to the port overlap instead of taking
// turns, and the loop never waits on the disk or the hash: it only takes
// chunks that are ready.
//
// A chunk's buffer goes back to the worker when the last holder of its lease
// lets go (the connection's writer, once the frames are written): the loop
// never copies the bytes, and the buffers bound what a download holds.
//
// The worker reads in file order (one strand) and stops at the first short
// read, so the digest covers exactly the bytes next() hands out, even if the
// file grows meanwhile. The shared state (buffers, the file descriptor,
// the checksum) lives as long as a queued job needs it, not this object.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tether/common/checksum.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {

class read_ahead {
 public:
  struct options {
    std::uint64_t offset = 0;
    std::uint64_t length = UINT64_MAX;  // bytes to read at most
    std::size_t chunk = 256 * 1024;     // bytes per read and per next()
    std::size_t depth = 4;              // buffers (chunks read ahead)
  };
  read_ahead(boost::asio::thread_pool& pool, boost::asio::any_io_executor loop, unique_fd file, checksum_kind kind,
             options o);
  ~read_ahead();

  // A chunk's bytes and their buffer's lease: the buffer is read into
  // again only once every copy of `hold` is gone, so the chunk may travel
  // on (frame_writer::send_shared) without a copy.
  struct chunk {
    std::string_view bytes;
    std::shared_ptr<const void> hold;
  };
  // The next chunk in file order; empty at the end. Waits while every
  // buffer is lent out. A failed read throws std::system_error (its errno).
  boost::asio::awaitable<chunk> next();
  // Waits for the reads in flight, then returns the raw digest of every
  // byte next() handed out. Call once.
  boost::asio::awaitable<std::string> finish();

 private:
  struct state;
  struct lease;
  // Starts reads into the free buffers, within the range.
  static void schedule(const std::shared_ptr<state>& st);
  boost::asio::awaitable<void> wait_for_one();
  std::shared_ptr<state> state_;
};

}  // namespace tether::agent::files
