// A hand-driven host end for protocol tests: raw bytes out, decoded frames in,
// every read with a deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tether/wire/codec.hpp"

namespace tether::test {

class raw_peer {
 public:
  explicit raw_peer(const std::string& socket_path);
  // Adopts a connected socket (an accepted connection: raw_agent).
  explicit raw_peer(int connected_fd);
  ~raw_peer();

  void send(const std::string& bytes);
  void send_frame(const v1::Frame& f);
  // Sends `bytes` while the other end keeps reading; stops once the socket
  // stayed full for `stall` (a peer that stopped reading). Returns the bytes
  // sent.
  std::size_t send_until_stalled(const std::string& bytes, std::chrono::milliseconds stall);
  // preamble + host Hello; returns the nonce used.
  std::string send_hello();
  // Next decoded item (preamble, frame or decode error), or nullopt on
  // timeout or EOF.
  std::optional<wire::frame_decoder::item> next(std::chrono::milliseconds within = std::chrono::seconds(5));
  // Next frame, skipping preambles; nullopt on timeout.
  std::optional<v1::Frame> next_frame(std::chrono::milliseconds within = std::chrono::seconds(5));

 private:
  int fd_ = -1;
  wire::frame_decoder decoder_;
};

// A frame header (magic 54 F7, u32 LE length) for hand-made frames of any
// length or content.
std::string frame_header(std::uint32_t length);

v1::Frame make_request(std::uint64_t id, const std::string& method, const std::string& payload = {});

}  // namespace tether::test
