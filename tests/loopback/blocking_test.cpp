// The blocking forms of every service (blocking_client.hpp) against the real
// agent: the same calls as the coroutine API, run to completion on the
// blocking_client's own io_context.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/agent_process.hpp"
#include "tether/blocking_client.hpp"
#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"
#include "tether/qmp.hpp"
#include "tether/stats.hpp"

namespace tether {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ABlockingClient : public ::testing::Test {
 protected:
  test::agent_process agent;
  test::temp_dir dir;
  blocking_client guest{{.socket_path = agent.socket_path(), .call_timeout = 10s}};
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }
};

TEST_F(ABlockingClient, RunsACommandAndCapturesItsOutputAndInput) {
  const auto r = exec::run(guest, {.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.result.status(), 3);
  const auto cat = exec::run(guest, {.argv = {"cat"}}, {.input = std::string("fed to stdin")});
  EXPECT_EQ(cat.out, "fed to stdin");
  const auto cut = exec::run(guest, {.argv = {"echo", "0123456789"}}, {.output_limit = 4});
  EXPECT_EQ(cut.out, "0123");
  EXPECT_TRUE(cut.out_truncated);
}

TEST_F(ABlockingClient, StreamsAProcessItFeedsAndSignals) {
  auto p = exec::blocking_process::start(guest, {.argv = {"sh", "-c", "read line; echo \"got $line\"; exec sleep 600"},
                                                 .stdin = true});
  p.write("hello\n");
  p.close_stdin();
  const auto chunk = p.read();
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->which, exec::stream_id::out);
  EXPECT_EQ(chunk->bytes, "got hello\n");
  p.signal(SIGTERM);
  const auto r = p.wait();
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.status(), 128 + SIGTERM);
}

TEST_F(ABlockingClient, MovesAndManagesFiles) {
  const auto up = files::upload_bytes(guest, "content\n", path("a"));
  EXPECT_EQ(up.bytes, 8u);
  EXPECT_EQ(read_file(path("a")), "content\n");
  EXPECT_EQ(files::download_bytes(guest, path("a"), {.checksum = files::checksum::xxh64}), "content\n");

  files::mkdir(guest, path("d/e"), {.parents = true});
  files::rename(guest, path("a"), path("d/e/b"));
  files::symlink(guest, "b", path("d/e/link"));
  const auto entries = files::list(guest, path("d/e"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "b");
  EXPECT_TRUE(entries[0].is_regular());
  EXPECT_EQ(entries[0].size, 8u);
  EXPECT_TRUE(entries[1].is_symlink());
  EXPECT_EQ(entries[1].symlink_target, "b");
  EXPECT_TRUE(files::stat(guest, path("d/e/link"), {.follow_symlinks = true}).is_regular());
  EXPECT_TRUE(files::stat(guest, path("d/e/link")).is_symlink());

  files::download_file(guest, path("d/e/b"), path("local"));
  EXPECT_EQ(read_file(path("local")), "content\n");
  files::upload_file(guest, path("local"), path("d/again"));
  EXPECT_EQ(read_file(path("d/again")), "content\n");
  const auto tree = files::download_tree(guest, path("d"), path("copy"));
  EXPECT_EQ(tree.files, 2u);
  EXPECT_EQ(tree.symlinks, 1u);
  const auto back = files::upload_tree(guest, path("copy"), path("copy2"));
  EXPECT_EQ(back.files, 2u);
  EXPECT_EQ(read_file(path("copy2/e/b")), "content\n");

  files::remove(guest, path("d"), {.recursive = true});
  EXPECT_FALSE(fs::exists(path("d")));
  try {
    files::stat(guest, path("d"));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::not_found) << e.what();
  }
}

TEST_F(ABlockingClient, ReadsStatsOnceAndAsASubscriptionThatEnds) {
  const auto s = stats::get(guest, {.rate_interval = milliseconds(100)});
  EXPECT_GT(s.memory.total_bytes, 0u);
  EXPECT_TRUE(s.cpu.total.percent.has_value());

  auto sub = stats::subscribe(guest, {.interval = milliseconds(50), .max_samples = 3});
  for (std::uint64_t i = 1; i <= 3; ++i) {
    const auto sample = sub.next();
    ASSERT_TRUE(sample.has_value()) << "sample " << i;
    EXPECT_EQ(sample->sequence, i);
  }
  EXPECT_FALSE(sub.next().has_value());  // max_samples reached: the end
  EXPECT_EQ(sub.async().samples_received(), 3u);
}

TEST_F(ABlockingClient, AnswersPingAndInfoAndTheAgentsHello) {
  EXPECT_EQ(guest.ping("x").payload, "x");
  const auto info = guest.info();
  EXPECT_EQ(info.agent_pid, static_cast<std::uint32_t>(agent.pid()));
  ASSERT_TRUE(guest.agent_hello().has_value());
  EXPECT_EQ(guest.agent_hello()->session_id, info.session_id);
}

TEST(ABlockingClientWithoutUdevd, GetsTheAgentsErrorsFromEveryDevicesCall) {
  test::agent_process agent{{"--udev-control", "/nonexistent/udev/control"}};
  blocking_client guest({.socket_path = agent.socket_path(), .call_timeout = 10s});
  const devices::filter f{.subsystem = "block"};
  auto expect_unavailable = [](auto op) {
    try {
      op();
      ADD_FAILURE() << "expected an error";
    } catch (const error& e) {
      EXPECT_EQ(e.remote_code(), remote_errc::unavailable) << e.what();
    }
  };
  expect_unavailable([&] { devices::list(guest, f); });
  expect_unavailable([&] { devices::wait(guest, f, {.timeout = 600s}); });
  expect_unavailable([&] { devices::wait_for(guest, f, 600s); });
  expect_unavailable([&] { devices::wait_gone(guest, f, 600s); });
  expect_unavailable([&] { devices::subscribe(guest, f); });
}

TEST(ABlockingClientOfASimulatedGuest, AsksForAPowerAction) {
  test::temp_dir hooks;
  test::agent_process agent{{"--power-simulate", "--power-method", "kernel", "--host-halt-dir", hooks.path()}};
  blocking_client guest({.socket_path = agent.socket_path(), .call_timeout = 10s});
  const auto out = power::request(guest, power::action::poweroff);
  EXPECT_EQ(out.reply.method, power::method::kernel);
  EXPECT_TRUE(out.reply.simulated);
  EXPECT_FALSE(out.done);
}

TEST(ABlockingShutdownAll, ReportsAGuestThatIsNotRunning) {
  power::guest_config g;
  g.name = "gone";
  g.socket = "/nonexistent/tether.sock";
  const auto results = power::shutdown_all({g}, {.deadline = 5s, .agent_timeout = 1s});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].name, "gone");
  EXPECT_EQ(results[0].via, power::guest_result::how::not_running);
  EXPECT_TRUE(results[0].down);
}

// A fake QEMU on a thread of its own (the blocking client runs its own
// io_context on this one): greeting, capabilities, one command, one event.
class fake_qemu {
 public:
  explicit fake_qemu(std::string path) : path_(std::move(path)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 1) != 0)
      throw std::runtime_error("fake QEMU cannot listen on " + path_);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_qemu() {
    thread_.join();
    ::close(listen_fd_);
  }
  std::string arguments_seen() const { return arguments_; }

 private:
  void serve() {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    send(fd, R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}})");
    reply(fd, "{}");  // qmp_capabilities
    const auto cmd = read_line(fd);
    arguments_ = boost::json::serialize(cmd.at("arguments"));
    send(fd, R"({"event": "DEVICE_DELETED", "data": {"device": "disk7"}, )"
             R"("timestamp": {"seconds": 1700000000, "microseconds": 5}})");
    send(fd, R"({"return": {"status": "running"}, "id": )" + boost::json::serialize(cmd.at("id")) + "}");
    char c;
    while (::read(fd, &c, 1) > 0) {
    }  // until the client closes
    ::close(fd);
  }
  boost::json::object read_line(int fd) {
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
    return boost::json::parse(line).as_object();
  }
  void reply(int fd, const std::string& ret) {
    const auto cmd = read_line(fd);
    send(fd, R"({"return": )" + ret + R"(, "id": )" + boost::json::serialize(cmd.at("id")) + "}");
  }
  static void send(int fd, const std::string& msg) {
    const std::string line = msg + "\r\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ADD_FAILURE() << "fake QEMU could not write";
  }

  std::string path_;
  int listen_fd_ = -1;
  std::string arguments_;
  std::thread thread_;
};

TEST(ABlockingQmpClient, RunsACommandAndWaitsForAnEventWithJsonAsText) {
  test::temp_dir dir;
  const std::string path = dir.path() + "/qmp.sock";
  fake_qemu qemu(path);
  {
    qmp::blocking_client q({.socket_path = path, .command_timeout = 5s});
    q.connect();
    EXPECT_EQ(boost::json::parse(q.greeting()).at("QMP").at("version").at("qemu").at("major").as_int64(), 7);
    const auto mark = q.event_mark();
    const auto ret = q.execute("query-status", R"({"verbose": true})");
    EXPECT_EQ(boost::json::parse(ret).at("status").as_string(), "running");
    const auto ev = q.wait_event("DEVICE_DELETED", {}, mark, {2s});
    EXPECT_EQ(boost::json::parse(ev.data).at("device").as_string(), "disk7");
    EXPECT_EQ(ev.timestamp_us, 1700000000LL * 1'000'000 + 5);
    try {
      q.execute("device_del", "not json");
      FAIL() << "expected an error";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
    }
  }  // closes the connection: the fake QEMU ends
  EXPECT_EQ(qemu.arguments_seen(), R"({"verbose":true})");
}

}  // namespace
}  // namespace tether
