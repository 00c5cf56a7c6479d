// One local client of a guest's socket: its own handshake (answered with the
// guest's Hello facts once the guest's session is up), its frames checked
// and handed to the hub, and the hub's frames written back by its own
// frame_writer. Everything it sends is untrusted: bad frames get the agent's
// answers (Error frames), never a crash; its reads pause while its replies
// or the guest's queue pile up.
#pragma once

#include <memory>
#include <string>

#include "peer_cred.hpp"
#include "tether/common/frame_writer.hpp"
#include "tether/common/unix_stream.hpp"
#include "tether/wire/codec.hpp"

namespace tether::broker {

class guest_hub;

class client_link : public std::enable_shared_from_this<client_link> {
 public:
  client_link(std::shared_ptr<guest_hub> hub, std::uint64_t key, asio::local::stream_protocol::socket s,
              peer_cred cred);

  // Serves the client until it goes away or close(); then tells the hub.
  awaitable<void> run();
  void close();

  std::uint64_t key() const noexcept { return key_; }
  bool established() const noexcept { return established_; }
  // The client's Hello: its stream window and largest frame.
  std::uint32_t stream_window() const noexcept { return stream_window_; }
  std::uint32_t max_frame_size() const noexcept { return max_frame_size_; }
  // "guest web1, client 3 (pid 1234 uid 1000 gid 1000)", for the log.
  const std::string& describe() const noexcept { return description_; }

  // A frame for this client, in `lane` (default: by its kind); disconnects
  // the client when too much is queued.
  void send(const v1::Frame& f);
  void send(const v1::Frame& f, frame_writer::lane lane);
  // The guest's session is up: answer a waiting Hello.
  void on_guest_up();

 private:
  awaitable<void> read_loop();
  awaitable<void> pace();
  void handle(wire::frame_decoder::item& item);
  void on_hello(const v1::Hello& h);
  void answer_hello();
  void send_error(v1::ErrorCode code, const std::string& message);

  std::shared_ptr<guest_hub> hub_;
  std::uint64_t key_;
  peer_cred cred_;
  std::string description_;
  io::unix_stream stream_;
  frame_writer writer_;
  wire::frame_decoder decoder_;
  std::string nonce_;  // of the Hello waiting for an answer
  bool hello_waiting_ = false;
  bool established_ = false;
  bool closed_ = false;
  std::uint32_t stream_window_ = 0;
  std::uint32_t max_frame_size_ = wire::default_max_frame_size;
};

}  // namespace tether::broker
