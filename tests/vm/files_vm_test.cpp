// File transfer over a real virtio-serial port: hundreds of MiB both ways
// with equal SHA-256 (checked in the guest by qemu-ga's sha256sum, not by
// tether), with either transfer checksum; interrupted uploads leaving
// nothing, ping during a transfer.
#include <chrono>
#include <random>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/client.hpp"
#include "tether/common/sha256.hpp"
#include "tether/files.hpp"
#include "tether/v1/files.pb.h"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using namespace std::chrono;
using test::run_for;
using namespace asio::experimental::awaitable_operators;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const auto v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

class GuestFiles : public test::vm_test {
 protected:
  asio::io_context ctx;
  client guest_client{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s}};

  std::string guest_sha256(test::qga_client& qga, const std::string& path) {
    auto r = qga.exec({"/bin/sh", "-c", "sha256sum '" + path + "'"}, 300s);
    if (r.exit_code != 0) throw std::runtime_error("sha256sum failed in the guest: " + r.err);
    return r.out.substr(0, 64);
  }
};

TEST_F(GuestFiles, MoveHundredsOfMibBothWaysWithEqualHashes) {
  test::qga_client qga(guest.qga_socket());
  const std::size_t size = 192u << 20;
  const auto data = random_bytes(size, 11);
  const auto want = sha256::hex(sha256::of(data));

  auto t0 = steady_clock::now();
  auto up = run_for(ctx, files::upload_bytes(guest_client, data, "/root/big.bin"), 600s);
  const double up_s = duration<double>(steady_clock::now() - t0).count();
  EXPECT_EQ(up.bytes, size);
  EXPECT_EQ(up.digest, want);
  EXPECT_EQ(guest_sha256(qga, "/root/big.bin"), want);

  // Download while pinging on the same connection: the transfer must not
  // starve other calls (printed, not asserted: timings are for the bench).
  std::string back;
  std::vector<double> pings;
  t0 = steady_clock::now();
  run_for(ctx, [&]() -> awaitable<void> {
    bool done = false;
    auto fetch = [&]() -> awaitable<void> {
      back = co_await files::download_bytes(guest_client, "/root/big.bin");
      done = true;
    };
    auto ping_loop = [&]() -> awaitable<void> {
      asio::steady_timer t(co_await asio::this_coro::executor);
      while (!done) {
        const auto p0 = steady_clock::now();
        co_await guest_client.ping();
        pings.push_back(duration<double, std::milli>(steady_clock::now() - p0).count());
        t.expires_after(20ms);
        co_await t.async_wait(use_awaitable);
      }
    };
    co_await (fetch() && ping_loop());
  }(), 600s);
  const double down_s = duration<double>(steady_clock::now() - t0).count();
  EXPECT_EQ(back.size(), size);
  EXPECT_EQ(sha256::hex(sha256::of(back)), want);
  std::sort(pings.begin(), pings.end());
  std::cout << "[ info ] 192 MiB upload " << 192 / up_s << " MiB/s, download " << 192 / down_s
            << " MiB/s; ping during download median " << (pings.empty() ? 0 : pings[pings.size() / 2])
            << " ms, max " << (pings.empty() ? 0 : pings.back()) << " ms over " << pings.size() << " pings\n";
  run_for(ctx, files::remove(guest_client, "/root/big.bin"));
}

TEST_F(GuestFiles, MoveFilesVerifiedWithXxh64BothWays) {
  // The fast checksum: the bytes still arrive intact (sha256sum in the guest
  // and here agree), and the digests both ends computed agree.
  test::qga_client qga(guest.qga_socket());
  const std::size_t size = 64u << 20;
  const auto data = random_bytes(size, 12);
  const auto want = sha256::hex(sha256::of(data));
  auto up = run_for(ctx, files::upload_bytes(guest_client, data, "/root/fast.bin", {.checksum = files::checksum::xxh64}),
                    300s);
  EXPECT_EQ(up.bytes, size);
  EXPECT_EQ(up.checksum, files::checksum::xxh64);
  EXPECT_EQ(up.digest.size(), 16u);
  EXPECT_EQ(guest_sha256(qga, "/root/fast.bin"), want);
  const auto back =
      run_for(ctx, files::download_bytes(guest_client, "/root/fast.bin", {.checksum = files::checksum::xxh64}), 300s);
  EXPECT_EQ(back.size(), size);
  EXPECT_EQ(sha256::hex(sha256::of(back)), want);
  run_for(ctx, files::remove(guest_client, "/root/fast.bin"));
}

TEST_F(GuestFiles, AnInterruptedUploadLeavesNothingBehind) {
  test::qga_client qga(guest.qga_socket());
  run_for(ctx, files::mkdir(guest_client, "/root/drop", {.parents = true}));
  run_for(ctx, [&]() -> awaitable<void> {
    v1::UploadRequest req;
    req.set_path("/root/drop/partial.bin");
    req.set_size(64u << 20);
    auto call = co_await guest_client.start("files.Upload", req.SerializeAsString());
    const std::string piece(1 << 20, 'p');
    for (int i = 0; i < 8; ++i) co_await call->write(0, piece);
    guest_client.close();  // the host goes away mid-transfer
  }(), 120s);
  // Asked through qemu-ga: the directory is empty, hidden files included.
  std::string listing;
  for (int i = 0; i < 50; ++i) {
    listing = qga.exec({"/bin/ls", "-A", "/root/drop"}).out;
    if (listing.empty()) break;
  }
  EXPECT_EQ(listing, "");
}

}  // namespace
}  // namespace tether
