// The host client (host-lib/src/client_impl.hpp: connection + host_session)
// against a hostile guest: the input is what "the agent" writes, in steps
// (records.hpp, peer.hpp): its Hello (the host's nonce filled in when the
// input leaves it empty), any frame (responses, data, credits, events,
// errors for the calls in flight), raw bytes, or a disconnect (the client
// reconnects). Meanwhile the client runs unary calls, a call with streams
// in both directions, an event subscription it cancels and one it drops.
// Every call must end with a result or a tether::error, the client must
// write only valid frames, and nothing may crash, hang or leak.
#include <csignal>
#include <cstdint>
#include <list>

#include "client_impl.hpp"
#include "peer.hpp"
#include "session_info.hpp"
#include "tether/v1/devices.pb.h"
#include "tether/v1/exec.pb.h"
#include "tether/v1/info.pb.h"

namespace {

using namespace tether;
using fuzz::check;

// One connection as the guest sees it.
struct agent_side {
  agent_side(std::unique_ptr<io::memory_stream> s, const asio::any_io_executor& ex)
      : stream(std::move(s)), in(ex) {}
  std::unique_ptr<io::memory_stream> stream;
  fuzz::reader out{wire::default_max_frame_size};  // what the host writes
  fuzz::writer in;                                 // what the fuzzer writes
  std::string nonce() const {
    return out.hellos.empty() ? std::string() : out.hellos.back().hello().nonce();
  }
};

client_options fuzz_options() {
  client_options o;
  o.socket_path = "memory";
  // No timer may end a call before the input did: the input decides.
  o.call_timeout = std::chrono::minutes(10);
  o.handshake_timeout = std::chrono::minutes(10);
  o.hello_interval = std::chrono::minutes(10);
  // Reconnect at once: a disconnect step costs no real time.
  o.reconnect_min = std::chrono::milliseconds(0);
  o.reconnect_max = std::chrono::milliseconds(0);
  // Small limits, so inputs reach them.
  o.max_frame_size = 64 * 1024;
  o.stream_window = 4096;
  o.event_window = 4;
  o.max_open_calls = 8;
  return o;
}

template <class M>
void parses(const std::string& bytes) {
  M m;
  (void)m.ParseFromString(bytes);
}

// The calls a harness makes; each ends with a result or a tether::error.
awaitable<void> unary(std::shared_ptr<client_impl> c, int& running) {
  try {
    parses<v1::PingReply>(co_await c->call("ping.Ping", "", {}));
    if (auto h = c->agent_hello()) (void)detail::to_hello_info(*h);
    parses<v1::InfoReply>(co_await c->call("info.Get", "", {}));
  } catch (const tether::error&) {
  }
  --running;
}

awaitable<void> streams(std::shared_ptr<client_impl> c, int& running) {
  try {
    v1::ExecRequest req;
    req.add_argv("cat");
    req.set_stdin(true);
    call_stream s(c, co_await c->start("exec.Run", req.SerializeAsString(), {}));
    co_await s.write(0, std::string(10000, 'x'));
    s.close_write(0);
    for (int i = 0; i < 256; ++i)
      if (!co_await s.next()) break;
    parses<v1::ExecReply>(co_await s.finish());
  } catch (const tether::error&) {
  }
  --running;
}

awaitable<void> events(std::shared_ptr<client_impl> c, int& running) {
  try {
    call_stream s(c, co_await c->start("devices.Subscribe", "", {}));
    for (int i = 0; i < 16; ++i) {
      auto chunk = co_await s.next();
      if (!chunk) break;
      if (chunk->what == call_stream::chunk::kind::event) parses<v1::DeviceEvent>(chunk->bytes);
    }
    s.cancel();
    (void)co_await s.finish();
  } catch (const tether::error&) {
  }
  --running;
}

awaitable<void> dropped(std::shared_ptr<client_impl> c, int& running) {
  try {
    call_stream s(c, co_await c->start("stats.Subscribe", "", {}));
    (void)co_await s.next();
  } catch (const tether::error&) {
  }  // the stream is dropped unfinished: the client abandons the call
  --running;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  fuzz::quiet_protobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  {
    std::list<agent_side> agents;
    auto client = std::make_shared<client_impl>(
        ctx.get_executor(), fuzz_options(), [&]() -> awaitable<std::unique_ptr<io::byte_stream>> {
          auto pair = io::make_memory_stream_pair(ctx.get_executor(), 64 * 1024);
          auto& a = agents.emplace_back(std::move(pair.second), ctx.get_executor());
          asio::co_spawn(ctx, a.out.run(*a.stream), asio::detached);
          asio::co_spawn(ctx, a.in.run(*a.stream), asio::detached);
          co_return std::move(pair.first);
        });
    int running = 4;
    asio::co_spawn(ctx, unary(client, running), asio::detached);
    asio::co_spawn(ctx, streams(client, running), asio::detached);
    asio::co_spawn(ctx, events(client, running), asio::detached);
    asio::co_spawn(ctx, dropped(client, running), asio::detached);
    fuzz::settle(ctx);

    for (const auto& r : fuzz::split_records(data, size)) {
      if (agents.empty()) break;
      auto& a = agents.back();
      if (fuzz::step_of(r) == fuzz::step::other) {
        // The guest's end goes away; the client connects again.
        a.in.close();
        a.stream->close();
        const auto before = agents.size();
        const auto limit = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        while (agents.size() == before && std::chrono::steady_clock::now() < limit) {
          ctx.restart();
          ctx.run_one_for(std::chrono::milliseconds(5));
        }
      } else {
        a.in.send(fuzz::bytes_of(r, v1::Hello::ROLE_AGENT, a.nonce()));
      }
      fuzz::settle(ctx);
    }
    client->close();  // every call must end now
    for (auto& a : agents) {
      a.in.close();
      a.stream->close();
    }
    fuzz::finish(ctx, [&] { return running == 0; }, "every call ends when the client closes");
    fuzz::finish(
        ctx,
        [&] {
          for (const auto& a : agents)
            if (!a.out.done || !a.in.done) return false;
          return true;
        },
        "the connections end");
    client.reset();
    fuzz::finish(ctx, [&] { return ctx.stopped(); }, "no work is left after the client closed");
  }
  return 0;
}
