// tetherd between the real agent and real libtether clients: many clients
// (clients in this process and tetherctl processes) over one guest session,
// each with its own calls; a client that goes away loses only its own
// calls; access by the socket's permissions; broker and guest connection
// losses seen by clients as from a guest.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/async.hpp"
#include "support/broker_rig.hpp"
#include "support/build_paths.hpp"
#include "support/eventually.hpp"
#include "support/random_bytes.hpp"
#include "support/slurp.hpp"
#include "support/socket_proxy.hpp"
#include "support/start_process.hpp"
#include "support/spawn_logged.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/common/unique_fd.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

class Broker : public ::testing::Test, public broker_rig {
 protected:
  asio::io_context ctx;
};

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// tetherctl ARGS..., left running; its output in `out_file`. `wrapper`
// comes first (setpriv to run it as another user).
pid_t tetherctl(std::vector<std::string> args, const std::string& out_file, std::vector<std::string> wrapper = {}) {
  wrapper.push_back(tetherctl_binary);
  wrapper.insert(wrapper.end(), args.begin(), args.end());
  return spawn_logged(std::move(wrapper), out_file);
}

bool has_text(const std::string& file) {
  std::error_code ec;
  return std::filesystem::file_size(file, ec) > 1 && !ec;
}

TEST_F(Broker, ClientsShareOneAgentSessionEachWithItsOwnCalls) {
  client a(ctx.get_executor(), client_opts()), b(ctx.get_executor(), client_opts()),
      c(ctx.get_executor(), client_opts());
  run_for(ctx, [&]() -> awaitable<void> {
    co_await a.connect({10s});
    co_await b.connect({10s});
    co_await c.connect({10s});
  }());
  ASSERT_TRUE(a.agent_hello() && b.agent_hello() && c.agent_hello());
  EXPECT_EQ(a.agent_hello()->session_id, b.agent_hello()->session_id);
  EXPECT_EQ(a.agent_hello()->session_id, c.agent_hello()->session_id);

  const std::string data = random_bytes(3u << 20, 3);
  const std::string remote = agent.dir() + "/up.bin";
  exec::captured big, echoed;
  std::string back;
  // Built outside coroutines: GCC 12 mis-copies braced aggregates holding
  // strings inside them.
  const exec::options zeros{.argv = {"head", "-c", "5000000", "/dev/zero"}};
  const exec::options echo_line{.argv = {"sh", "-c", "read x; echo got $x"}};
  const exec::run_options input{.input = "hello\n"};
  // At once: a's output crosses the broker's window toward the agent (its
  // extra credit), b uploads and reads back, c feeds stdin.
  run_for(ctx, [&]() -> awaitable<void> {
    auto big_output = [&]() -> awaitable<void> { big = co_await exec::run(a, zeros); };
    auto round_trip = [&]() -> awaitable<void> {
      co_await files::upload_bytes(b, data, remote);
      back = co_await files::download_bytes(b, remote);
    };
    auto stdin_echo = [&]() -> awaitable<void> { echoed = co_await exec::run(c, echo_line, input); };
    co_await (big_output() && round_trip() && stdin_echo());
  }());
  EXPECT_EQ(big.result.exit_code, 0);
  EXPECT_EQ(big.out.size(), 5000000u);
  EXPECT_TRUE(back == data) << "downloaded " << back.size() << " bytes differ from the upload";
  EXPECT_EQ(echoed.out, "got hello\n");
}

// The agent sends a call's reply after its output; the broker must not let
// the reply overtake output still queued toward the client (the client
// would end the call and drop the rest).
TEST_F(Broker, RepliesNeverOvertakeTheirOutput) {
  client g(ctx.get_executor(), client_opts());
  const exec::options two_mb{.argv = {"head", "-c", "2000000", "/dev/zero"}};
  std::vector<std::size_t> sizes(8);
  run_for(ctx, [&]() -> awaitable<void> {
    auto one = [&](std::size_t i) -> awaitable<void> { sizes[i] = (co_await exec::run(g, two_mb)).out.size(); };
    co_await (one(0) && one(1) && one(2) && one(3) && one(4) && one(5) && one(6) && one(7));
  }());
  for (const auto n : sizes) EXPECT_EQ(n, 2000000u);
}

TEST_F(Broker, KillingAClientProcessCancelsOnlyItsCommand) {
  temp_dir work;
  const std::string d = work.path();
  std::vector<pid_t> ctl;
  for (int i = 0; i < 3; ++i) {
    const auto n = std::to_string(i);
    ctl.push_back(tetherctl({"--socket", socket(), "--wait-for-guest", "--timeout", "60s", "exec", "--", "sh",
                                   "-c", "echo $$ > " + d + "/pid" + n + "; while [ ! -e " + d +
                                             "/go ]; do sleep 0.05; done; echo done-" + n},
                                  d + "/out" + n));
  }
  std::vector<pid_t> cmd;
  for (int i = 0; i < 3; ++i) {
    const auto file = d + "/pid" + std::to_string(i);
    ASSERT_TRUE(eventually([&] { return has_text(file); }))
        << "command " << i << " did not start; broker log:\n" << broker.log_text();
    std::ifstream in(file);
    pid_t p = 0;
    in >> p;
    ASSERT_GT(p, 0);
    cmd.push_back(p);
  }
  // Client 0 dies without a word: the broker cancels its call in the agent.
  ::kill(ctl[0], SIGKILL);
  wait_exit(ctl[0]);
  EXPECT_TRUE(eventually([&] { return !alive(cmd[0]); })) << "the killed client's command still runs";
  EXPECT_TRUE(alive(cmd[1]));
  EXPECT_TRUE(alive(cmd[2]));
  // The others' commands run on to their own end.
  std::ofstream(d + "/go").put('\n');
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(wait_exit(ctl[i]), 0) << slurp(d + "/out" + std::to_string(i));
    // (After what --wait-for-guest may have said while the socket was not there yet.)
    const auto text = slurp(d + "/out" + std::to_string(i));
    EXPECT_TRUE(text.ends_with("done-" + std::to_string(i) + "\n")) << text;
  }
  const auto log = broker.log_text();
  EXPECT_NE(log.find("(pid " + std::to_string(ctl[0]) + " uid 0 gid 0) disconnected"), std::string::npos) << log;
  EXPECT_NE(log.find("its 1 running call(s) cancelled in the guest"), std::string::npos) << log;
}

// The socket's mode decides who may use the guest: a client of another user
// is refused by the kernel, before the broker sees it.
TEST_F(Broker, TheSocketsPermissionsRefuseAnotherUser) {
  ::chmod(run.path().c_str(), 0755);
  temp_dir out;
  auto ping_as_nobody = [&](const std::string& sock) {
    const auto file = out.path() + "/ping";
    const pid_t p = tetherctl({"--socket", sock, "--wait-for-guest", "--timeout", "5s", "ping"}, file,
                              {"/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"});
    const int status = wait_exit(p);
    return ctl_result{status, slurp(file)};
  };
  const auto refused = ping_as_nobody(socket());  // default mode 0660, owner root
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_NE(refused.out.find("ermission denied"), std::string::npos) << refused.out;

  // The control: the same user is let in where the mode allows everyone.
  tetherd_process open(run.path() + "/open", {"--guest", "g2=" + agent.socket_path(), "--socket-mode", "0666"});
  const auto allowed = ping_as_nobody(open.socket("g2"));
  EXPECT_EQ(allowed.status, 0) << allowed.out << open.log_text();
  EXPECT_NE(open.log_text().find("uid 65534 gid 65534) connected"), std::string::npos) << open.log_text();
}

TEST_F(Broker, ARestartedBrokerIsReachedAgainByClientsThatReconnect) {
  client guest(ctx.get_executor(), client_opts());
  run_for(ctx, guest.ping());
  const auto before = guest.agent_hello()->session_id;
  broker.stop(SIGTERM);
  EXPECT_FALSE(std::filesystem::exists(socket())) << "a stopped broker leaves its socket behind";
  tetherd_process again(run.path() + "/run", {"--guest", "g1=" + agent.socket_path()});
  until_it_works(ctx, [&] { return guest.ping("", {10s}); });
  // A new agent session: the new broker's.
  EXPECT_NE(guest.agent_hello()->session_id, before);
}

// The guest connection drops (QEMU's chardev cut): clients see what they
// would see from the guest itself, the broker reconnects, clients too.
TEST(BrokerGuest, ALostGuestConnectionIsSeenAsFromTheGuestAndRecovered) {
  agent_process agent;
  temp_dir dir;
  asio::io_context ctx;
  socket_proxy proxy(ctx, dir.path() + "/chardev", agent.socket_path());
  tetherd_process broker(dir.path() + "/run", {"--guest", "g1=" + dir.path() + "/chardev"});
  client guest(ctx.get_executor(), {.socket_path = broker.socket("g1"), .call_timeout = 20s});
  auto p = run_for(ctx, start_process(guest, {.argv = {"sleep", "30"}}));
  proxy.cut();
  const auto lost = error_of(ctx, p->wait(), "a call across the cut");
  EXPECT_TRUE(lost.is_connectivity()) << lost.what();
  until_it_works(ctx, [&] { return guest.ping("", {10s}); });
  EXPECT_GE(proxy.connections(), 2);  // the broker reconnected through it
}

TEST_F(Broker, LimitsPerClientAndPerGuestAreEnforced) {
  tetherd_process small(run.path() + "/small",
                        {"--guest", "g1=" + agent.socket_path(), "--max-calls", "2", "--max-clients", "1"});
  client one(ctx.get_executor(), {.socket_path = small.socket("g1"), .call_timeout = 10s});
  auto p1 = run_for(ctx, start_process(one, {.argv = {"sleep", "30"}}));
  auto p2 = run_for(ctx, start_process(one, {.argv = {"sleep", "30"}}));
  const auto third = error_of(ctx, one.ping(), "a third call");
  EXPECT_EQ(third.remote_code(), remote_errc::resource_exhausted) << third.what();
  EXPECT_NE(std::string(third.what()).find("--max-calls"), std::string::npos) << third.what();

  client two(ctx.get_executor(), {.socket_path = small.socket("g1"), .call_timeout = 3s, .handshake_timeout = 2s});
  const auto refused = error_of(ctx, two.ping(), "a second client");
  EXPECT_NE(std::string(refused.what()).find("too many clients"), std::string::npos) << refused.what();
  p1->cancel();
  p2->cancel();
}

// A listening socket at `path`, as systemd makes one for a socket unit.
unique_fd listening_socket(const std::string& path) {
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 16) != 0)
    throw std::runtime_error("cannot listen on " + path);
  return fd;
}

// Sockets from systemd (tetherd-guest@NAME.socket) are served from the start
// and stay while the guest is away; a client waiting there is told why.
TEST(BrokerActivation, SystemdsSocketsAreServedAndStayWhileTheGuestIsAway) {
  agent_process agent;
  temp_dir dir;
  const auto up_path = dir.path() + "/up.sock", away_path = dir.path() + "/away.sock";
  auto up = listening_socket(up_path), away = listening_socket(away_path);
  tetherd_process broker(dir.path() + "/run",
                         {"--guest", "up=" + agent.socket_path(), "--guest", "away=" + dir.path() + "/no-guest"},
                         {{"up", up.get()}, {"away", away.get()}});
  asio::io_context ctx;
  client ok(ctx.get_executor(), {.socket_path = up_path, .call_timeout = 10s});
  run_for(ctx, ok.ping());
  client waiting(ctx.get_executor(), {.socket_path = away_path, .call_timeout = 3s, .handshake_timeout = 2s});
  const auto e = error_of(ctx, waiting.ping(), "a call to a guest that is away");
  EXPECT_NE(std::string(e.what()).find("tetherd: guest away has no agent session yet"), std::string::npos)
      << e.what();
  EXPECT_TRUE(std::filesystem::exists(away_path));
  EXPECT_FALSE(std::filesystem::exists(broker.socket("up"))) << "it made a socket of its own too";
  EXPECT_NE(broker.log_text().find("guest up: serving clients on the socket from systemd"), std::string::npos)
      << broker.log_text();
}

// shutdown-all asks a guest the broker serves through the broker (its
// chardev is the broker's), and follows it down there: the guest's agent
// stops (a simulated power-off), the broker cannot reach it any more and
// removes the guest's socket, as QEMU's would go.
TEST(BrokerShutdownAll, GoesThroughTheBrokerAndSeesTheGuestGoDown) {
  temp_dir hooks;
  agent_process agent({"--power-simulate", "--power-method", "kernel", "--host-halt-dir", hooks.path()});
  temp_dir dir;
  tetherd_process broker(dir.path() + "/run", {"--guest", "g1=" + agent.socket_path()});
  asio::io_context ctx;
  client probe(ctx.get_executor(), {.socket_path = broker.socket("g1"), .call_timeout = 10s});
  run_for(ctx, probe.ping());  // the broker serves g1
  probe.close();
  power::shutdown_options o{.deadline = 60s, .agent_timeout = 10s};
  o.broker_dir = broker.runtime_dir();
  const auto results = run_for(
      ctx, power::shutdown_all(ctx.get_executor(), {power::guest_config{.name = "g1", .socket = agent.socket_path()}}, o),
      90s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].down) << results[0].detail;
  EXPECT_EQ(results[0].via, power::guest_result::how::agent) << results[0].detail;
  EXPECT_NE(results[0].detail.find("(through tetherd)"), std::string::npos) << results[0].detail;
  EXPECT_FALSE(std::filesystem::exists(broker.socket("g1")));
}

TEST_F(Broker, TetherctlFindsAGuestByName) {
  ::setenv("TETHER_RUNTIME_DIR", broker.runtime_dir().c_str(), 1);
  const auto r = run_tetherctl("--guest g1 --wait-for-guest --timeout 10s exec -- echo through-tetherd");
  const auto both = run_tetherctl("--guest g1 --socket /nowhere ping");
  const auto missing = run_tetherctl("--guest nosuch ping");
  ::unsetenv("TETHER_RUNTIME_DIR");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.out.ends_with("through-tetherd\n")) << r.out;
  EXPECT_EQ(both.status, 2) << both.out;
  EXPECT_EQ(missing.status, 3) << missing.out;
  EXPECT_NE(missing.out.find("is tetherd serving guest nosuch"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace tether::test
