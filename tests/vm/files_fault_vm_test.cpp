// A corrupted byte is caught by every transfer checksum, both ways. This
// binary's guest boots with TETHER_TEST_CORRUPT_BYTE=4097 on its kernel
// command line (tests/vm/CMakeLists.txt), which init hands to the agent: the
// agent then flips byte 4097 of every transfer (agent/src/files/test_fault.hpp).
#include <chrono>

#include "support/async.hpp"
#include "support/random_bytes.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using namespace std::chrono;
using test::random_bytes;
using test::run_for;

class ACorruptingGuest : public test::vm_client_test {};

constexpr files::checksum every_checksum[] = {files::checksum::xxh3, files::checksum::xxh64, files::checksum::sha256};

TEST_F(ACorruptingGuest, FailsEveryUploadWithDataLossAndWritesNothing) {
  const auto data = random_bytes(1u << 20, 21);
  for (auto c : every_checksum) {
    const std::string remote = std::string("/root/corrupt-") + files::to_string(c);
    const auto e = test::error_of(ctx, [&]() -> awaitable<void> {
      co_await files::upload_bytes(guest_client, data, remote, {.checksum = c});
    }());
    EXPECT_EQ(e.remote_code(), remote_errc::data_loss) << files::to_string(c) << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(files::to_string(c)), std::string::npos) << e.what();
    const auto gone = test::error_of(ctx, [&]() -> awaitable<void> { co_await files::stat(guest_client, remote); }());
    EXPECT_EQ(gone.remote_code(), remote_errc::not_found) << files::to_string(c);
  }
}

TEST_F(ACorruptingGuest, FailsEveryDownloadWithDataLoss) {
  // The file is put there without tether (the agent would corrupt it).
  run_for(ctx, exec::run(guest_client, {.argv = {"dd", "if=/dev/urandom", "of=/root/source.bin", "bs=64k", "count=16"}}));
  for (auto c : every_checksum) {
    const auto e = test::error_of(ctx, [&]() -> awaitable<void> {
      co_await files::download_bytes(guest_client, "/root/source.bin", {.checksum = c});
    }());
    EXPECT_EQ(e.code(), errc::data_loss) << files::to_string(c) << ": " << e.what();
  }
  // A download that ends before the corrupted byte is intact.
  const auto head = run_for(ctx, files::download_bytes(guest_client, "/root/source.bin", {.length = 4097}));
  EXPECT_EQ(head.size(), 4097u);
}

}  // namespace
}  // namespace tether
