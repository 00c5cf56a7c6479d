// power.Request and power.Watch against the real agent, which always runs
// with --power-simulate here (it stops itself instead of this machine): the
// checks before the answer, the answer, host-halt hooks, the events, and the
// host library's wait. The D-Bus paths run against a private dbus-daemon.
// shutdown_all against simulated agents and a stand-in for a QEMU whose
// guest has no agent. The real power-offs run in the VM tests.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <poll.h>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/slurp.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/power.hpp"
#include "tether/v1/power.pb.h"
#include "typed_call.hpp"

extern char** environ;

namespace tether {
namespace {

namespace json = boost::json;
using stream_protocol = asio::local::stream_protocol;
using test::run_for;
using test::slurp;
using K = v1::PowerEvent;

void write_file(const std::string& path, const std::string& text, mode_t mode = 0755) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Agent arguments: simulated power actions, the kernel method (what this
// machine would use: no systemd here, or not one to touch), our hook dir.
std::vector<std::string> simulated(const std::string& hook_dir, const std::string& method = "kernel") {
  return {"--power-simulate", "--power-method", method, "--host-halt-dir", hook_dir};
}

// Waits for the agent to exit by itself; its wait status (SIGKILL if it
// did not exit in time).
int exit_status(test::agent_process& agent) { return agent.stop(0, std::chrono::seconds(10)); }

class APowerRequest : public ::testing::Test {
 protected:
  test::temp_dir tmp;
  std::string hooks = tmp.path() + "/host-halt.d";
  asio::io_context ctx;
  std::unique_ptr<test::agent_process> agent;
  std::unique_ptr<client> guest;

  APowerRequest() { std::filesystem::create_directory(hooks); }

  void start(const std::string& method = "kernel") {
    agent = std::make_unique<test::agent_process>(simulated(hooks, method));
    guest = std::make_unique<client>(ctx.get_executor(),
                                     client_options{.socket_path = agent->socket_path(), .call_timeout = 20s});
  }

  v1::PowerReply raw_request(v1::PowerAction action, std::uint32_t hook_timeout_ms = 0, bool host_halt = false) {
    v1::PowerRequest req;
    req.set_action(action);
    req.set_hook_timeout_ms(hook_timeout_ms);
    req.set_host_halt(host_halt);
    return run_for(ctx, detail::call<v1::PowerReply>(*guest, "power.Request", req));
  }

  template <class F>
  error expect_error(F&& f) {
    try {
      f();
    } catch (const error& e) {
      return e;
    }
    ADD_FAILURE() << "expected an error";
    return error(errc::protocol_error, "no error");
  }
};

TEST_F(APowerRequest, NeedsAKnownAction) {
  start();
  for (int a : {0, 99}) {
    auto e = expect_error([&] { raw_request(static_cast<v1::PowerAction>(a)); });
    EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument) << e.what();
    EXPECT_TRUE(contains(e.what(), "poweroff, reboot, halt or suspend")) << e.what();
  }
}

TEST_F(APowerRequest, RefusesAHookTimeoutAboveTenMinutes) {
  start();
  auto e = expect_error([&] { raw_request(v1::POWER_ACTION_POWEROFF, 600'001, true); });
  EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument) << e.what();
  EXPECT_TRUE(contains(e.what(), "600000")) << e.what();
  // The library checks before it asks.
  auto local = expect_error([&] {
    run_for(ctx, power::request(*guest, power::action::poweroff, {.host_halt = true, .hook_timeout = 601s}));
  });
  EXPECT_EQ(local.code(), make_error_code(errc::invalid_argument)) << local.what();
  // Nothing was started: the agent still serves.
  run_for(ctx, guest->ping());
}

TEST_F(APowerRequest, SaysSuspendIsUnsupportedWithoutSystemd) {
  start();
  auto e = expect_error([&] { run_for(ctx, power::request(*guest, power::action::suspend)); });
  EXPECT_EQ(e.remote_code(), remote_errc::failed_precondition) << e.what();
  EXPECT_TRUE(contains(e.what(), "suspend is not supported without systemd")) << e.what();
  run_for(ctx, guest->ping());
}

TEST_F(APowerRequest, IsAnsweredAndThenCarriedOut) {
  start();
  const auto out = run_for(ctx, power::request(*guest, power::action::poweroff));
  EXPECT_EQ(out.reply.method, power::method::kernel);
  EXPECT_TRUE(out.reply.simulated);
  std::string boot_id = slurp("/proc/sys/kernel/random/boot_id");
  boot_id.pop_back();
  EXPECT_EQ(out.reply.boot_id, boot_id);
  EXPECT_FALSE(out.done);
  // The simulated power-off stops the agent the way a shutdown would: SIGTERM, clean exit.
  const int st = exit_status(*agent);
  ASSERT_TRUE(WIFEXITED(st)) << "agent did not stop by itself (status " << st << ")";
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST_F(APowerRequest, ForAHostHaltRunsTheHooksInNameOrderFirst) {
  const std::string order = tmp.path() + "/order";
  const std::string script = "#!/bin/sh\necho \"$(basename \"$0\") $TETHER_POWER_ACTION $TETHER_HOST_HALT\" >> " + order + "\n";
  write_file(hooks + "/20-second", script);
  write_file(hooks + "/10-first", script);
  write_file(hooks + "/40-fails", "#!/bin/sh\necho about to fail\nexit 7\n");
  write_file(hooks + "/15-not-executable", script, 0644);
  write_file(hooks + "/05-backup~", script);
  write_file(hooks + "/.hidden", script);
  std::filesystem::create_directory(hooks + "/30-a-directory");
  start();

  std::vector<power::event> events;
  std::optional<power::reply> accepted;
  power::options o;
  o.host_halt = true;
  o.wait = true;
  o.wait_timeout = 30s;
  o.on_accepted = [&](const power::reply& r) { accepted = r; };
  o.on_event = [&](const power::event& e) { events.push_back(e); };
  const auto out = run_for(ctx, power::request(*guest, power::action::poweroff, o), 60s);

  EXPECT_TRUE(out.done);
  ASSERT_TRUE(accepted);
  const std::vector<std::string> run(out.reply.hooks.begin(), out.reply.hooks.end());
  EXPECT_EQ(run, (std::vector<std::string>{"10-first", "20-second", "40-fails"}));
  std::string skipped;
  for (const auto& s : out.reply.skipped) skipped += s + "\n";
  EXPECT_EQ(skipped,
            ".hidden: hidden file\n05-backup~: backup file\n15-not-executable: not executable\n"
            "30-a-directory: not a regular file\n");
  EXPECT_EQ(slurp(order), "10-first poweroff 1\n20-second poweroff 1\n");

  // Accepted, each hook started and finished in turn, then the action.
  std::vector<std::string> seen;
  for (const auto& e : events) {
    switch (e.what) {
      case power::event::kind::accepted: seen.push_back("accepted"); break;
      case power::event::kind::hook_started: seen.push_back("start " + e.hook); break;
      case power::event::kind::hook_finished: seen.push_back("end " + e.hook + " " + std::to_string(e.exit_code)); break;
      case power::event::kind::action_started: seen.push_back(std::string("action ") + power::to_string(e.method)); break;
      default: seen.push_back("other " + std::to_string(static_cast<int>(e.what)));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"accepted", "start 10-first", "end 10-first 0", "start 20-second",
                                            "end 20-second 0", "start 40-fails", "end 40-fails 7",
                                            "action kernel"}));
  EXPECT_TRUE(WIFEXITED(exit_status(*agent)));
}

TEST_F(APowerRequest, StopsAHookAtItsTimeLimitAndGoesOn) {
  write_file(hooks + "/10-hangs", "#!/bin/sh\nsleep 600\n");
  write_file(hooks + "/20-after", "#!/bin/sh\ntouch " + tmp.path() + "/after-ran\n");
  start();
  std::vector<power::event> finished;
  power::options o;
  o.host_halt = true;
  o.hook_timeout = 300ms;
  o.wait = true;
  o.wait_timeout = 30s;
  o.on_event = [&](const power::event& e) {
    if (e.what == power::event::kind::hook_finished) finished.push_back(e);
  };
  const auto out = run_for(ctx, power::request(*guest, power::action::poweroff, o), 60s);
  EXPECT_TRUE(out.done);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0].hook, "10-hangs");
  EXPECT_TRUE(finished[0].timed_out);
  EXPECT_EQ(finished[0].signal, SIGTERM);
  EXPECT_EQ(finished[0].exit_code, -1);
  EXPECT_FALSE(finished[1].timed_out);
  EXPECT_EQ(finished[1].exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "/after-ran"));
}

TEST_F(APowerRequest, RefusesASecondRequestWhileOneIsInProgress) {
  write_file(hooks + "/10-hangs", "#!/bin/sh\nsleep 600\n");
  start();
  const auto first = raw_request(v1::POWER_ACTION_POWEROFF, 120'000, true);
  EXPECT_EQ(first.hooks_size(), 1);
  auto e = expect_error([&] { raw_request(v1::POWER_ACTION_REBOOT); });
  EXPECT_EQ(e.remote_code(), remote_errc::failed_precondition) << e.what();
  EXPECT_TRUE(contains(e.what(), "poweroff (host halt) is already in progress")) << e.what();
  // A watcher that joins now learns what is going on.
  auto watch = run_for(ctx, guest->start("power.Watch", ""));
  auto item = run_for(ctx, watch->next());
  ASSERT_TRUE(item);
  v1::PowerEvent ev;
  ASSERT_TRUE(ev.ParseFromString(item->bytes));
  EXPECT_EQ(ev.kind(), K::KIND_WATCHING);
  EXPECT_EQ(ev.action(), v1::POWER_ACTION_POWEROFF);
  EXPECT_TRUE(ev.host_halt());
  // Stopping the agent (as a shutdown by someone else would) ends the hook
  // at once instead of waiting out its time limit.
  const int st = agent->stop(SIGTERM, std::chrono::seconds(10));
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
}

TEST_F(APowerRequest, WithWaitFollowsAHaltUntilTheAgentIsGone) {
  start();
  const auto out = run_for(ctx, power::request(*guest, power::action::halt, {.wait = true, .wait_timeout = 30s}));
  EXPECT_TRUE(out.done);
  EXPECT_TRUE(WIFEXITED(exit_status(*agent)));
}

TEST_F(APowerRequest, WithWaitReportsAGuestThatDoesNotComeBackFromAReboot) {
  // The simulated reboot ends the agent and its socket: to the host that is
  // QEMU exiting instead of rebooting (as with -no-reboot).
  start();
  auto e = expect_error(
      [&] { run_for(ctx, power::request(*guest, power::action::reboot, {.wait = true, .wait_timeout = 30s})); });
  EXPECT_EQ(e.code(), make_error_code(errc::connection_lost)) << e.what();
  EXPECT_TRUE(contains(e.what(), "instead of rebooting")) << e.what();
}

// --- Over D-Bus, against a private bus without logind or systemd ------------

// A dbus-daemon of our own, announced to the agent as the system bus.
class private_bus {
 public:
  explicit private_bus(const std::string& dir) {
    const std::string path = dir + "/bus";
    address_ = "unix:path=" + path;
    const std::string conf = dir + "/bus.conf";
    write_file(conf,
               "<busconfig><type>system</type><listen>" + address_ +
                   "</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
                   "<allow own=\"*\"/><allow send_type=\"*\"/><allow receive_type=\"*\"/></policy></busconfig>\n",
               0644);
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    // Its complaints (fd limits) go to a file, not the test output.
    posix_spawn_file_actions_addopen(&fa, 2, (dir + "/bus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {"/usr/bin/dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start dbus-daemon (package dbus-daemon): " + std::string(std::strerror(rc)));
    }
    // It prints its address once it listens.
    pollfd p{fds[0], POLLIN, 0};
    char buf[256];
    const bool ready = ::poll(&p, 1, 10'000) > 0 && ::read(fds[0], buf, sizeof buf) > 0;
    ::close(fds[0]);
    if (!ready) throw std::runtime_error("dbus-daemon did not start");
  }
  ~private_bus() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& address() const { return address_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

// Sets an environment variable for the agents a test starts.
struct scoped_env {
  scoped_env(const char* k, const std::string& v) : key(k) {
    if (const char* old = std::getenv(k)) before = old;
    ::setenv(k, v.c_str(), 1);
  }
  ~scoped_env() {
    if (before) ::setenv(key, before->c_str(), 1);
    else ::unsetenv(key);
  }
  const char* key;
  std::optional<std::string> before;
};

TEST_F(APowerRequest, WithoutLogindFallsBackToTheSystemdManagerAndSaysWhenThatIsMissingToo) {
  private_bus bus(tmp.path());
  scoped_env env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  start("logind");
  auto e = expect_error([&] { raw_request(v1::POWER_ACTION_POWEROFF); });
  EXPECT_EQ(e.remote_code(), remote_errc::unavailable) << e.what();
  // logind's name has no owner on this bus, nor has systemd's.
  EXPECT_TRUE(contains(e.what(), "the systemd manager does not answer")) << e.what();
  EXPECT_TRUE(contains(e.what(), "org.freedesktop.systemd1")) << e.what();
  run_for(ctx, guest->ping());
}

TEST_F(APowerRequest, SaysWhenNeitherTheSystemBusNorSystemdsPrivateSocketAnswers) {
  if (std::filesystem::exists("/run/systemd/private")) GTEST_SKIP() << "this machine runs systemd";
  scoped_env env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + tmp.path() + "/no-bus-here");
  start("systemd");
  auto e = expect_error([&] { raw_request(v1::POWER_ACTION_REBOOT); });
  EXPECT_EQ(e.remote_code(), remote_errc::unavailable) << e.what();
  EXPECT_TRUE(contains(e.what(), "cannot reach systemd")) << e.what();
  EXPECT_TRUE(contains(e.what(), "/run/systemd/private")) << e.what();
}

// --- Guest files ---------------------------------------------------------------

TEST(AGuestFile, NamesItsSocketsAndDefaultsTheNameToTheFileName) {
  std::vector<std::string> errors;
  auto g = power::parse_guest("# web server\n\n  socket = /run/vm/web/tether.sock  # the chardev\nqmp=/run/vm/web/qmp#1.sock\n",
                              "/etc/tether/guests.d/web1.conf", errors);
  ASSERT_TRUE(g) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(g->name, "web1");
  EXPECT_EQ(g->socket, "/run/vm/web/tether.sock");
  EXPECT_EQ(g->qmp, "/run/vm/web/qmp#1.sock");
  g = power::parse_guest("name = db\nsocket=/s\n", "/x/other.conf", errors);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->name, "db");
  EXPECT_TRUE(g->qmp.empty());
  EXPECT_TRUE(errors.empty());
}

TEST(AGuestFile, IsRefusedWithFileAndLineForEachMistake) {
  std::vector<std::string> errors;
  EXPECT_FALSE(power::parse_guest("socket = /s\nsokcet = /t\njunk\nqmp =\n", "/d/a.conf", errors));
  EXPECT_EQ(errors, (std::vector<std::string>{"/d/a.conf:2: unknown key 'sokcet' (known: name, socket, qmp)",
                                              "/d/a.conf:3: expected KEY = VALUE, got 'junk'",
                                              "/d/a.conf:4: 'qmp' has no value"}));
  errors.clear();
  EXPECT_FALSE(power::parse_guest("qmp = relative/qmp.sock\n", "/d/b.conf", errors));
  EXPECT_EQ(errors, (std::vector<std::string>{"/d/b.conf: no 'socket = PATH' (the guest's tether chardev socket)",
                                              "/d/b.conf: 'relative/qmp.sock' is not an absolute path"}));
}

TEST(AGuestFile, FollowsTheSharedIniDialect) {
  // A key set twice, a control character, a section header (guest files have none).
  const std::vector<std::string> expected = {"/d/c.conf:2: socket is set twice (first on line 1)",
                                             "/d/c.conf:3: contains a control character",
                                             "/d/c.conf:4: expected KEY = VALUE, got '[guest]'"};
  std::vector<std::string> errors;
  const bool parsed = power::parse_guest("socket = /s\nsocket = /t\nname = a\x01b\n[guest]\n", "/d/c.conf", errors)
                          .has_value();
  EXPECT_FALSE(parsed);
  EXPECT_EQ(errors, expected);
  errors.clear();
  auto g = power::parse_guest("socket = /s\t# tab before the comment\r\n", "/d/d.conf", errors);
  ASSERT_TRUE(g) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(g->socket, "/s");
}

TEST(AGuestDirectory, ListsTheConfFilesInNameOrderAndReportsTheBadOnes) {
  test::temp_dir d;
  write_file(d.path() + "/b.conf", "socket = /run/b.sock\n", 0644);
  write_file(d.path() + "/a.conf", "socket = /run/a.sock\n", 0644);
  write_file(d.path() + "/c.conf", "name = a\nsocket = /run/c.sock\n", 0644);
  write_file(d.path() + "/bad.conf", "socket /x\n", 0644);
  write_file(d.path() + "/README", "not a guest\n", 0644);
  write_file(d.path() + "/a.conf~", "socket = /run/old.sock\n", 0644);
  auto list = power::load_guests(d.path());
  ASSERT_EQ(list.guests.size(), 3u);
  EXPECT_EQ(list.guests[0].name, "a");
  EXPECT_EQ(list.guests[1].name, "b");
  EXPECT_EQ(list.guests[2].socket, "/run/c.sock");
  EXPECT_EQ(list.errors, (std::vector<std::string>{
                             d.path() + "/bad.conf:1: expected KEY = VALUE, got 'socket /x'",
                             d.path() + "/bad.conf: no 'socket = PATH' (the guest's tether chardev socket)",
                             d.path() + "/c.conf: guest name 'a' also used by " + d.path() + "/a.conf"}));
  EXPECT_TRUE(power::load_guests(d.path() + "/missing").guests.empty());
}

// --- shutdown_all ------------------------------------------------------------------

// Stands in for a QEMU whose guest has no agent: its tether socket accepts
// connections and never answers; on system_powerdown through QMP the guest
// "powers off": SHUTDOWN event, then QEMU exits (both sockets close).
class agentless_qemu {
 public:
  agentless_qemu(asio::io_context& ctx, const std::string& dir)
      : tether_path(dir + "/tether.sock"), qmp_path(dir + "/qmp.sock"),
        tether_(ctx, stream_protocol::endpoint(tether_path)), qmp_(ctx, stream_protocol::endpoint(qmp_path)) {
    asio::co_spawn(ctx, hold_tether(), asio::detached);
    asio::co_spawn(ctx, serve_qmp(), asio::detached);
  }
  const std::string tether_path, qmp_path;
  bool powerdown_seen = false;

 private:
  awaitable<void> hold_tether() {
    boost::system::error_code ec;
    for (;;) {
      auto s = co_await tether_.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      held_.push_back(std::move(s));
    }
  }
  awaitable<void> serve_qmp() {
    boost::system::error_code ec;
    auto s = co_await qmp_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto send = [&s](std::string line) -> awaitable<void> {
      co_await asio::async_write(s, asio::buffer(line), use_awaitable);
    };
    co_await send(R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}})" "\r\n");
    std::string buf;
    for (;;) {
      const std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), '\n',
                                                            asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      auto cmd = json::parse(buf.substr(0, n)).as_object();
      buf.erase(0, n);
      co_await send(R"({"return": {}, "id": )" + json::serialize(cmd.at("id")) + "}\r\n");
      if (cmd.at("execute").as_string() == "system_powerdown") {
        powerdown_seen = true;
        co_await send(R"({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}, "timestamp": {"seconds": 1, "microseconds": 2}})" "\r\n");
        // QEMU exits.
        s.close();
        tether_.close();
        qmp_.close();
        held_.clear();
        ::unlink(tether_path.c_str());
        ::unlink(qmp_path.c_str());
        co_return;
      }
    }
  }
  stream_protocol::acceptor tether_, qmp_;
  std::vector<stream_protocol::socket> held_;
};

class ShutdownAll : public ::testing::Test {
 protected:
  test::temp_dir tmp;
  asio::io_context ctx;

  std::string hook_dir(const std::string& name, const std::string& marker) {
    const std::string d = tmp.path() + "/" + name + "-hooks";
    std::filesystem::create_directory(d);
    write_file(d + "/10-mark", "#!/bin/sh\necho \"$TETHER_HOST_HALT\" > " + marker + "\n");
    return d;
  }
};

TEST_F(ShutdownAll, PowersEveryGuestOffAndPressesThePowerButtonOfThoseWithoutAnAgent) {
  test::agent_process one(simulated(hook_dir("one", tmp.path() + "/one-hook")));
  test::agent_process two(simulated(hook_dir("two", tmp.path() + "/two-hook")));
  std::filesystem::create_directory(tmp.path() + "/qemu");
  agentless_qemu bare(ctx, tmp.path() + "/qemu");
  std::vector<power::guest_config> guests(4);
  guests[0].name = "one";
  guests[0].socket = one.socket_path();
  guests[1].name = "bare";
  guests[1].socket = bare.tether_path;
  guests[1].qmp = bare.qmp_path;
  guests[2].name = "two";
  guests[2].socket = two.socket_path();
  guests[3].name = "off";
  guests[3].socket = tmp.path() + "/not-running.sock";

  std::vector<std::string> reported;
  power::shutdown_options o;
  o.deadline = 60s;
  o.agent_timeout = 1s;
  o.on_result = [&](const power::guest_result& r) { reported.push_back(r.name); };
  const auto results = run_for(ctx, power::shutdown_all(ctx.get_executor(), guests, o), 90s);

  ASSERT_EQ(results.size(), 4u);
  for (const auto& r : results) EXPECT_TRUE(r.down) << r.name << ": " << r.detail;
  EXPECT_EQ(results[0].via, power::guest_result::how::agent);
  EXPECT_EQ(results[2].via, power::guest_result::how::agent);
  EXPECT_TRUE(contains(results[0].detail, "agent: poweroff via the kernel (simulated), 1 host-halt hook(s)"))
      << results[0].detail;
  EXPECT_EQ(results[1].via, power::guest_result::how::acpi);
  EXPECT_TRUE(contains(results[1].detail, "agent did not answer")) << results[1].detail;
  EXPECT_TRUE(bare.powerdown_seen);
  EXPECT_EQ(results[3].via, power::guest_result::how::not_running);
  EXPECT_EQ(reported.size(), 4u);
  // Both agents ran their hook as a host halt, then stopped.
  EXPECT_EQ(slurp(tmp.path() + "/one-hook"), "1\n");
  EXPECT_EQ(slurp(tmp.path() + "/two-hook"), "1\n");
  EXPECT_TRUE(WIFEXITED(exit_status(one)));
  EXPECT_TRUE(WIFEXITED(exit_status(two)));
}

TEST_F(ShutdownAll, ReportsAGuestItCannotPowerOff) {
  // An agentless guest without a QMP socket: nothing can power it off.
  stream_protocol::acceptor silent(ctx, stream_protocol::endpoint(tmp.path() + "/silent.sock"));
  std::vector<power::guest_config> guests(1);
  guests[0].name = "silent";
  guests[0].socket = tmp.path() + "/silent.sock";
  const auto results = run_for(ctx, power::shutdown_all(ctx.get_executor(), guests, {.deadline = 5s, .agent_timeout = 500ms}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].down);
  EXPECT_EQ(results[0].via, power::guest_result::how::none);
  EXPECT_TRUE(contains(results[0].detail, "no qmp socket is configured")) << results[0].detail;
}

TEST_F(ShutdownAll, IsWhatTetherctlShutdownAllRunsForAConfigDirectory) {
  test::agent_process one(simulated(hook_dir("one", tmp.path() + "/one-hook")));
  const std::string dir = tmp.path() + "/guests.d";
  std::filesystem::create_directory(dir);
  write_file(dir + "/one.conf", "socket = " + one.socket_path() + "\n", 0644);
  auto ok = test::run_tetherctl("shutdown-all --config-dir " + dir + " --deadline 30 --agent-timeout 5");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_TRUE(contains(ok.out, "one: down - agent: poweroff via the kernel (simulated), 1 host-halt hook(s); down after"))
      << ok.out;
  EXPECT_TRUE(contains(ok.out, "shutdown-all: 1 of 1 guest(s) down")) << ok.out;

  // A guest that does not go down, and a broken file: non-zero exit.
  stream_protocol::acceptor silent(ctx, stream_protocol::endpoint(tmp.path() + "/silent.sock"));
  write_file(dir + "/one.conf", "socket = " + tmp.path() + "/silent.sock\n", 0644);
  write_file(dir + "/typo.conf", "sockt = /x\n", 0644);
  auto bad = test::run_tetherctl("--json shutdown-all --config-dir " + dir + " --deadline 3 --agent-timeout 0.5");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_TRUE(contains(bad.out, "typo.conf:1: unknown key 'sockt'")) << bad.out;
  EXPECT_TRUE(contains(bad.out, R"({"name":"one","down":false,"via":"none")")) << bad.out;
}

TEST(TetherctlPower, ChecksItsArgumentsBeforeItConnects) {
  for (const char* args : {"power", "power hibernate", "power poweroff --hook-timeout 5",
                           "power reboot --wait-timeout 0", "power poweroff --host-halt --hook-timeout 601",
                           "shutdown-all --deadline x"}) {
    auto r = test::run_tetherctl(std::string("--socket /nonexistent ") + args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.out;
  }
}

}  // namespace
}  // namespace tether
