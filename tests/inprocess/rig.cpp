#include "inprocess/rig.hpp"

namespace tether::test {

void test_service::add_methods(agent::service_registry& r) {
  r.add_method("test.Echo", [](agent::call_context& c) -> awaitable<std::string> { co_return c.payload(); });
  // Writes `payload` bytes (decimal) on stream 1, then ends it.
  r.add_method("test.Produce", [](agent::call_context& c) -> awaitable<std::string> {
    std::size_t left = std::stoul(c.payload());
    const std::string block(64 * 1024, 'x');
    while (left > 0) {
      const std::size_t n = std::min(left, block.size());
      co_await c.write(1, std::string_view(block).substr(0, n));
      left -= n;
    }
    c.close_write(1);
    co_return "produced";
  });
  // Reads stream 0 to its end; replies with the byte count.
  r.add_method("test.Consume", [](agent::call_context& c) -> awaitable<std::string> {
    std::size_t total = 0;
    for (;;) {
      auto chunk = co_await c.read(0);
      if (!chunk) break;
      total += chunk->size();
    }
    co_return std::to_string(total);
  });
  r.add_method("test.Block", [this](agent::call_context&) -> awaitable<std::string> {
    ++blocked;
    changed.notify_all();
    async_event never(co_await asio::this_coro::executor);
    try {
      co_await never.wait();
    } catch (...) {
      --blocked;
      ++block_cancelled;
      changed.notify_all();
      throw;
    }
    co_return "";
  });
  // Fails the way the payload names.
  r.add_method("test.Fail", [](agent::call_context& c) -> awaitable<std::string> {
    const auto& how = c.payload();
    if (how == "std-errno") throw std::system_error(ENOENT, std::generic_category(), "std");
    if (how == "boost-errno")
      throw boost::system::system_error(boost::system::error_code(ENOENT, boost::system::system_category()),
                                        "boost");
    if (how == "call-error") throw agent::call_error(v1::ERROR_CODE_ALREADY_EXISTS, "exists");
    throw std::runtime_error("broken");
    co_return "";
  });
  r.add_method("test.AfterReply", [this](agent::call_context& c) -> awaitable<std::string> {
    c.after_reply([this](bool written) {
      reply_written = written;
      changed.notify_all();
    });
    co_return std::string(c.payload());
  });
}

awaitable<void> memory_peer::send_bytes(std::string bytes) {
  asio::const_buffer buf(bytes.data(), bytes.size());
  co_await stream->write_all(std::span<const asio::const_buffer>(&buf, 1));
}

awaitable<v1::Frame> memory_peer::next() {
  for (;;) {
    while (auto item = decoder.next()) {
      if (item->what == wire::frame_decoder::item::kind::preamble) continue;
      if (item->what == wire::frame_decoder::item::kind::error)
        throw std::runtime_error("peer sent an invalid frame: " + wire::make_error_code(item->error).message());
      co_return std::move(item->frame);
    }
    auto room = decoder.prepare(64 * 1024);
    decoder.commit(co_await stream->read_some(room));
  }
}

awaitable<void> memory_peer::send_hello(v1::Hello::Role role, std::string nonce, std::uint32_t window) {
  auto f = frames::hello(role, "raw");
  f.mutable_hello()->set_nonce(std::move(nonce));
  f.mutable_hello()->set_initial_stream_window(window);
  f.mutable_hello()->set_max_frame_size(wire::default_max_frame_size);
  co_await send_bytes(frames::with_preamble(f));
}

v1::Frame request_frame(std::uint64_t id, std::string method, std::string payload) {
  v1::Frame f;
  auto* r = f.mutable_request();
  r->set_call_id(id);
  r->set_method(std::move(method));
  r->set_payload(std::move(payload));
  return f;
}

v1::Hello rig::handshake(memory_peer& host, std::string nonce, std::uint32_t window) {
  const auto announce = run(host.next());
  EXPECT_TRUE(announce.has_hello() && announce.hello().nonce().empty()) << announce.ShortDebugString();
  run(host.send_hello(v1::Hello::ROLE_HOST, nonce, window));
  auto answer = run(host.next());
  EXPECT_TRUE(answer.has_hello()) << answer.ShortDebugString();
  EXPECT_EQ(answer.hello().nonce(), nonce);
  return answer.hello();
}

client_options rig::default_options() {
  client_options o;
  o.socket_path = "memory";
  o.call_timeout = std::chrono::seconds(15);
  o.reconnect_min = std::chrono::milliseconds(1);
  return o;
}

rig::rig(agent::session_limits l, client_options opts) : limits(l) {
  registry.add(service);
  client = std::make_shared<client_impl>(
      ctx.get_executor(), opts, [this]() -> awaitable<std::unique_ptr<io::byte_stream>> {
        ++connects;
        if (!raw_agent_mode) co_return serve_connection();
        auto [host, agent] = io::make_memory_stream_pair(ctx.get_executor());
        raw_agents.emplace_back(std::move(agent));
        co_return std::move(host);
      });
}

rig::~rig() {
  client->close();
  for (auto& e : agent_ends) e->close();
  for (auto& a : raw_agents) a.stream->close();
  // Let sessions and the client's loop see the close and finish.
  ctx.restart();
  ctx.poll();
}

std::unique_ptr<io::memory_stream> rig::serve_connection(std::size_t capacity) {
  auto [host, agent] = io::make_memory_stream_pair(ctx.get_executor(), capacity);
  auto& end = *agent_ends.emplace_back(std::move(agent));
  asio::co_spawn(
      ctx,
      [](rig& r, io::memory_stream& s) -> awaitable<void> {
        agent::session session(co_await asio::this_coro::executor, s, r.registry, r.limits, "in-process");
        co_await session.run();
        ++r.sessions_ended;
      }(*this, end),
      asio::detached);
  return std::move(host);
}

}  // namespace tether::test
