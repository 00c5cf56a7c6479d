// The QMP client against a scripted fake QEMU on a unix socket: greeting and
// capabilities, replies matched by id among events, error replies, timeouts,
// events that arrive before or after their waiter, and the hotplug helpers.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <thread>

#include "support/build_paths.hpp"
#include "support/agent_process.hpp"
#include "support/async.hpp"
#include <boost/json.hpp>

#include "tether/qmp.hpp"

namespace tether {
namespace {

namespace json = boost::json;
using stream_protocol = asio::local::stream_protocol;
using test::run_for;
using namespace asio::experimental::awaitable_operators;

const char* greeting =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}})";

// obj("k1", v1, "k2", v2): a JSON object without an initializer_list, which
// GCC 12 cannot keep in a coroutine frame ("array used as initializer").
json::object obj() { return {}; }
template <class V, class... Rest>
json::object obj(const char* key, V value, Rest... rest) {
  json::object o = obj(rest...);
  o[key] = value;
  return o;
}

json::object event_json(const std::string& name, json::object data) {
  json::object e;
  e["event"] = name;
  e["data"] = std::move(data);
  e["timestamp"] = json::object{{"seconds", 1700000000}, {"microseconds", 1}};
  return e;
}

// One accepted QMP connection, seen from QEMU's side.
class fake_connection {
 public:
  explicit fake_connection(stream_protocol::socket s) : sock_(std::move(s)) {}

  awaitable<void> send_raw(std::string text) { co_await asio::async_write(sock_, asio::buffer(text), use_awaitable); }
  awaitable<void> send(const json::value& v) { co_await send_raw(json::serialize(v) + "\r\n"); }

  // The next command the client sent.
  awaitable<json::object> read_command() {
    const std::size_t n = co_await asio::async_read_until(sock_, asio::dynamic_buffer(buf_), '\n', use_awaitable);
    std::string line = buf_.substr(0, n);
    buf_.erase(0, n);
    co_return json::parse(line).as_object();
  }

  awaitable<json::object> expect_command(std::string name) {
    auto c = co_await read_command();
    EXPECT_EQ(c.at("execute").as_string(), name) << json::serialize(c);
    co_return c;
  }

  awaitable<void> reply(const json::object& cmd, json::value ret = json::object{}) {
    json::object r;
    r["return"] = std::move(ret);
    r["id"] = cmd.at("id");
    co_await send(r);
  }

  awaitable<void> reply_error(const json::object& cmd, std::string cls, std::string desc) {
    json::object r;
    r["error"] = obj("class", cls, "desc", desc);
    r["id"] = cmd.at("id");
    co_await send(r);
  }

  // What QEMU does first: greeting, then capabilities negotiation.
  awaitable<void> handshake() {
    co_await send_raw(std::string(greeting) + "\r\n");
    auto caps = co_await expect_command("qmp_capabilities");
    co_await reply(caps);
  }

  // Waits until the client closes the connection.
  awaitable<void> until_closed() {
    char c;
    boost::system::error_code ec;
    co_await sock_.async_read_some(asio::buffer(&c, 1), asio::redirect_error(use_awaitable, ec));
  }

  void close() { sock_.close(); }

 private:
  stream_protocol::socket sock_;
  std::string buf_;
};

// A fake QEMU: accepts one connection and runs the test's script on it.
class AQmpClient : public ::testing::Test {
 protected:
  test::temp_dir dir;
  std::string path = dir.path() + "/qmp.sock";
  asio::io_context ctx;
  stream_protocol::acceptor acceptor{ctx, stream_protocol::endpoint(path)};
  bool script_done = false;
  std::exception_ptr script_failure;

  void serve(std::function<awaitable<void>(fake_connection&)> script) {
    asio::co_spawn(
        ctx,
        [this, script = std::move(script)]() -> awaitable<void> {
          fake_connection conn(co_await acceptor.async_accept(use_awaitable));
          co_await script(conn);
        },
        [this](std::exception_ptr e) {
          script_failure = e;
          script_done = true;
        });
  }

  qmp::options opts(std::chrono::milliseconds timeout = 5s) {
    qmp::options o;
    o.socket_path = path;
    o.command_timeout = timeout;
    return o;
  }

  void TearDown() override {
    // Let the script finish what it was doing; report its failures.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!script_done && std::chrono::steady_clock::now() < deadline) {
      if (ctx.stopped()) ctx.restart();
      ctx.run_one_for(50ms);
    }
    if (script_failure) {
      try {
        std::rethrow_exception(script_failure);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "fake QEMU script failed: " << e.what();
      }
    }
  }
};

TEST_F(AQmpClient, ReadsTheGreetingAndNegotiatesCapabilities) {
  bool negotiated = false;
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.send_raw(std::string(greeting) + "\r\n");
    auto caps = co_await c.read_command();
    EXPECT_EQ(caps.at("execute").as_string(), "qmp_capabilities");
    EXPECT_TRUE(caps.contains("id"));
    negotiated = true;
    co_await c.reply(caps);
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  EXPECT_TRUE(negotiated);
  EXPECT_TRUE(q.connected());
  EXPECT_EQ(json::parse(q.greeting()).at("QMP").at("version").at("package").as_string(), "fake");
  q.close();
}

TEST_F(AQmpClient, MatchesRepliesToCommandsByIdAmongEvents) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto first = co_await c.read_command();
    auto second = co_await c.read_command();
    // Answer out of order, with events in between.
    co_await c.send(event_json("RESUME", obj()));
    co_await c.reply(second, obj("answer", second.at("execute")));
    co_await c.send(event_json("STOP", obj()));
    co_await c.reply(first, obj("answer", first.at("execute")));
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  // Both commands at once: each must get its own reply.
  auto [a, b] = run_for(ctx, [&]() -> awaitable<std::tuple<std::string, std::string>> {
    co_return co_await (q.execute("query-status") && q.execute("query-name"));
  }());
  EXPECT_EQ(json::parse(a).at("answer").as_string(), "query-status");
  EXPECT_EQ(json::parse(b).at("answer").as_string(), "query-name");
  // The events between the replies were kept, in order.
  EXPECT_EQ(run_for(ctx, q.wait_event("STOP", {}, 0, {1s})).position, 1u);
  q.close();
}

TEST_F(AQmpClient, TurnsAnErrorReplyIntoATetherErrorWithQemusDescription) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto cmd = co_await c.expect_command("device_del");
    co_await c.reply_error(cmd, "DeviceNotFound", "Device 'nope' not found");
    auto other = co_await c.expect_command("frobnicate");
    co_await c.reply_error(other, "SomethingNew", "new failure kind");
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  try {
    run_for(ctx, q.execute("device_del", R"({"id": "nope"})"));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), qmp::errc::device_not_found);
    EXPECT_EQ(qmp::error_class(e), "DeviceNotFound");
    EXPECT_NE(std::string(e.what()).find("Device 'nope' not found"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("device_del"), std::string::npos) << e.what();
  }
  try {
    run_for(ctx, q.execute("frobnicate"));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), qmp::errc::other_class);
    EXPECT_NE(std::string(e.what()).find("SomethingNew"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(q.connected());  // an error reply is not a connection failure
  q.close();
}

TEST_F(AQmpClient, TimesOutACommandWithoutAReplyAndIgnoresTheLateReply) {
  bool late_reply_sent = false;
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto slow = co_await c.expect_command("query-slow");
    auto next = co_await c.expect_command("query-status");  // sent after the timeout
    co_await c.reply(slow, obj("late", true));
    late_reply_sent = true;
    co_await c.reply(next, obj("status", "running"));
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  try {
    run_for(ctx, q.execute("query-slow", "{}", {200ms}));
    FAIL() << "expected a timeout";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_NE(std::string(e.what()).find("query-slow"), std::string::npos) << e.what();
  }
  auto r = run_for(ctx, q.execute("query-status"));
  EXPECT_TRUE(late_reply_sent);
  EXPECT_EQ(json::parse(r).at("status").as_string(), "running");  // not the late reply of query-slow
  q.close();
}

TEST_F(AQmpClient, CatchesAnEventThatArrivedBeforeTheWaitStarted) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto del = co_await c.expect_command("device_del");
    // QEMU may emit DEVICE_DELETED before it answers device_del.
    co_await c.send(event_json("DEVICE_DELETED", obj("device", "disk1", "path", "/machine/peripheral/disk1")));
    co_await c.reply(del);
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  const auto mark = q.event_mark();
  run_for(ctx, q.execute("device_del", R"({"id": "disk1"})"));
  auto e = run_for(ctx, q.wait_event("DEVICE_DELETED", {}, mark, {2s}));
  EXPECT_EQ(json::parse(e.data).at("device").as_string(), "disk1");
  EXPECT_EQ(e.timestamp_us, 1700000000LL * 1000000 + 1);  // {"seconds": 1700000000, "microseconds": 1}
  q.close();
}

// Found by qmp_fuzz: seconds * 10^6 overflowed (undefined behaviour).
TEST_F(AQmpClient, LeavesATimestampOutOfRangeAtZero) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    json::object e;
    e["event"] = "STOP";
    e["timestamp"] = obj("seconds", INT64_MAX / 1000, "microseconds", 1);
    co_await c.send(e);
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  auto e = run_for(ctx, q.wait_event("STOP", {}, 0, {2s}));
  EXPECT_EQ(e.timestamp_us, 0);
  q.close();
}

TEST_F(AQmpClient, CatchesAnEventThatArrivesWhileItWaits) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto go = co_await c.expect_command("cont");
    co_await c.reply(go);
    co_await c.send(event_json("SHUTDOWN", obj("guest", true)));
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  // The waiter first, then (concurrently) the command that causes the event.
  auto [e, ignored] = run_for(ctx, [&]() -> awaitable<std::tuple<qmp::event, std::string>> {
    co_return co_await (q.wait_event("SHUTDOWN", {}, std::nullopt, {5s}) && q.execute("cont"));
  }());
  EXPECT_TRUE(json::parse(e.data).at("guest").as_bool());
  q.close();
}

TEST_F(AQmpClient, DoesNotTakeAnEventFromBeforeTheMarkOrWithTheWrongData) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    co_await c.send(event_json("DEVICE_DELETED", obj("device", "disk1")));  // an old one
    auto ping = co_await c.expect_command("query-status");
    co_await c.reply(ping);
    auto del = co_await c.expect_command("device_del");
    co_await c.reply(del);
    co_await c.send(event_json("DEVICE_DELETED", obj("path", "/machine/peripheral/disk1/virtio-backend")));
    co_await c.send(event_json("DEVICE_DELETED", obj("device", "disk2")));
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  run_for(ctx, q.execute("query-status"));  // the old event has arrived by now
  EXPECT_EQ(q.event_mark(), 1u);
  const auto mark = q.event_mark();
  run_for(ctx, q.execute("device_del", R"({"id": "disk1"})"));
  auto is_disk1 = [](const qmp::event& e) {
    const auto data = json::parse(e.data).as_object();
    auto it = data.find("device");
    return it != data.end() && it->value() == "disk1";
  };
  try {
    run_for(ctx, q.wait_event("DEVICE_DELETED", is_disk1, mark, {300ms}));
    FAIL() << "took an event it should not have";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_NE(std::string(e.what()).find("DEVICE_DELETED"), std::string::npos) << e.what();
  }
  // Without the mark's protection the old event would have matched:
  EXPECT_EQ(run_for(ctx, q.wait_event("DEVICE_DELETED", is_disk1, 0, {1s})).position, 0u);
  q.close();
}

TEST_F(AQmpClient, SaysSoWhenEventsAfterTheMarkWereDroppedFromItsBacklog) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    for (int i = 0; i < 5; ++i) co_await c.send(event_json("BLOCK_JOB_READY", obj("n", i)));
    auto ping = co_await c.expect_command("query-status");
    co_await c.reply(ping);
    co_await c.until_closed();
  });
  auto o = opts();
  o.event_backlog = 2;
  qmp::client q(ctx.get_executor(), o);
  run_for(ctx, q.connect());
  run_for(ctx, q.execute("query-status"));
  try {
    run_for(ctx, q.wait_event("NEVER", {}, 0, {1s}));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::limit_exceeded) << e.what();
  }
  // The two newest are still there.
  auto e = run_for(ctx, q.wait_event("BLOCK_JOB_READY", {}, 3, {1s}));
  EXPECT_EQ(json::parse(e.data).at("n").as_int64(), 3);
  q.close();
}

TEST_F(AQmpClient, BoundsTheBytesOfItsBacklogNotOnlyTheNumberOfEvents) {
  // A hostile QEMU's large events: without a byte bound, the client would
  // hold event_backlog of them at max_message_size each.
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    for (int i = 0; i < 8; ++i)
      co_await c.send(event_json("BLOCK_JOB_READY", obj("n", i, "pad", std::string(20'000, 'x'))));
    auto ping = co_await c.expect_command("query-status");
    co_await c.reply(ping);
    co_await c.until_closed();
  });
  auto o = opts();
  o.event_backlog_bytes = 64 * 1024;  // three of those events
  qmp::client q(ctx.get_executor(), o);
  run_for(ctx, q.connect());
  run_for(ctx, q.execute("query-status"));  // after every event
  try {
    run_for(ctx, q.wait_event("BLOCK_JOB_READY", {}, 0, {1s}));
    FAIL() << "expected an error: the oldest events must have been dropped";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::limit_exceeded) << e.what();
  }
  auto e = run_for(ctx, q.wait_event("BLOCK_JOB_READY", {}, 5, {1s}));
  EXPECT_EQ(json::parse(e.data).at("n").as_int64(), 5);
  q.close();
}

TEST_F(AQmpClient, ParsesMessagesSplitAcrossReadsAndSeveralInOneRead) {
  serve([&](fake_connection& c) -> awaitable<void> {
    const std::string g = std::string(greeting) + "\r\n";
    for (char ch : g) co_await c.send_raw(std::string(1, ch));  // byte by byte
    auto caps = co_await c.expect_command("qmp_capabilities");
    auto id = json::serialize(caps.at("id"));
    // Reply, two events and whitespace in one write; pretty-printed like
    // QEMU's pretty=on.
    co_await c.send_raw("{\n  \"return\": {},\n  \"id\": " + id + "\n}\r\n" +
                        json::serialize(event_json("A", obj())) + "\r\n" + json::serialize(event_json("B", obj())) +
                        "\r\n\r\n");
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  EXPECT_EQ(run_for(ctx, q.wait_event("B", {}, 0, {2s})).position, 1u);
  q.close();
}

TEST_F(AQmpClient, FailsWaitingCommandsWhenQemuGoesAway) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    co_await c.expect_command("query-status");
    c.close();  // QEMU exits without answering
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  try {
    run_for(ctx, q.execute("query-status"));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::connection_lost) << e.what();
    EXPECT_TRUE(e.is_connectivity());
  }
  EXPECT_FALSE(q.connected());
  try {
    run_for(ctx, q.wait_event("SHUTDOWN", {}, std::nullopt, {5s}));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::connection_lost) << e.what();
  }
}

TEST_F(AQmpClient, ReportsInvalidJsonFromQemuAsAProtocolError) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.send_raw("{\"QMP\": {]}\r\n");
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  try {
    run_for(ctx, q.connect());
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::protocol_error) << e.what();
  }
}

TEST_F(AQmpClient, TimesOutWhenQemuSendsNoGreeting) {
  serve([&](fake_connection& c) -> awaitable<void> { co_await c.until_closed(); });
  qmp::client q(ctx.get_executor(), opts(300ms));
  try {
    run_for(ctx, q.connect());
    FAIL() << "expected a timeout";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("greeting"), std::string::npos) << e.what();
  }
  q.close();
}

TEST_F(AQmpClient, HotplugsADiskAsBlockNodesAndAVirtioBlkDevice) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto file = co_await c.expect_command("blockdev-add");
    const auto& fa = file.at("arguments").as_object();
    EXPECT_EQ(fa.at("driver").as_string(), "file");
    EXPECT_EQ(fa.at("filename").as_string(), "/images/d7.img");
    const std::string file_node(fa.at("node-name").as_string());
    co_await c.reply(file);
    auto fmt = co_await c.expect_command("blockdev-add");
    const auto& ma = fmt.at("arguments").as_object();
    EXPECT_EQ(ma.at("driver").as_string(), "raw");
    EXPECT_EQ(ma.at("file").as_string(), file_node);
    const std::string fmt_node(ma.at("node-name").as_string());
    co_await c.reply(fmt);
    auto dev = co_await c.expect_command("device_add");
    const auto& da = dev.at("arguments").as_object();
    EXPECT_EQ(da.at("driver").as_string(), "virtio-blk-pci");
    EXPECT_EQ(da.at("id").as_string(), "disk7");
    EXPECT_EQ(da.at("drive").as_string(), fmt_node);
    EXPECT_EQ(da.at("serial").as_string(), "disk7");
    co_await c.reply(dev);

    auto del = co_await c.expect_command("device_del");
    EXPECT_EQ(del.at("arguments").at("id").as_string(), "disk7");
    co_await c.reply(del);
    // The guest takes its time; the backend's event comes first.
    co_await c.send(event_json("DEVICE_DELETED", obj("path", "/machine/peripheral/disk7/virtio-backend")));
    co_await c.send(event_json("DEVICE_DELETED", obj("device", "disk7", "path", "/machine/peripheral/disk7")));
    auto del_fmt = co_await c.expect_command("blockdev-del");
    EXPECT_EQ(del_fmt.at("arguments").at("node-name").as_string(), fmt_node);
    co_await c.reply(del_fmt);
    auto del_file = co_await c.expect_command("blockdev-del");
    EXPECT_EQ(del_file.at("arguments").at("node-name").as_string(), file_node);
    co_await c.reply(del_file);
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  qmp::disk_options d;
  d.id = "disk7";
  d.image_path = "/images/d7.img";
  d.serial = "disk7";
  run_for(ctx, q.add_disk(d));
  run_for(ctx, q.remove_device("disk7", {5s}));
  q.close();
}

TEST_F(AQmpClient, UndoesTheBlockNodesWhenDeviceAddFails) {
  std::vector<std::string> deleted;
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    for (int i = 0; i < 2; ++i) {
      auto add = co_await c.expect_command("blockdev-add");
      co_await c.reply(add);
    }
    auto dev = co_await c.expect_command("device_add");
    co_await c.reply_error(dev, "GenericError", "Bus 'pci.0' does not support hotplugging");
    for (int i = 0; i < 2; ++i) {
      auto del = co_await c.expect_command("blockdev-del");
      deleted.emplace_back(del.at("arguments").at("node-name").as_string());
      co_await c.reply(del);
    }
    co_await c.until_closed();
  });
  qmp::client q(ctx.get_executor(), opts());
  run_for(ctx, q.connect());
  qmp::disk_options d;
  d.id = "disk8";
  d.image_path = "/images/d8.img";
  try {
    run_for(ctx, q.add_disk(d));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("does not support hotplugging"), std::string::npos) << e.what();
  }
  EXPECT_EQ(deleted, (std::vector<std::string>{"disk8-fmt", "disk8-file"}));
  q.close();
}

TEST_F(AQmpClient, RefusesADiskIdQemuWouldReject) {
  qmp::client q(ctx.get_executor(), opts());
  qmp::disk_options d;
  d.id = "7disk";
  d.image_path = "/x";
  try {
    run_for(ctx, q.add_disk(d));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
  }
  script_done = true;  // no connection was made
}

TEST(AQmpClientWithoutQemu, FailsToConnectWithAClearMessage) {
  asio::io_context ctx;
  qmp::options o;
  o.socket_path = "/nonexistent/qmp.sock";
  qmp::client q(ctx.get_executor(), o);
  try {
    run_for(ctx, q.connect());
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::connection_failed);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/qmp.sock"), std::string::npos) << e.what();
  }
}

// tetherctl qmp: one command, no agent socket needed.
TEST_F(AQmpClient, ServesTetherctlQmpWithoutAnAgentSocket) {
  serve([&](fake_connection& c) -> awaitable<void> {
    co_await c.handshake();
    auto cmd = co_await c.expect_command("device_del");
    EXPECT_EQ(cmd.at("arguments").at("id").as_string(), "disk3");
    co_await c.reply(cmd, obj("ok", true));
  });
  // The fake QEMU runs on this io_context in a thread while tetherctl runs.
  std::thread server([&] {
    while (!script_done) ctx.run_one_for(50ms);
  });
  const std::string cmd = std::string("env -u TETHER_SOCKET ") + test::tetherctl_binary + " qmp --qmp " + path +
                          " device_del '{\"id\": \"disk3\"}' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  server.join();
  EXPECT_EQ(WEXITSTATUS(st), 0) << out;
  EXPECT_EQ(out, "{\"ok\":true}\n");
}

}  // namespace
}  // namespace tether
