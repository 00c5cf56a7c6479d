#include "tether/common/frame_writer.hpp"

#include <vector>

#include "tether/wire/codec.hpp"

namespace tether {

namespace {
// virtio_console has no writev of its own: the kernel turns each buffer of
// a gathered write into one write(2), one virtqueue buffer and one host
// notification (and caps each at 32 KiB). Batches up to this size are
// joined into one buffer first, so a reply and its stream ends cost one.
constexpr std::size_t join_below = 32 * 1024;
}  // namespace

frame_writer::frame_writer(const asio::any_io_executor& ex, std::size_t max_batch_bytes)
    : max_batch_(max_batch_bytes), has_data_(ex), drained_(ex) {}

frame_writer::lane frame_writer::lane_for(const v1::Frame& frame) {
  return frame.has_data() || frame.has_event() ? lane::bulk : lane::control;
}

void frame_writer::send(const v1::Frame& frame, lane l) {
  std::string bytes;
  wire::append_frame(bytes, frame);
  send_raw(std::move(bytes), l);
}

void frame_writer::send_raw(std::string bytes, lane l) { push({.head = std::move(bytes)}, l); }

void frame_writer::send_shared(std::string head, std::string_view tail, std::shared_ptr<const void> owner,
                               lane l) {
  push({.head = std::move(head), .tail = tail, .owner = std::move(owner)}, l);
}

void frame_writer::push(queued q, lane l) {
  if (stopped_) return;
  queued_ += q.size();
  if (l == lane::control) control_queued_ += q.size();
  ++queued_frames_[index(l)];
  (l == lane::control ? control_ : bulk_).push_back(std::move(q));
  has_data_.notify_all();
}

awaitable<void> frame_writer::wait_control_below(std::size_t limit) {
  while (control_queued_ >= limit && !stopped_) co_await drained_.wait();
}

awaitable<void> frame_writer::wait_queued_below(std::size_t limit) {
  while (queued_ >= limit && !stopped_) co_await drained_.wait();
}

awaitable<bool> frame_writer::wait_written(lane l, std::uint64_t position) {
  for (;;) {
    if (done_frames_[index(l)] >= position) co_return true;
    if (stopped_) co_return false;
    co_await drained_.wait();
  }
}

void frame_writer::stop() {
  stopped_ = true;
  has_data_.notify_all();
  drained_.notify_all();
}

void frame_writer::clear() {
  control_.clear();
  bulk_.clear();
  // Dropped frames count as done; a batch being written keeps its place.
  for (std::size_t i : {0, 1}) done_frames_[i] = taken_frames_[i] = queued_frames_[i];
  queued_ = 0;
  control_queued_ = 0;
  drained_.notify_all();
}

awaitable<void> frame_writer::run(io::byte_stream& stream) {
  std::vector<queued> batch;
  std::vector<asio::const_buffer> bufs;
  std::string joined;
  while (!stopped_) {
    if (control_.empty() && bulk_.empty()) {
      co_await has_data_.wait();
      continue;
    }
    // Control first, then bulk up to the batch size.
    std::size_t bytes = 0;
    batch.clear();
    auto take = [&](std::deque<queued>& q, std::uint64_t& count) {
      std::size_t taken = 0;
      while (!q.empty() && (batch.empty() || bytes + q.front().size() <= max_batch_)) {
        bytes += q.front().size();
        taken += q.front().size();
        ++count;
        batch.push_back(std::move(q.front()));
        q.pop_front();
      }
      return taken;
    };
    control_queued_ -= std::min(control_queued_, take(control_, taken_frames_[0]));
    take(bulk_, taken_frames_[1]);
    const std::uint64_t batch_end[2] = {taken_frames_[0], taken_frames_[1]};
    bufs.clear();
    if (batch.size() > 1 && bytes <= join_below) {
      joined.clear();
      for (auto& b : batch) (joined += b.head) += b.tail;
      bufs.emplace_back(asio::buffer(joined));
    } else {
      for (auto& b : batch) {
        bufs.emplace_back(asio::buffer(b.head));
        if (!b.tail.empty()) bufs.emplace_back(asio::buffer(b.tail));
      }
    }
    co_await stream.write_all(bufs);
    batch.clear();  // lets go of the senders' buffers at once
    queued_ -= std::min(queued_, bytes);
    for (std::size_t i : {0, 1}) done_frames_[i] = std::max(done_frames_[i], batch_end[i]);
    drained_.notify_all();
  }
}

}  // namespace tether
