// The single writer of a connection (one per connection, as in Asio's
// chat_server): producers enqueue encoded frames, run() drains them in
// batches. Control frames (hello, responses, credits, cancels) go ahead of
// bulk data so a long transfer never delays a ping by more than one batch.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "tether/common/async_event.hpp"
#include "tether/common/byte_stream.hpp"
#include "tether/v1/frame.pb.h"

namespace tether {

class frame_writer {
 public:
  enum class lane { control, bulk };

  frame_writer(const asio::any_io_executor& ex, std::size_t max_batch_bytes = 256 * 1024);

  void send(const v1::Frame& frame, lane l = lane::control);
  void send_raw(std::string bytes, lane l = lane::control);
  // A frame of `head` then `tail`, where `tail` stays in the sender's buffer
  // (no copy): `owner` keeps it alive and unchanged until the frame has
  // been written or dropped, then the writer lets go of it.
  void send_shared(std::string head, std::string_view tail, std::shared_ptr<const void> owner,
                   lane l = lane::bulk);
  // Frame kinds that carry payload data travel in the bulk lane.
  static lane lane_for(const v1::Frame& frame);

  std::size_t queued_bytes() const noexcept { return queued_; }
  // Waits until fewer than `limit` control bytes are queued. Bulk data is
  // already bounded by credits; control frames answer requests, so a reader
  // that waits here stops a peer that floods requests but never reads.
  awaitable<void> wait_control_below(std::size_t limit);
  // Waits until fewer than `limit` bytes of any kind are queued (a sender of
  // many streams at once lets the writer catch up).
  awaitable<void> wait_queued_below(std::size_t limit);

  // How many frames were ever queued in lane `l`: a position to pass to
  // wait_written() for "everything queued so far".
  std::uint64_t queued_position(lane l) const noexcept { return queued_frames_[index(l)]; }
  // Waits until the frames of lane `l` up to `position` left the queue:
  // written to the stream, or dropped by clear(). False if the writer
  // stopped first (connection gone).
  awaitable<bool> wait_written(lane l, std::uint64_t position);

  // Writes until stop() or a write error (thrown).
  awaitable<void> run(io::byte_stream& stream);
  void stop();
  // Drops everything queued (a new session must not see the old one's frames).
  void clear();

 private:
  static constexpr std::size_t index(lane l) { return l == lane::control ? 0 : 1; }

  struct queued {
    std::string head;
    std::string_view tail;
    std::shared_ptr<const void> owner;  // of tail's bytes
    std::size_t size() const noexcept { return head.size() + tail.size(); }
  };
  void push(queued q, lane l);

  std::deque<queued> control_, bulk_;
  // Per lane, counted in frames: ever queued; taken for writing (or
  // cleared); gone (written or cleared). Positions for wait_written().
  std::uint64_t queued_frames_[2] = {0, 0};
  std::uint64_t taken_frames_[2] = {0, 0};
  std::uint64_t done_frames_[2] = {0, 0};
  std::size_t queued_ = 0;
  std::size_t control_queued_ = 0;
  std::size_t max_batch_;
  bool stopped_ = false;
  async_event has_data_;
  async_event drained_;
};

}  // namespace tether
