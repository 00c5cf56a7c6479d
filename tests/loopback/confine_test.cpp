// files.roots against a racing attacker: a directory inside the root is
// swapped for a symlink to a directory outside it, and back, thousands of
// times, while file calls go through that directory. A check of the path
// followed by its use loses that race; the agent must resolve each path in
// one step beneath the root's descriptor, so nothing outside is read,
// created or changed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/slurp.hpp"
#include "tether/client.hpp"
#include "tether/files.hpp"

namespace tether {
namespace {

namespace fs = std::filesystem;
using test::run_for;

// Everything observable about a tree: each entry's type, mode, mtime and
// a file's bytes. Equal snapshots: nothing was created, changed or removed.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st{};
    ::lstat(e.path().c_str(), &st);
    std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                       std::to_string(st.st_mtim.tv_nsec);
    if (e.is_regular_file()) what += " " + test::slurp(e.path().string());
    out[fs::relative(e.path(), dir).string()] = what;
  }
  return out;
}

TEST(AConfinedAgent, NeverLeavesItsRootWhileADirectoryIsSwappedForASymlink) {
  test::temp_dir root, outside;  // `outside` stands in for /etc
  const std::string d = root.path() + "/d";
  // Outside: the files the calls would reach through the symlink, a name
  // only it has, and a tree a recursive removal would eat.
  std::ofstream(outside.path() + "/secret") << "outside secret";
  std::ofstream(outside.path() + "/passwd") << "root:x:0:0";
  fs::create_directories(outside.path() + "/tree/a");
  std::ofstream(outside.path() + "/tree/a/f") << "outside tree";
  // Inside: the same names with other contents (the data read tells which
  // side a call reached).
  fs::create_directories(d);
  std::ofstream(d + "/secret") << "inside";
  fs::create_symlink(outside.path(), root.path() + "/swap");
  const auto before = snapshot(outside.path());

  test::agent_process agent({"--files-root", root.path()});
  asio::io_context ctx;
  client guest{ctx.get_executor(), {.socket_path = agent.socket_path(), .call_timeout = 20s}};

  // RENAME_EXCHANGE swaps the directory and the symlink atomically: `d`
  // is always one of them, never missing.
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread racer([&] {
    const std::string swap = root.path() + "/swap";
    while (!stop.load(std::memory_order_relaxed))
      if (::renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE) == 0) ++swaps;
  });

  int rounds = 0, succeeded = 0;
  std::vector<std::string> wrong;  // what a call read from outside
  // Each call may fail (the swap makes paths vanish or lead outside);
  // only a refusal from the agent is an acceptable failure.
  auto attempt = [&](auto op) -> awaitable<void> {
    try {
      co_await op();
      ++succeeded;
    } catch (const error& e) {
      if (!e.is_remote()) throw;
    }
  };
  run_for(ctx, [&]() -> awaitable<void> {
    for (; (rounds < 300 || swaps < 3000) && rounds < 20000; ++rounds) {
      const std::string n = std::to_string(rounds);
      co_await attempt([&]() -> awaitable<void> {
        auto data = co_await files::download_bytes(guest, d + "/secret");
        if (data != "inside") wrong.push_back("download: " + data);
      });
      co_await attempt([&]() -> awaitable<void> {
        auto st = co_await files::stat(guest, d + "/secret", {.follow_symlinks = rounds % 2 == 0});
        if (st.size != 6) wrong.push_back("stat: size " + std::to_string(st.size));
      });
      co_await attempt([&]() -> awaitable<void> {
        for (const auto& e : co_await files::list(guest, d))
          if (e.name == "passwd" || e.name == "tree") wrong.push_back("list: " + e.name);
      });
      co_await attempt([&]() -> awaitable<void> {
        co_await files::upload_bytes(guest, "new", d + "/up" + n, {.make_parents = true, .overwrite = true});
      });
      co_await attempt([&]() -> awaitable<void> { co_await files::mkdir(guest, d + "/m" + n + "/x", {.parents = true}); });
      co_await attempt([&]() -> awaitable<void> { co_await files::symlink(guest, "secret", d + "/l" + n); });
      co_await attempt([&]() -> awaitable<void> { co_await files::rename(guest, d + "/secret", d + "/moved"); });
      co_await attempt([&]() -> awaitable<void> { co_await files::rename(guest, d + "/moved", d + "/secret"); });
      co_await attempt([&]() -> awaitable<void> { co_await files::remove(guest, d + "/up" + n); });
      co_await attempt([&]() -> awaitable<void> { co_await files::remove(guest, d + "/tree", {.recursive = true}); });
      co_await attempt([&]() -> awaitable<void> { co_await files::remove(guest, d + "/m" + n, {.recursive = true}); });
    }
  }(), 120s);
  stop = true;
  racer.join();

  EXPECT_EQ(snapshot(outside.path()), before) << "a call changed the directory outside the root";
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " calls read outside the root, first: " << wrong.front();
  EXPECT_GE(swaps, 3000);
  EXPECT_GT(succeeded, 0) << "no call got through the swapped directory at all";
  std::printf("%d rounds of 11 calls, %d succeeded, %ld swaps\n", rounds, succeeded, swaps.load());
}

}  // namespace
}  // namespace tether
