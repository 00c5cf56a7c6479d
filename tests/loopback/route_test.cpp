// Routes (nested guests) over loopback: two real agents, L1 on one unix
// socket with forward allowed to L2's socket, L2 on another; the host
// reaches L2 through L1 (client_options::via, tetherctl --via).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/start_process.hpp"
#include "support/random_bytes.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"
#include "tether/v1/forward.pb.h"

namespace tether {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::run_for;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


// L2's agent finds no udevd, so a device call's answer is recognisably L2's.
const std::vector<std::string> l2_args = {"--udev-control", "/nonexistent/l2/udev/control"};

class ARoute : public ::testing::Test {
 protected:
  std::vector<std::string> l1_args(std::vector<std::string> more = {}) const {
    std::vector<std::string> a = {"--forward-socket", l2.dir() + "/*.sock"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  client_options routed(std::string target, milliseconds timeout = 10s) const {
    return {.socket_path = std::move(target), .via = {l1.socket_path()}, .call_timeout = timeout};
  }

  test::agent_process l2{l2_args};
  test::agent_process l1{l1_args(), 10s, true};
  asio::io_context ctx;
  client guest{ctx.get_executor(), routed(l2.socket_path())};
};

TEST_F(ARoute, ReachesTheSecondAgentThroughTheFirst) {
  EXPECT_EQ(run_for(ctx, guest.info()).agent_pid, static_cast<std::uint32_t>(l2.pid()));
  EXPECT_EQ(run_for(ctx, guest.hop(0).info()).agent_pid, static_cast<std::uint32_t>(l1.pid()));
  EXPECT_THROW(guest.hop(1), error);
}

TEST_F(ARoute, StreamsACommandsOutputWhileItRuns) {
  exec::options o;
  o.argv = {"sh", "-c", "echo one; read x; echo two $x"};
  o.stdin = true;
  auto p = run_for(ctx, test::start_process(guest, o));
  // "one" arrives before the command can end: it waits for our line.
  auto first = run_for(ctx, p->read());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, "one\n");
  run_for(ctx, p->write("three\n"));
  p->close_stdin();
  std::string rest;
  while (auto c = run_for(ctx, p->read())) rest += c->bytes;
  EXPECT_EQ(rest, "two three\n");
  EXPECT_EQ(run_for(ctx, p->wait()).status(), 0);
}

TEST_F(ARoute, Carries64MiBEachWayWithEqualBytes) {
  const auto data = test::random_bytes(64u << 20, 20);
  const std::string remote = l2.dir() + "/big.bin";
  auto up = run_for(ctx, files::upload_bytes(guest, data, remote), 120s);
  EXPECT_EQ(up.bytes, data.size());
  const auto down = run_for(ctx, files::download_bytes(guest, remote), 120s);
  EXPECT_TRUE(down == data) << "downloaded " << down.size() << " bytes differ";
}

TEST_F(ARoute, CarriesADeviceSubscriptionToTheSecondAgent) {
  // No udevd here: L2's refusal, naming its own control path, comes back
  // through the route (events themselves: tests/vm/route_vm_test.cpp).
  const auto e = error_of(ctx, devices::subscribe(guest, {.subsystem = "block"}));
  EXPECT_EQ(e.remote_code(), remote_errc::unavailable) << e.what();
  EXPECT_TRUE(has(e.what(), "/nonexistent/l2/udev/control")) << e.what();
}

TEST_F(ARoute, LeavesTheFirstAgentAnsweringWhileATransferRuns) {
  const std::string remote = l2.dir() + "/big.bin";
  run_for(ctx, files::upload_bytes(guest, test::random_bytes(64u << 20, 21), remote), 120s);
  bool done = false;
  int pings = 0;
  auto slowest = 0ms;
  auto transfer = [&]() -> awaitable<void> {
    co_await files::download_bytes(guest, remote);
    done = true;
  };
  auto pinger = [&]() -> awaitable<void> {
    while (!done) {
      const auto t0 = std::chrono::steady_clock::now();
      co_await guest.hop(0).ping("l1");
      slowest = std::max(slowest, std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0));
      ++pings;
    }
  };
  using namespace asio::experimental::awaitable_operators;  // &&: both to their end
  run_for(ctx, transfer() && pinger(), 120s);
  EXPECT_GT(pings, 1);
  // A correctness bound, not a figure (bench/ has those): the ping is not
  // queued behind the transfer's data.
  EXPECT_LT(slowest, 2s) << pings << " pings";
}

TEST_F(ARoute, EndsInAClearErrorAndThenWorksWhenTheSecondAgentRestarts) {
  exec::options sleeper;
  sleeper.argv = {"sleep", "600"};
  auto pending = run_for(ctx, test::start_process(guest, sleeper));  // in flight through the route
  const std::string path = l2.socket_path();
  l2.stop(SIGTERM);
  for (const auto& e : {error_of(ctx, pending->wait(), "a call in flight"), error_of(ctx, guest.ping("", {.timeout = 2s}))}) {
    EXPECT_TRUE(e.is_connectivity()) << e.what();
    EXPECT_TRUE(has(e.what(), "hop 1")) << e.what();
    EXPECT_TRUE(has(e.what(), path)) << e.what();
  }
  test::agent_process again{{"--listen-unix", path}};
  test::until_it_works(ctx, [&] { return guest.ping(); });
  EXPECT_EQ(run_for(ctx, guest.info()).agent_pid, static_cast<std::uint32_t>(again.pid()));
}

TEST_F(ARoute, EndsInAClearErrorAndThenWorksWhenTheFirstAgentRestarts) {
  exec::options sleeper;
  sleeper.argv = {"sleep", "600"};
  auto pending = run_for(ctx, test::start_process(guest, sleeper));  // in flight through the route
  const std::string path = l1.socket_path();
  l1.stop(SIGTERM);
  for (const auto& e : {error_of(ctx, pending->wait(), "a call in flight"), error_of(ctx, guest.ping("", {.timeout = 2s}))}) {
    EXPECT_TRUE(e.is_connectivity()) << e.what();
    EXPECT_TRUE(has(e.what(), "hop 1 (the agent at " + path + ")")) << e.what();
  }
  test::agent_process again{l1_args({"--listen-unix", path})};
  test::until_it_works(ctx, [&] { return guest.ping(); });
  EXPECT_EQ(run_for(ctx, guest.info()).agent_pid, static_cast<std::uint32_t>(l2.pid()));
  EXPECT_EQ(run_for(ctx, guest.hop(0).info()).agent_pid, static_cast<std::uint32_t>(again.pid()));
}

TEST_F(ARoute, FollowsAPowerOffOfTheSecondAgentUntilItsSocketIsGone) {
  const std::string path = l2.socket_path();
  l2.stop(SIGTERM);
  // Simulated: the agent stops itself instead of this machine.
  test::agent_process simulated{{"--listen-unix", path, "--power-simulate", "--power-method", "kernel"}};
  const auto out =
      run_for(ctx, power::request(guest, power::action::poweroff, {.wait = true, .wait_timeout = 20s}), 30s);
  EXPECT_TRUE(out.reply.simulated);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(simulated.stop(0), 0);  // it had exited by itself
  run_for(ctx, guest.hop(0).ping());
}

TEST_F(ARoute, SaysUnavailableForASocketNothingServes) {
  // A socket file whose server is gone (as a killed QEMU leaves it).
  const std::string stale = l2.dir() + "/stale.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, stale.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ::close(fd);
  client other(ctx.get_executor(), routed(stale, 5s));
  const auto e = error_of(ctx, other.ping());
  // (The client retried until its deadline; the hop's last answer is in the message.)
  EXPECT_TRUE(has(e.what(), "cannot open " + stale + ": forward.Open: cannot connect")) << e.what();
  EXPECT_TRUE(has(e.what(), "Connection refused: unavailable")) << e.what();
}

TEST_F(ARoute, IsRefusedForASocketTheConfigDoesNotAllow) {
  for (const std::string& target : {l1.dir() + "/agent.sock", l2.dir() + "/../x/agent.sock", std::string("rel.sock")}) {
    client other(ctx.get_executor(), routed(target, 2s));
    const auto e = error_of(ctx, other.ping());
    EXPECT_TRUE(has(e.what(), "forward to '" + target + "' refused")) << e.what();
    EXPECT_TRUE(has(e.what(), "forward.sockets")) << e.what();
    EXPECT_TRUE(has(e.what(), "hop 1")) << e.what();
  }
  // The agent's own answer: DISABLED_BY_CONFIG (as for a path outside
  // files.roots), and an audit line.
  v1::ForwardRequest req;
  req.set_socket_path("/etc/passwd");
  const auto e = error_of(ctx, guest.hop(0).call("forward.Open", req.SerializeAsString()));
  EXPECT_EQ(e.remote_code(), remote_errc::disabled_by_config) << e.what();
  EXPECT_TRUE(has(l1.stderr_text(), "audit: forward.Open /etc/passwd -> DISABLED_BY_CONFIG")) << l1.stderr_text();
}

TEST(AnAgentWithoutForwardSockets, RefusesForwardAsDisabledNamingTheKey) {
  test::agent_process agent;
  asio::io_context ctx;
  client guest(ctx.get_executor(), {.socket_path = agent.socket_path(), .call_timeout = 10s});
  v1::ForwardRequest req;
  req.set_socket_path(agent.socket_path());
  const auto e = error_of(ctx, guest.call("forward.Open", req.SerializeAsString()));
  EXPECT_EQ(e.remote_code(), remote_errc::disabled_by_config) << e.what();
  EXPECT_TRUE(has(e.what(), "forward.sockets")) << e.what();
}

TEST_F(ARoute, IsWhatTetherctlViaUses) {
  const auto r = test::run_tetherctl("--via " + l1.socket_path() + " --socket " + l2.socket_path() +
                                     " exec -- echo routed");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "routed\n");
}

}  // namespace
}  // namespace tether
