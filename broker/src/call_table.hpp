// The broker's call ids: every client numbers its calls from its own counter,
// the guest session sees one id space. Each client call gets a fresh guest id
// (never reused within a broker run), so two clients' calls never collide
// and a client can only name its own calls: a Cancel, Credit or StreamData
// for an id it did not open is not found and is dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace tether::broker {

class call_table {
 public:
  using client_key = std::uint64_t;

  struct route {
    client_key client = 0;
    std::uint64_t client_id = 0;
    // Streams (below 32) on which the guest has sent data: the first data
    // of each gets the client's extra credit (stream_windows below).
    std::uint32_t streams_seen = 0;
    // Data or events of the call went to the client in the bulk lane: its
    // Response must follow them there, not overtake them (as in the agent).
    bool sent_bulk = false;
  };

  // A new call of `client`: its guest id, or nullopt when the client already
  // runs a call with that id.
  std::optional<std::uint64_t> open(client_key client, std::uint64_t client_id);
  // The guest id of a running call of `client`.
  std::optional<std::uint64_t> to_guest(client_key client, std::uint64_t client_id) const;
  // Where a guest frame for `guest_id` goes; null when the call is unknown
  // (its client went away, or the guest sent a bogus id).
  route* from_guest(std::uint64_t guest_id);
  // The call ended (its Response went to the client).
  void close(std::uint64_t guest_id);
  // The client went away: forgets its calls, returns their guest ids (to cancel).
  std::vector<std::uint64_t> drop_client(client_key client);
  std::size_t calls_of(client_key client) const;
  std::size_t size() const noexcept { return routes_.size(); }
  void clear();

  // True the first time the guest sends data on `stream` of this call.
  static bool first_data(route& r, std::uint32_t stream);

 private:
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, route> routes_;  // by guest id
  std::map<client_key, std::map<std::uint64_t, std::uint64_t>> by_client_;  // client id -> guest id
};

// How the broker bridges stream windows. The agent sends a stream's first
// bytes against the window the broker announced in its own Hello (the
// smallest any client may have); a client announced its own, larger one.
// On a stream's first data the broker grants the agent the difference, so
// from then on the agent's credit equals what the client allows, and every
// later Credit of the client passes through unchanged.
struct stream_windows {
  std::uint32_t announced_to_guest;  // the broker's Hello to the agent
  std::uint32_t client;              // the client's Hello (>= announced_to_guest)
  std::uint64_t extra() const noexcept { return client > announced_to_guest ? client - announced_to_guest : 0; }
};

}  // namespace tether::broker
