// The real agent session and the real host client in one process, joined by
// an in-memory stream pair: protocol tests without processes or sockets.
//
//   rig r;                                   // agent registry with "test.*"
//   auto reply = r.run(r.client->call("test.Echo", "hi", {}));
//
// memory_peer drives one side by hand (frames in, frames out) when a test needs
// to misbehave as a host or as an agent.
#pragma once

#include <gtest/gtest.h>

#include <list>
#include <memory>

#include "client_impl.hpp"
#include "session/session.hpp"
#include "support/async.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/memory_stream.hpp"
#include "tether/wire/codec.hpp"

namespace tether::test {

// Service "test": small methods that exercise the session's machinery.
class test_service final : public agent::service {
 public:
  explicit test_service(const asio::any_io_executor& ex) : changed(ex) {}
  std::string_view name() const override { return "test"; }
  void add_methods(agent::service_registry& r) override;

  // test.Block: runs until cancelled.
  int blocked = 0;          // calls in test.Block now
  int block_cancelled = 0;  // test.Block calls ended by cancellation
  // test.AfterReply: what after_reply reported, once it ran.
  std::optional<bool> reply_written;
  async_event changed;  // any of the above changed
};

// One side of a connection driven by hand.
struct memory_peer {
  explicit memory_peer(std::unique_ptr<io::memory_stream> s) : stream(std::move(s)) {}
  awaitable<void> send_bytes(std::string bytes);
  awaitable<void> send(const v1::Frame& f) { return send_bytes(wire::encode_frame(f)); }
  // The next frame (preambles skipped; framing errors fail the test).
  awaitable<v1::Frame> next();
  // A Hello (preamble first): a host's with `nonce`, or an agent's answer.
  awaitable<void> send_hello(v1::Hello::Role role, std::string nonce, std::uint32_t window = 2u << 20);

  std::unique_ptr<io::memory_stream> stream;
  wire::frame_decoder decoder;
};

v1::Frame request_frame(std::uint64_t id, std::string method, std::string payload = {});

struct rig {
  explicit rig(agent::session_limits limits = {}, client_options opts = default_options());
  ~rig();

  static client_options default_options();

  template <class T>
  T run(awaitable<T> op) {
    return run_for(ctx, std::move(op), std::chrono::seconds(20));
  }
  // Runs handlers until `pred` holds (20 s limit, no fixed waits).
  template <class Pred>
  void run_until(Pred pred) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      ASSERT_LT(std::chrono::steady_clock::now(), limit) << "condition not reached";
      if (ctx.stopped()) ctx.restart();
      ctx.run_one_for(std::chrono::milliseconds(100));
    }
  }
  // An agent session served on a new connection; returns the host's end.
  std::unique_ptr<io::memory_stream> serve_connection(std::size_t capacity = 256 * 1024);
  // A raw host talking to a fresh agent session.
  memory_peer memory_host(std::size_t capacity = 256 * 1024) { return memory_peer(serve_connection(capacity)); }
  // Takes a raw host through the handshake; returns the agent's answer.
  v1::Hello handshake(memory_peer& host, std::string nonce = "nonce-1", std::uint32_t window = 2u << 20);
  // From now on the client's connections reach raw agents (raw_agents),
  // not agent sessions.
  void use_raw_agents() { raw_agent_mode = true; }

  asio::io_context ctx;
  std::shared_ptr<test_service> service = std::make_shared<test_service>(ctx.get_executor());
  agent::service_registry registry;
  agent::session_limits limits;
  // Agent ends of the connections made so far (close one to cut it).
  std::list<std::unique_ptr<io::memory_stream>> agent_ends;
  int sessions_ended = 0;
  int connects = 0;
  bool raw_agent_mode = false;
  std::list<memory_peer> raw_agents;
  std::shared_ptr<client_impl> client;
};

}  // namespace tether::test
