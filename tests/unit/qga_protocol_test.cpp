// The QGA front end's protocol layer: cutting requests from the byte stream
// (qemu-ga's streamer rules, 0xFF, limits), parsing them, replies and their
// text, argument checks, and the dispatch policy (unknown, disabled by the
// block/allow lists or by [services], frozen), with qemu-ga 7.2's words.
#include "qga/json_stream.hpp"

#include <gtest/gtest.h>

#include "qga/args.hpp"
#include "qga/block_devices.hpp"
#include "qga/fsfreeze.hpp"
#include "qga/protocol.hpp"
#include "qga/qga_agent.hpp"
#include "qga/server.hpp"
#include "support/async.hpp"
#include "tether/common/memory_stream.hpp"

namespace tether::agent::qga {
namespace {

std::vector<stream_item> cut(std::string_view text, stream_limits limits = {}) {
  json_stream s(limits);
  std::vector<stream_item> out;
  s.feed(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), out);
  return out;
}

std::vector<std::string> texts(const std::vector<stream_item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back((i.error ? "error: " : "") + i.text);
  return out;
}

TEST(QgaJsonStream, CutsRequestsByTheirBracketsNotByLines) {
  EXPECT_EQ(texts(cut("{\"execute\":\"a\"}{\"execute\":\"b\"}")),
            (std::vector<std::string>{"{\"execute\":\"a\"}", "{\"execute\":\"b\"}"}));
  EXPECT_EQ(texts(cut("  \n{\"execute\":\n\"a\"}\n\n")), (std::vector<std::string>{"{\"execute\":\n\"a\"}"}));
}

TEST(QgaJsonStream, GivesTheSameRequestsWhateverTheSplitOfTheBytes) {
  const std::string input = "{\"a\":\"}{\\\"[\",\"b\":[1,{\"c\":2}]}\n[3]\"s\" 12 {\"d\":{}}";
  const auto whole = texts(cut(input));
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[0], "{\"a\":\"}{\\\"[\",\"b\":[1,{\"c\":2}]}");
  for (std::size_t at = 0; at <= input.size(); ++at) {
    json_stream s;
    std::vector<stream_item> out;
    s.feed(std::span(reinterpret_cast<const std::uint8_t*>(input.data()), at), out);
    s.feed(std::span(reinterpret_cast<const std::uint8_t*>(input.data()) + at, input.size() - at), out);
    EXPECT_EQ(texts(out), whole) << "split at " << at;
  }
}

TEST(QgaJsonStream, TopLevelScalarsAndStrayClosersAreValuesOfTheirOwn) {
  EXPECT_EQ(texts(cut("\"str\"\n123\ngarbage\n}")),
            (std::vector<std::string>{"\"str\"", "123", "garbage", "error: JSON parse error, expecting value"}));
}

TEST(QgaJsonStream, AByteFFDropsWhatWasPendingAndAnswersOnce) {
  const auto items = cut("{\"execute\":\"guest-p\xff{\"execute\":\"guest-ping\"}");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0].error);
  EXPECT_NE(items[0].text.find("JSON parse error"), std::string::npos);
  EXPECT_EQ(items[1].text, "{\"execute\":\"guest-ping\"}");
}

TEST(QgaJsonStream, AnOversizeRequestIsAnsweredOnceAndSkippedWithoutBeingKept) {
  json_stream s({.max_request_bytes = 64, .max_depth = 8});
  std::vector<stream_item> out;
  const std::string big = "{\"id\":\"" + std::string(10'000, 'a') + "\"}";
  s.feed(std::span(reinterpret_cast<const std::uint8_t*>(big.data()), big.size()), out);
  EXPECT_LE(s.pending(), 64u);
  const std::string next = "{\"execute\":\"guest-ping\"}";
  s.feed(std::span(reinterpret_cast<const std::uint8_t*>(next.data()), next.size()), out);
  EXPECT_EQ(texts(out), (std::vector<std::string>{"error: JSON token size limit exceeded", next}));
}

TEST(QgaJsonStream, TooDeepNestingIsAnsweredOnceAndSkipped) {
  const auto items = cut(std::string(20, '[') + std::string(20, ']') + "{\"execute\":\"x\"}", {.max_depth = 8});
  EXPECT_EQ(texts(items), (std::vector<std::string>{"error: JSON nesting depth limit exceeded", "{\"execute\":\"x\"}"}));
}

TEST(QgaJsonStream, AByteFFEndsTheSkippingOfAnUnfinishedOversizeRequest) {
  const auto items = cut("{\"id\":\"" + std::string(200, 'a') + "\xff{\"execute\":\"x\"}", {.max_request_bytes = 64});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].text, "JSON token size limit exceeded");
  EXPECT_TRUE(items[1].error);
  EXPECT_EQ(items[2].text, "{\"execute\":\"x\"}");
}

std::string parse_error(std::string_view text, std::optional<json::value>* id = nullptr) {
  request r;
  try {
    parse_request(text, r);
  } catch (const qga_error& e) {
    if (id) *id = r.id;
    return e.error_class() + ": " + e.what();
  }
  return "ok";
}

TEST(QgaProtocol, RefusesMalformedRequestsWithQemuGasWords) {
  EXPECT_EQ(parse_error("[1,2]"), "GenericError: QMP input must be a JSON object");
  EXPECT_EQ(parse_error("123"), "GenericError: QMP input must be a JSON object");
  EXPECT_EQ(parse_error("{\"execute\":1}"), "GenericError: QMP input member 'execute' must be a string");
  EXPECT_EQ(parse_error("{\"execute\":\"x\",\"arguments\":[]}"),
            "GenericError: QMP input member 'arguments' must be an object");
  EXPECT_EQ(parse_error("{\"exec\":\"x\"}"), "GenericError: QMP input member 'exec' is unexpected");
  EXPECT_EQ(parse_error("{\"arguments\":{}}"), "GenericError: QMP input lacks member 'execute'");
  EXPECT_EQ(parse_error("garbage").rfind("GenericError: JSON parse error, ", 0), 0u);
}

TEST(QgaProtocol, KeepsTheIdOfARequestItCouldReadAsAnObject) {
  std::optional<json::value> id;
  parse_error("{\"execute\":\"guest-ping\",\"extra\":1,\"id\":{\"a\":[1]}}", &id);
  ASSERT_TRUE(id);
  EXPECT_EQ(to_text(*id), "{\"a\": [1]}");
}

TEST(QgaProtocol, WritesRepliesAsQemuGaDoes) {
  EXPECT_EQ(reply_return(json::object{}, std::nullopt), "{\"return\": {}}");
  EXPECT_EQ(reply_return(5, json::value(7)), "{\"return\": 5, \"id\": 7}");
  EXPECT_EQ(reply_error("CommandNotFound", "The command x has not been found", std::nullopt),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x has not been found\"}}");
}

TEST(QgaProtocol, EscapesEveryNonAsciiCharacterAndReplacesInvalidUtf8) {
  EXPECT_EQ(to_text(json::value("\u201Cx\u201D")), "\"\\u201Cx\\u201D\"");
  EXPECT_EQ(to_text(json::value("a\xff" "b")), "\"a\\uFFFDb\"");
  EXPECT_EQ(to_text(json::value("\xf0\x9f\x98\x80")), "\"\\uD83D\\uDE00\"");
  EXPECT_EQ(to_text(json::value("\xc0\xaf")), "\"\\uFFFD\\uFFFD\"");  // overlong '/'
  EXPECT_EQ(to_text(json::value("\"\\\n\x01")), "\"\\\"\\\\\\n\\u0001\"");
}

std::string arg_error(std::string_view args_json, const std::function<void(args&)>& visit) {
  const auto o = json::parse(args_json).as_object();
  args a(o);
  try {
    visit(a);
    a.done();
  } catch (const qga_error& e) {
    return e.what();
  }
  return "ok";
}

TEST(QgaArgs, NamesTheMissingTheMistypedAndTheUnexpectedParameter) {
  auto id = [](args& a) { a.integer("id"); };
  EXPECT_EQ(arg_error("{}", id), "Parameter 'id' is missing");
  EXPECT_EQ(arg_error("{\"id\":\"a\"}", id), "Invalid parameter type for 'id', expected: integer");
  EXPECT_EQ(arg_error("{\"id\":1.5}", id), "Invalid parameter type for 'id', expected: integer");
  EXPECT_EQ(arg_error("{\"id\":18446744073709551615}", id), "Invalid parameter type for 'id', expected: integer");
  EXPECT_EQ(arg_error("{\"id\":-5}", id), "ok");
  EXPECT_EQ(arg_error("{\"id\":1,\"x\":2}", id), "Parameter 'x' is unexpected");
  EXPECT_EQ(arg_error("{\"arg\":[\"a\",1]}", [](args& a) { a.opt_strings("arg"); }),
            "Invalid parameter type for 'arg[1]', expected: string");
}

TEST(QgaFsfreeze, ConsidersOnlyFilesystemsOnDevicePaths) {
  const auto m = freezable_mounts(
      "/dev/vda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n"
      "/dev/vdb /mnt/data\\040x xfs rw 0 0\n//srv/share /mnt/s cifs rw 0 0\n");
  EXPECT_EQ(m, (std::vector<std::string>{"/", "/mnt/data x"}));
}

TEST(QgaBlockDevices, ReadsTheControllerAndBusFromTheSysfsPath) {
  const auto v = address_from_syspath("/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda");
  ASSERT_TRUE(v);
  EXPECT_EQ(to_text(to_json(*v)),
            "{\"pci-controller\": {\"domain\": 0, \"bus\": 0, \"slot\": 2, \"function\": 0}, \"bus-type\": "
            "\"virtio\", \"bus\": 0, \"target\": 0, \"unit\": 0}");
  // virtio-scsi behind a bridge: the innermost PCI function, the SCSI address.
  const auto s = address_from_syspath(
      "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:03.1/virtio4/host2/target2:0:3/2:0:3:5/block/sdb");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->bus_type, "scsi");
  EXPECT_EQ(s->bus, 2);
  EXPECT_EQ(s->slot, 3);
  EXPECT_EQ(s->function, 1);
  EXPECT_EQ(s->target, 3);
  EXPECT_EQ(s->unit, 5);
  EXPECT_FALSE(address_from_syspath("/sys/devices/virtual/block/loop0"));
  const auto a = address_from_syspath("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bus_type, "sata");
}

// The dispatcher over a registry without services: what policy decides
// before any command runs.
struct dispatch_rig {
  asio::io_context ctx;
  qga_options options;
  agent_config config;
  service_registry registry;
  freezer fsfreeze{ctx.get_executor(), "", options.freeze_limit, options.freeze_host_gone_limit};
  std::unique_ptr<qga_agent> agent;

  void start() {
    agent = std::make_unique<qga_agent>(ctx.get_executor(), options, config, registry, fsfreeze, "test");
  }
  std::string ask(const std::string& text) {
    auto r = test::run_for(ctx, agent->handle({false, text}));
    return r.text.value_or("(no reply)");
  }
};

TEST(QgaDispatch, AnswersUnknownAndDisabledCommandsAsQemuGa) {
  dispatch_rig rig;
  rig.options.block = {"guest-get-time"};
  rig.config.services_deny = {"files"};
  rig.start();
  EXPECT_EQ(rig.ask("{\"execute\":\"nope\",\"id\":3}"),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}, "
            "\"id\": 3}");
  EXPECT_EQ(rig.ask("{\"execute\":\"guest-get-time\"}"),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-get-time has been disabled\"}}");
  // A service denied in [services] is denied through QGA too.
  EXPECT_EQ(rig.ask("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/etc/hostname\"}}"),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-file-open has been disabled\"}}");
  EXPECT_EQ(rig.ask("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":42}}"), "{\"return\": 42}");
}

TEST(QgaDispatch, AnAllowListDisablesEveryOtherCommandAndGuestInfoSaysSo) {
  dispatch_rig rig;
  rig.options.allow = std::set<std::string>{"guest-info", "guest-sync"};
  rig.start();
  EXPECT_EQ(rig.ask("{\"execute\":\"guest-get-host-name\"}"),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-get-host-name has been "
            "disabled\"}}");
  const auto info = json::parse(rig.ask("{\"execute\":\"guest-info\"}"));
  int enabled = 0;
  for (const auto& c : info.at("return").at("supported_commands").as_array()) {
    const bool on = c.at("enabled").as_bool();
    enabled += on;
    EXPECT_EQ(on, c.at("name") == "guest-info" || c.at("name") == "guest-sync") << c;
  }
  EXPECT_EQ(enabled, 2);
}

TEST(QgaDispatch, AServiceCommandWhoseServiceIsNotRegisteredIsDisabled) {
  dispatch_rig rig;  // the registry holds no ping service
  rig.start();
  EXPECT_EQ(rig.ask("{\"execute\":\"guest-ping\"}"),
            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command guest-ping has been disabled\"}}");
}

TEST(QgaServer, PutsFFAheadOfTheSyncDelimitedReplyOnly) {
  dispatch_rig rig;
  rig.start();
  auto [host, guest] = io::make_memory_stream_pair(rig.ctx.get_executor());
  // The connection must end before the rig does: its frame refers to the agent.
  bool served = false;
  asio::co_spawn(rig.ctx, serve_connection(*rig.agent, *guest), [&](std::exception_ptr) { served = true; });
  const std::string req =
      "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":7}}\n{\"execute\":\"guest-sync\",\"arguments\":"
      "{\"id\":8}}";
  auto got = test::run_for(rig.ctx, [&]() -> awaitable<std::string> {
    const std::array bufs{asio::const_buffer(req.data(), req.size())};
    co_await host->write_all(bufs);
    std::string all;
    std::array<std::uint8_t, 256> buf{};
    while (std::count(all.begin(), all.end(), '\n') < 2) {
      const auto n = co_await host->read_some(buf);
      all.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    co_return all;
  }());
  EXPECT_EQ(got, "\xff{\"return\": 7}\n{\"return\": 8}\n");
  host->close();
  while (!served && rig.ctx.run_one_for(std::chrono::seconds(5)) > 0) {
  }
  EXPECT_TRUE(served) << "the connection did not end when the host closed it";
}

}  // namespace
}  // namespace tether::agent::qga
