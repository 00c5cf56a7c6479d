// The QMP client's JSON handling (host-lib/src/qmp.cpp) against a hostile
// QEMU: the input is what "QEMU" writes on the QMP socket, in steps
// (records.hpp; op bit 0 set: the step's bytes go out in one write with
// the next step's, so messages share a read), while the client connects,
// runs commands, hotplugs a disk and waits for events. Every operation must
// end (with a result or a tether::error), results must be JSON, and nothing
// may crash or leak.
//
// "QEMU" writes from a coroutine on the client's io_context (writer.hpp),
// never with a blocking write: the client reads only when the fuzzer's
// thread runs it, so a blocking write of many small steps filled the socket
// and waited forever (corpus/qmp_fuzz/regress-blocking-peer-write). No
// real-time timer is awaited: steps only settle the io_context, and once
// QEMU is gone every operation fails at once (the client's timeouts, 10 s
// and more, would make finish() report a hang).
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>

#include "drive.hpp"
#include "records.hpp"
#include "tether/common/unix_stream.hpp"
#include "writer.hpp"
#include "tether/qmp.hpp"

namespace {

using namespace tether;
using tether::fuzz::check;
using stream_protocol = asio::local::stream_protocol;

std::string socket_path;
// Bound once: QEMU's listening socket outlives the inputs (each input
// accepts its connection into an io_context of its own).
asio::io_context listen_ctx;
std::unique_ptr<stream_protocol::acceptor> acceptor;

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
  acceptor = std::make_unique<stream_protocol::acceptor>(listen_ctx, stream_protocol::endpoint(socket_path));
  acceptor->non_blocking(true);
  std::atexit([] {
    acceptor.reset();
    std::filesystem::remove_all(std::filesystem::path(socket_path).parent_path());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  int running = 2;
  {
    qmp::client qemu(ctx.get_executor(),
                     {.socket_path = socket_path, .max_message_size = 4096, .event_backlog = 4, .event_backlog_bytes = 2048});
    asio::co_spawn(ctx, drive(qemu, running), asio::detached);
    asio::co_spawn(ctx, watch(qemu, running), asio::detached);
    fuzz::settle(ctx);
    boost::system::error_code ec;
    io::unix_stream peer(acceptor->accept(ctx, ec), "fuzz QEMU");
    check(!ec, "the client connected during settle()");
    fuzz::writer in(ctx.get_executor());
    asio::co_spawn(ctx, in.run(peer), asio::detached);
    for (auto& w : fuzz::joined_writes(data, size)) {
      in.send(std::move(w));
      fuzz::settle(ctx);
    }
    fuzz::settle(ctx);
    in.close();
    peer.close();  // QEMU goes away: every operation must end
    fuzz::finish(ctx, [&] { return running == 0 && in.done; }, "QMP operations end when QEMU goes away");
  }
  fuzz::settle(ctx);
  return 0;
}
