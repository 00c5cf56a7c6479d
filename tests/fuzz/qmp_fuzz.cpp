// The QMP client's JSON handling (host-lib/src/qmp.cpp) against a hostile
// QEMU: the input is what "QEMU" writes on the QMP socket, in steps
// (records.hpp; op bit 0 set: no pause after the step, so messages share a
// read), while the client connects, runs commands, hotplugs a disk and
// waits for events. Every operation must end (with a result or a
// tether::error), results must be JSON, and nothing may crash or leak.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <csignal>
#include <cstdint>
#include <filesystem>

#include "drive.hpp"
#include "records.hpp"
#include "tether/qmp.hpp"

namespace {

using namespace tether;
using tether::fuzz::check;
using stream_protocol = asio::local::stream_protocol;

std::string socket_path;

bool is_json(const std::string& text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

// What a test harness does with QEMU, each step allowed to fail.
asio::awaitable<void> drive(qmp::client& qemu, int& running) {
  auto step = [](auto op) -> asio::awaitable<void> {
    try {
      co_await op();
    } catch (const tether::error&) {
    }
  };
  co_await step([&]() -> asio::awaitable<void> { co_await qemu.connect(); });
  check(!qemu.connected() || is_json(qemu.greeting()), "greeting is JSON");
  co_await step([&]() -> asio::awaitable<void> {
    const auto status = co_await qemu.execute("query-status");
    check(is_json(status), "a command's result is JSON");
  });
  co_await step([&]() -> asio::awaitable<void> {
    co_await qemu.add_disk({.id = "disk7", .image_path = "/var/lib/images/disk7.img", .serial = "disk7"});
  });
  co_await step([&]() -> asio::awaitable<void> { co_await qemu.remove_device("disk7"); });
  co_await step([&]() -> asio::awaitable<void> {
    const auto e = co_await qemu.wait_event("STOP", {}, 0);
    check(is_json(e.data), "event data is JSON");
  });
  --running;
}

asio::awaitable<void> watch(qmp::client& qemu, int& running) {
  try {
    const auto e = co_await qemu.wait_event(
        "DEVICE_DELETED", [](const qmp::event& e) { return e.data.find("disk") != std::string::npos; }, 0);
    check(is_json(e.data), "event data is JSON");
  } catch (const tether::error&) {
  }
  --running;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/tether-fuzz-qmp-XXXXXX";
  check(::mkdtemp(dir) != nullptr, "mkdtemp");
  socket_path = std::string(dir) + "/qmp.sock";
  std::atexit([] { std::filesystem::remove_all(std::filesystem::path(socket_path).parent_path()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  ::unlink(socket_path.c_str());
  stream_protocol::acceptor acceptor(ctx, stream_protocol::endpoint(socket_path));
  int running = 2;
  {
    qmp::client qemu(ctx.get_executor(),
                     {.socket_path = socket_path, .max_message_size = 4096, .event_backlog = 4});
    asio::co_spawn(ctx, drive(qemu, running), asio::detached);
    asio::co_spawn(ctx, watch(qemu, running), asio::detached);
    fuzz::settle(ctx);
    stream_protocol::socket peer = acceptor.accept();  // the client connected during settle()
    for (const auto& r : fuzz::split_records(data, size)) {
      boost::system::error_code ec;
      asio::write(peer, asio::buffer(r.body.data(), r.body.size()), ec);
      if (ec) break;  // the client gave up on us
      if (!(r.op & 1)) fuzz::settle(ctx);
    }
    fuzz::settle(ctx);
    peer.close();  // QEMU goes away: every operation must end
    fuzz::finish(ctx, [&] { return running == 0; }, "QMP operations end when QEMU goes away");
  }
  fuzz::settle(ctx);
  return 0;
}
