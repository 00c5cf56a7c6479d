// The real agent binary and the real library: unary calls, concurrency,
// timeouts and errors.
#include <gtest/gtest.h>

#include "support/agent_client.hpp"
#include "support/async.hpp"
#include "tether/common/async_event.hpp"
#include "tether/blocking_client.hpp"
#include "tether/client.hpp"

namespace tether {
namespace {

using test::run_for;

using AnAgentOnAUnixSocket = test::agent_client_test;

TEST_F(AnAgentOnAUnixSocket, AnswersPingWithTheSamePayload) {
  auto r = run_for(ctx, guest.ping("hello"));
  EXPECT_EQ(r.payload, "hello");
  EXPECT_GT(r.guest_time_ns, 0);
}

TEST_F(AnAgentOnAUnixSocket, ReportsInfoAboutTheMachineAndItself) {
  auto r = run_for(ctx, guest.info());
  EXPECT_EQ(r.protocol_version, 1u);
  EXPECT_FALSE(r.agent_version.empty());
  EXPECT_FALSE(r.kernel_release.empty());
  EXPECT_FALSE(r.hostname.empty());
  EXPECT_EQ(r.boot_id.size(), 36u);
  EXPECT_GT(r.uptime_seconds, 0);
  EXPECT_EQ(r.agent_pid, static_cast<std::uint32_t>(agent.pid()));
  EXPECT_EQ(r.session_id.size(), 16u);
  EXPECT_NE(std::find(r.services.begin(), r.services.end(), "ping"), r.services.end());
  EXPECT_NE(std::find(r.services.begin(), r.services.end(), "info"), r.services.end());
}

TEST_F(AnAgentOnAUnixSocket, AnswersAThousandConcurrentCallsOnOneConnection) {
  constexpr int n = 1000;
  int answered = 0;
  async_event progress(ctx.get_executor());
  auto one = [&](int i) -> awaitable<void> {
    auto r = co_await guest.ping("call-" + std::to_string(i));
    EXPECT_EQ(r.payload, "call-" + std::to_string(i));
    ++answered;
    progress.notify_all();
  };
  run_for(ctx, [&]() -> awaitable<void> {
    co_await guest.connect();
    const auto sid = guest.agent_hello()->session_id;
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::future<void>> futs;
    for (int i = 0; i < n; ++i) futs.push_back(asio::co_spawn(ex, one(i), asio::use_future));
    while (answered < n) co_await progress.wait();
    for (auto& f : futs) f.get();
    EXPECT_EQ(guest.agent_hello()->session_id, sid);  // all on one session
  }());
  EXPECT_EQ(answered, n);
}

TEST_F(AnAgentOnAUnixSocket, RejectsAnUnknownMethodWithACode) {
  const auto e = test::error_of(ctx, guest.call("nope.Nothing", ""));
  EXPECT_TRUE(e.is_remote());
  EXPECT_EQ(e.remote_code(), remote_errc::unknown_method);
  EXPECT_NE(std::string(e.what()).find("nope.Nothing"), std::string::npos);
}

TEST_F(AnAgentOnAUnixSocket, RejectsAMalformedRequestPayload) {
  const auto e = test::error_of(ctx, guest.call("ping.Ping", std::string("\xff\xff\xff", 3)));
  EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument);
}

TEST_F(AnAgentOnAUnixSocket, ServesTheBlockingApi) {
  blocking_client b({.socket_path = agent.socket_path(), .call_timeout = 10s});
  EXPECT_EQ(b.ping("x").payload, "x");
  EXPECT_EQ(b.info().protocol_version, 1u);
}

TEST(AClient, TimesOutWhenNothingListensOnTheSocket) {
  asio::io_context ctx;
  client guest(ctx.get_executor(), {.socket_path = "/nonexistent/tether.sock", .call_timeout = 300ms});
  const auto e = test::error_of(ctx, guest.ping());
  EXPECT_EQ(e.code(), errc::timeout);
  EXPECT_TRUE(e.is_connectivity());
  EXPECT_NE(std::string(e.what()).find("/nonexistent/tether.sock"), std::string::npos) << e.what();
}

TEST(AClient, ReportsAHandshakeFailureWhenThePeerNeverAnswers) {
  test::temp_dir dir;
  asio::io_context ctx;
  const std::string path = dir.path() + "/silent.sock";
  asio::local::stream_protocol::acceptor acc(ctx, asio::local::stream_protocol::endpoint(path));
  std::vector<asio::local::stream_protocol::socket> held;
  std::function<void()> accept = [&] {
    acc.async_accept([&](boost::system::error_code ec, asio::local::stream_protocol::socket s) {
      if (ec) return;
      held.push_back(std::move(s));  // accepted, never answered
      accept();
    });
  };
  accept();
  client guest(ctx.get_executor(), {.socket_path = path, .call_timeout = 1500ms,
                                    .handshake_timeout = 400ms, .hello_interval = 100ms});
  const auto e = test::error_of(ctx, guest.ping());
  EXPECT_EQ(e.code(), errc::timeout);
  EXPECT_NE(std::string(e.what()).find("no tether agent answered"), std::string::npos) << e.what();
}

TEST(AClient, FailsCallsWithClosedWhenClosed) {
  asio::io_context ctx;
  client guest(ctx.get_executor(), {.socket_path = "/nonexistent/tether.sock", .call_timeout = 10s});
  auto fut = asio::co_spawn(ctx, guest.ping(), asio::use_future);
  ctx.run_for(20ms);
  guest.close();
  ctx.restart();
  ctx.run_for(200ms);
  ASSERT_EQ(fut.wait_for(0s), std::future_status::ready);
  try {
    fut.get();
    FAIL();
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::closed);
  }
}

}  // namespace
}  // namespace tether
