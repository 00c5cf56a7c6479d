#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <utility>

#include "files/background_checksum.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether {
namespace {

namespace asio = boost::asio;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

TEST(Checksum, GivesTheDigestsOfEveryAlgorithm) {
  checksum s(checksum_kind::sha256);
  s.update("ab");
  s.update("c");
  EXPECT_EQ(to_hex(s.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  checksum x(checksum_kind::xxh64);
  x.update("abc");
  EXPECT_EQ(to_hex(x.finish()), "44bc2cf5ad770999");
  checksum x3(checksum_kind::xxh3_128);
  x3.update("a");
  x3.update("bc");
  EXPECT_EQ(to_hex(x3.finish()), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(checksum::digest_size(checksum_kind::sha256), 32u);
  EXPECT_EQ(checksum::digest_size(checksum_kind::xxh64), 8u);
  EXPECT_EQ(checksum::digest_size(checksum_kind::xxh3_128), 16u);
  for (auto kind : {checksum_kind::sha256, checksum_kind::xxh64, checksum_kind::xxh3_128})
    EXPECT_EQ(checksum::of(kind, "").size(), checksum::digest_size(kind)) << checksum::name(kind);
}

TEST(Checksum, ParsesTheNamesTetherctlTakes) {
  EXPECT_EQ(checksum::parse("sha256"), checksum_kind::sha256);
  EXPECT_EQ(checksum::parse("xxh64"), checksum_kind::xxh64);
  EXPECT_EQ(checksum::parse("xxh3"), checksum_kind::xxh3_128);
  EXPECT_EQ(checksum::parse("xxh128"), checksum_kind::xxh3_128);
  EXPECT_EQ(checksum::name(checksum_kind::xxh3_128), "xxh3");
  EXPECT_EQ(checksum::parse("md5"), std::nullopt);
  EXPECT_EQ(checksum::parse(""), std::nullopt);
  EXPECT_EQ(checksum::name(checksum_kind::xxh64), "xxh64");
}

TEST(Checksum, MapsTheWireEnumBothWays) {
  for (auto kind : {checksum_kind::sha256, checksum_kind::xxh64, checksum_kind::xxh3_128})
    EXPECT_EQ(checksum_kind_from(to_proto(kind)), kind);
  EXPECT_EQ(to_proto(checksum_kind::xxh64), v1::CHECKSUM_XXH64);
  EXPECT_EQ(to_proto(checksum_kind::xxh3_128), v1::CHECKSUM_XXH3_128);
  EXPECT_EQ(checksum_kind_from(static_cast<v1::Checksum>(42)), std::nullopt);
}

// Hashes `data` in `step`-sized chunks through background_checksum.
std::string background_digest(checksum_kind kind, const std::string& data, std::size_t step, std::size_t max_pending) {
  asio::io_context loop;
  asio::thread_pool pool(2);  // two workers: order must still hold (strand)
  std::string out;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        agent::files::background_checksum hash(pool, loop.get_executor(), kind, max_pending);
        for (std::size_t off = 0; off < data.size(); off += step) {
          auto chunk = std::make_shared<const std::string>(data.substr(off, step));
          co_await hash.submit(std::move(chunk));
        }
        out = co_await hash.finish();
      },
      asio::detached);
  loop.run();
  pool.join();
  return out;
}

TEST(BackgroundChecksum, MatchesTheInlineDigestInSubmissionOrder) {
  const std::string data = pattern(1'000'003);
  for (auto kind : {checksum_kind::sha256, checksum_kind::xxh64, checksum_kind::xxh3_128}) {
    checksum inline_sum(kind);
    inline_sum.update(data);
    const std::string want = inline_sum.finish();
    EXPECT_EQ(background_digest(kind, data, 65'536, 4), want);
    EXPECT_EQ(background_digest(kind, data, 4'099, 1), want);
    EXPECT_EQ(background_digest(kind, data, 1'000'003, 8), want);
  }
}

// Submits `n` chunks whose deleters count into `released`.
asio::awaitable<void> submit_counted_chunks(agent::files::background_checksum& hash, int n,
                                            std::atomic<int>& released, bool& submitted) {
  for (int i = 0; i < n; ++i) {
    auto counted = [&released](const std::string* s) {
      delete s;
      ++released;
    };
    // Built outside the co_await expression: GCC 12 destroys a prvalue that
    // initialises a new-expression inside one a second time (a double free).
    std::shared_ptr<const std::string> chunk(new std::string(pattern(65'536)), counted);
    co_await hash.submit(std::move(chunk));
  }
  submitted = true;
}

TEST(BackgroundChecksum, AnAbandonedTransferLeavesNoDanglingWork) {
  // The transfer ends (its coroutine and the object are gone) while chunks
  // are still queued: the queued jobs own what they touch. The pool's only
  // worker is held at a gate until then, so the chunks are queued for sure.
  constexpr int chunks = 32;
  asio::io_context loop;
  asio::thread_pool pool(1);
  std::promise<void> gate;
  struct opener {  // opens the gate on every path, or join() would hang
    std::promise<void>& gate;
    bool open = false;
    void operator()() {
      if (!std::exchange(open, true)) gate.set_value();
    }
    ~opener() { (*this)(); }
  } open_gate{gate};
  asio::post(pool, [held = gate.get_future()] { held.wait(); });

  std::atomic<int> released = 0;  // chunks whose last owner let go
  bool submitted = false;
  {
    agent::files::background_checksum hash(pool, loop.get_executor(), checksum_kind::sha256, 64);
    asio::co_spawn(loop, submit_counted_chunks(hash, chunks, released, submitted), asio::detached);
    loop.run();  // runs the transfer to its end; no job can have run yet
    EXPECT_TRUE(submitted);
  }
  EXPECT_EQ(released, 0) << "a queued job lost the chunk it was to hash";
  open_gate();
  pool.join();
  EXPECT_EQ(released, chunks) << "a job did not run or kept its chunk";
  loop.restart();
  // Each job posted one completion back; they run against live state.
  EXPECT_EQ(loop.run(), static_cast<std::size_t>(chunks));
}

// Submits `data` in 65,536-byte chunks to a background_checksum writing to
// `fd`; returns the digest, or the errno of the failed write.
std::pair<std::string, int> write_behind(const std::string& data, int fd) {
  asio::io_context loop;
  asio::thread_pool pool(1);
  std::pair<std::string, int> out;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        agent::files::background_checksum hash(pool, loop.get_executor(), checksum_kind::xxh3_128, 4, fd);
        try {
          for (std::size_t off = 0; off < data.size(); off += 65'536) {
            auto chunk = std::make_shared<const std::string>(data.substr(off, 65'536));
            co_await hash.submit(std::move(chunk));
          }
          out.first = co_await hash.finish();
        } catch (const std::system_error& e) {
          out.second = e.code().value();
        }
      },
      asio::detached);
  loop.run();
  pool.join();
  return out;
}

TEST(BackgroundChecksum, WritesEachChunkInOrderBeforeHashingIt) {
  const std::string data = pattern(1'000'003);
  unique_fd file(::memfd_create("write_behind", MFD_CLOEXEC));
  const auto [digest, err] = write_behind(data, file.get());
  EXPECT_EQ(err, 0);
  EXPECT_EQ(digest, checksum::of(checksum_kind::xxh3_128, data));
  std::string back(data.size() + 1, '\0');
  EXPECT_EQ(::pread(file.get(), back.data(), back.size(), 0), static_cast<ssize_t>(data.size()));
  back.resize(data.size());
  EXPECT_TRUE(back == data);
}

TEST(BackgroundChecksum, AFailedWriteFailsTheTransferWithItsErrno) {
  unique_fd read_only(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(write_behind(pattern(300'000), read_only.get()).second, EBADF);
}

TEST(BackgroundChecksum, EmptyInputGivesTheEmptyDigest) {
  EXPECT_EQ(to_hex(background_digest(checksum_kind::xxh64, "", 10, 4)), "ef46db3751d8e999");
}

}  // namespace
}  // namespace tether
