// File transfer over a real virtio-serial port: hundreds of MiB both ways
// with equal SHA-256 (checked in the guest by qemu-ga's sha256sum, not by
// tether), with each transfer checksum; interrupted uploads leaving
// nothing, other calls answered during a transfer. How fast all this goes is
// the benchmark's to measure (bench/tether_bench.cpp), not a test's.
#include <chrono>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "support/random_bytes.hpp"
#include "support/slurp.hpp"
#include "tether/client.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"
#include "tether/files.hpp"
#include "tether/v1/files.pb.h"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using namespace std::chrono;
using test::random_bytes;
using test::run_for;
using namespace asio::experimental::awaitable_operators;

std::string sha256_hex(std::string_view data) { return to_hex(checksum::of(checksum_kind::sha256, data)); }

class GuestFiles : public test::vm_client_test {
 protected:
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
  const auto want = sha256_hex(data);

  auto up = run_for(ctx, files::upload_bytes(guest_client, data, "/root/big.bin", {.checksum = files::checksum::sha256}),
                    600s);
  EXPECT_EQ(up.bytes, size);
  EXPECT_EQ(up.digest, want);
  EXPECT_EQ(guest_sha256(qga, "/root/big.bin"), want);

  // Download while pinging on the same connection: the transfer must not
  // starve other calls. Shown by order, not by timing: pings sent once the
  // first bytes have arrived are answered before the last byte arrives.
  std::string back;
  std::uint64_t received = 0;
  int answered_during = 0, answered_after = 0;
  run_for(ctx, [&]() -> awaitable<void> {
    async_event progress(co_await asio::this_coro::executor);
    bool done = false;
    auto fetch = [&]() -> awaitable<void> {
      files::download_options o;
      o.progress = [&](std::uint64_t got, std::uint64_t) {
        received = got;
        progress.notify_all();
      };
      back = co_await files::download_bytes(guest_client, "/root/big.bin", std::move(o));
      done = true;
      progress.notify_all();
    };
    auto ping_loop = [&]() -> awaitable<void> {
      while (received == 0 && !done) co_await progress.wait();
      asio::steady_timer pace(co_await asio::this_coro::executor);
      while (!done) {
        co_await guest_client.ping();
        ++(received < size ? answered_during : answered_after);
        pace.expires_after(20ms);  // pacing, not synchronisation
        co_await pace.async_wait(use_awaitable);
      }
    };
    co_await (fetch() && ping_loop());
  }(), 600s);
  EXPECT_EQ(back.size(), size);
  EXPECT_EQ(sha256_hex(back), want);
  EXPECT_GE(answered_during, 1) << "no ping was answered while the download's bytes were still coming ("
                                << answered_after << " answered after the last byte)";
  run_for(ctx, files::remove(guest_client, "/root/big.bin"));
}

TEST_F(GuestFiles, MoveFilesVerifiedWithEachChecksumBothWays) {
  // Each algorithm: the bytes arrive intact (sha256sum in the guest and
  // here agree), and the digests both ends computed agree with ours.
  test::qga_client qga(guest.qga_socket());
  const std::size_t size = 32u << 20;
  const auto data = random_bytes(size, 12);
  const auto want = sha256_hex(data);
  const std::pair<files::checksum, checksum_kind> kinds[] = {{files::checksum::xxh3, checksum_kind::xxh3_128},
                                                              {files::checksum::xxh64, checksum_kind::xxh64},
                                                              {files::checksum::sha256, checksum_kind::sha256}};
  for (const auto& [c, kind] : kinds) {
    const std::string name = files::to_string(c), remote = "/root/check-" + name + ".bin";
    auto up = run_for(ctx, files::upload_bytes(guest_client, data, remote, {.checksum = c}), 300s);
    EXPECT_EQ(up.bytes, size) << name;
    EXPECT_EQ(up.checksum, c);
    EXPECT_EQ(up.digest, to_hex(checksum::of(kind, data))) << name;
    EXPECT_EQ(guest_sha256(qga, remote), want) << name;
    const std::string local = guest.state_dir() + "/back.bin";
    const auto down = run_for(ctx, files::download_file(guest_client, remote, local, {.checksum = c}), 300s);
    EXPECT_EQ(down.checksum, c);
    EXPECT_EQ(down.bytes, size) << name;
    EXPECT_EQ(down.digest, up.digest) << name;
    const std::string back = test::slurp(local);
    EXPECT_EQ(back.size(), size) << name;
    EXPECT_EQ(sha256_hex(back), want) << name;
    run_for(ctx, files::remove(guest_client, remote));
  }
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
