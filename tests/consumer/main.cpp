// A program that links Boost.JSON itself and libtether: it must build, link
// and run. (When libtether compiled Boost.JSON's header-only sources, the
// two copies of Boost.JSON clashed in such a program.) It uses Boost.JSON
// and libtether's QMP client, whose API passes JSON as text, side by side.
#include <boost/asio/io_context.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "tether/client.hpp"
#include "tether/error.hpp"
#include "tether/qmp.hpp"

int main() {
  // The program's own Boost.JSON.
  const auto args = boost::json::parse(R"({"id": "disk7", "n": 3})");
  const std::string text = boost::json::serialize(args);
  if (args.at("n").as_int64() != 3) return 1;

  // libtether, with the text form of the same JSON.
  boost::asio::io_context ctx;
  tether::qmp::client qemu(ctx.get_executor(), {.socket_path = "/nonexistent/qmp.sock"});
  tether::client guest(ctx.get_executor(), {.socket_path = "/nonexistent/tether.sock"});
  auto fut = boost::asio::co_spawn(
      ctx,
      [&]() -> boost::asio::awaitable<int> {
        try {
          co_await qemu.connect();
        } catch (const tether::error& e) {
          if (e.code() != tether::errc::connection_failed) co_return 2;
        }
        try {
          co_await qemu.execute("device_del", text);  // not connected: a tether::error
        } catch (const tether::error& e) {
          if (e.code() != tether::errc::connection_failed) co_return 3;
        }
        co_return 0;
      },
      boost::asio::use_future);
  ctx.run();
  const int rc = fut.get();
  std::cout << (rc == 0 && !guest.connected() ? "consumer ok" : "consumer failed") << "\n";
  return rc;
}
