// files.*: the real agent moves and manages files on this machine, driven
// through libtether and tetherctl; results are checked with the filesystem.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/agent_client.hpp"
#include "support/async.hpp"
#include "support/random_bytes.hpp"
#include "support/slurp.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"
#include "tether/files.hpp"
#include "tether/v1/files.pb.h"

namespace tether {
namespace {

namespace fs = std::filesystem;
using test::run_for;
using test::random_bytes;
using test::slurp;

// Entries of a directory, hidden ones included (leftover temporaries).
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class AFilesAgent : public test::agent_client_test {
 protected:
  AFilesAgent() : agent_client_test({}, {.call_timeout = 20s}) {}
  test::temp_dir dir;

  std::string path(const std::string& name) const { return dir.path() + "/" + name; }

  remote_errc remote_code_of(awaitable<void> op) { return test::error_of(ctx, std::move(op)).remote_code(); }
};

TEST_F(AFilesAgent, UploadsAndDownloadsWithEqualHashes) {
  const auto data = random_bytes(5u << 20, 1);
  auto up = run_for(ctx, files::upload_bytes(guest, data, path("up.bin")));
  EXPECT_EQ(up.bytes, data.size());
  EXPECT_EQ(up.digest, to_hex(checksum::of(checksum_kind::xxh64, data)));
  EXPECT_EQ(up.checksum, files::checksum::xxh64);
  EXPECT_TRUE(slurp(path("up.bin")) == data);

  const auto down = run_for(ctx, files::download_bytes(guest, path("up.bin")));
  EXPECT_TRUE(down == data);

  // Resume from an offset, and a bounded range.
  EXPECT_TRUE(run_for(ctx, files::download_bytes(guest, path("up.bin"), {.offset = 1000})) == data.substr(1000));
  EXPECT_EQ(run_for(ctx, files::download_bytes(guest, path("up.bin"), {.offset = 10, .length = 5})), data.substr(10, 5));
}

TEST_F(AFilesAgent, VerifiesWithEachChecksumOnRequest) {
  const auto data = random_bytes((3u << 20) + 17, 5);
  const std::pair<files::checksum, checksum_kind> kinds[] = {{files::checksum::sha256, checksum_kind::sha256},
                                                              {files::checksum::xxh64, checksum_kind::xxh64},
                                                              {files::checksum::xxh3, checksum_kind::xxh3_128}};
  for (const auto& [c, kind] : kinds) {
    const std::string name = files::to_string(c);
    auto up = run_for(ctx, files::upload_bytes(guest, data, path(name), {.overwrite = true, .checksum = c}));
    EXPECT_EQ(up.checksum, c);
    EXPECT_EQ(up.digest, to_hex(checksum::of(kind, data))) << name;
    EXPECT_TRUE(slurp(path(name)) == data) << name;
    EXPECT_TRUE(run_for(ctx, files::download_bytes(guest, path(name), {.offset = 3, .checksum = c})) == data.substr(3))
        << name;
    const std::string local = path(name + ".back");
    auto down = run_for(ctx, files::download_file(guest, path(name), local, {.checksum = c}));
    EXPECT_EQ(down.checksum, c);
    EXPECT_EQ(down.digest, up.digest) << name;
    EXPECT_TRUE(slurp(local) == data) << name;
  }
}

TEST_F(AFilesAgent, RejectsAnUnknownChecksum) {
  std::ofstream(path("f")) << "content";
  const auto unknown = static_cast<v1::Checksum>(42);
  v1::DownloadRequest download;
  download.set_path(path("f"));
  download.set_checksum(unknown);
  v1::UploadRequest upload;
  upload.set_path(path("g"));
  upload.set_checksum(unknown);
  for (const auto& [method, request] : {std::pair<std::string, std::string>{"files.Download", download.SerializeAsString()},
                                        {"files.Upload", upload.SerializeAsString()}}) {
    const auto code = remote_code_of([&]() -> awaitable<void> {
      auto call = co_await guest.start(method, request);
      co_await call->finish();
    }());
    EXPECT_EQ(code, remote_errc::invalid_argument) << method;
  }
  EXPECT_FALSE(fs::exists(path("g")));
}

TEST_F(AFilesAgent, DownloadFileResumesAndReplacesAtomically) {
  const auto data = random_bytes(3u << 20, 2);
  std::ofstream(path("src.bin"), std::ios::binary) << data;
  const std::string local = path("local.bin");
  run_for(ctx, files::download_file(guest, path("src.bin"), local));
  EXPECT_TRUE(slurp(local) == data);
  // A half-done local copy, resumed from where it stopped.
  fs::resize_file(local, 1'000'000);
  run_for(ctx, files::download_file(guest, path("src.bin"), local, {.offset = 1'000'000}));
  EXPECT_TRUE(slurp(local) == data);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"local.bin", "src.bin"}));
}

TEST_F(AFilesAgent, RefusesToOverwriteUnlessAskedAndSetsAttributes) {
  run_for(ctx, files::upload_bytes(guest, "one", path("f")));
  EXPECT_EQ(remote_code_of([&]() -> awaitable<void> { co_await files::upload_bytes(guest, "two", path("f")); }()),
            remote_errc::already_exists);
  EXPECT_EQ(slurp(path("f")), "one");
  run_for(ctx, files::upload_bytes(guest, "two", path("f"),
                                   {.mode = 0600, .uid = 65534, .gid = 65534, .mtime_ns = 1'000'000'000'123, .overwrite = true}));
  EXPECT_EQ(slurp(path("f")), "two");
  struct stat st{};
  ASSERT_EQ(::stat(path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"f"});
}

TEST_F(AFilesAgent, LeavesNothingBehindWhenAnUploadIsCancelled) {
  const std::string target = path("never.bin");
  run_for(ctx, [&]() -> awaitable<void> {
    v1::UploadRequest req;
    req.set_path(target);
    auto call = co_await guest.start("files.Upload", req.SerializeAsString());
    const std::string piece(1 << 20, 'x');
    co_await call->write(0, piece);
    co_await call->write(0, piece);
    call->cancel();
    try {
      co_await call->finish();
    } catch (const error&) {
    }
  }());
  // The agent answered CANCELLED after dropping its temporary file.
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(names_in(dir.path()).empty()) << names_in(dir.path()).front();
}

TEST_F(AFilesAgent, RejectsAWrongHashAndKeepsTheDestinationUntouched) {
  std::ofstream(path("keep")) << "original";
  const auto code = remote_code_of([&]() -> awaitable<void> {
    v1::UploadRequest req;
    req.set_path(path("keep"));
    req.set_overwrite(true);
    auto call = co_await guest.start("files.Upload", req.SerializeAsString());
    co_await call->write(0, "replacement");
    call->close_write(0);
    co_await call->write(1, checksum::of(checksum_kind::sha256, "something else"));
    call->close_write(1);
    co_await call->finish();
  }());
  EXPECT_EQ(code, remote_errc::data_loss);
  EXPECT_EQ(slurp(path("keep")), "original");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"keep"});

  // The same with XXH64 and XXH3, and a trailer of another algorithm's size.
  const std::pair<v1::Checksum, std::string> trailers[] = {
      {v1::CHECKSUM_XXH64, checksum::of(checksum_kind::xxh64, "something else")},
      {v1::CHECKSUM_XXH64, checksum::of(checksum_kind::sha256, "replacement")},
      {v1::CHECKSUM_XXH3_128, checksum::of(checksum_kind::xxh3_128, "something else")},
      {v1::CHECKSUM_XXH3_128, checksum::of(checksum_kind::xxh64, "replacement")}};
  for (const auto& [algo, trailer] : trailers) {
    const auto xcode = remote_code_of([&]() -> awaitable<void> {
      v1::UploadRequest req;
      req.set_path(path("keep"));
      req.set_overwrite(true);
      req.set_checksum(algo);
      auto call = co_await guest.start("files.Upload", req.SerializeAsString());
      co_await call->write(0, "replacement");
      call->close_write(0);
      co_await call->write(1, trailer);
      call->close_write(1);
      co_await call->finish();
    }());
    EXPECT_NE(xcode, remote_errc::ok);
    EXPECT_EQ(slurp(path("keep")), "original");
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"keep"});
  }
}

TEST_F(AFilesAgent, ManagesFilesWithAnyBytesInTheirNames) {
  const std::string odd = path("-dash name ü\x01");
  run_for(ctx, files::mkdir(guest, odd + "/a/b", {.parents = true}));
  EXPECT_TRUE(fs::is_directory(odd + "/a/b"));
  run_for(ctx, files::upload_bytes(guest, "x", odd + "/a/b/file"));
  run_for(ctx, files::symlink(guest, "file", odd + "/a/b/link"));
  auto entries = run_for(ctx, files::list(guest, odd + "/a/b"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "file");
  EXPECT_EQ(entries[1].name, "link");
  EXPECT_EQ(entries[1].type, files::file_type::symlink);
  EXPECT_EQ(entries[1].symlink_target, "file");
  EXPECT_EQ(run_for(ctx, files::stat(guest, odd + "/a/b/link", {.follow_symlinks = true})).type, files::file_type::regular);

  run_for(ctx, files::rename(guest, odd + "/a/b/file", odd + "/moved"));
  EXPECT_TRUE(fs::exists(odd + "/moved"));
  EXPECT_EQ(remote_code_of(files::remove(guest, odd + "/a")), remote_errc::failed_precondition);
  run_for(ctx, files::remove(guest, odd, {.recursive = true}));
  EXPECT_FALSE(fs::exists(odd));
  EXPECT_EQ(remote_code_of([&]() -> awaitable<void> { co_await files::stat(guest, odd); }()), remote_errc::not_found);
}

TEST_F(AFilesAgent, ListsBigDirectoriesPageByPage) {
  fs::create_directory(path("many"));
  for (int i = 0; i < 2500; ++i) std::ofstream(path("many/f" + std::to_string(10000 + i)));
  auto entries = run_for(ctx, files::list(guest, path("many")));
  ASSERT_EQ(entries.size(), 2500u);
  EXPECT_EQ(entries.front().name, "f10000");
  EXPECT_EQ(entries.back().name, "f12499");
}

TEST_F(AFilesAgent, CopiesTreesBothWays) {
  const fs::path src = path("src");
  fs::create_directories(src / "sub" / "deeper");
  std::ofstream(src / "top.txt") << "top";
  std::ofstream(src / "sub" / "deeper" / "x.bin", std::ios::binary) << random_bytes(300'000, 3);
  fs::create_symlink("sub/deeper/x.bin", src / "link");
  fs::permissions(src / "top.txt", fs::perms(0750));
  auto up = run_for(ctx, files::upload_tree(guest, src.string(), path("remote")));
  EXPECT_EQ(up.files, 2u);
  EXPECT_EQ(up.symlinks, 1u);
  EXPECT_EQ(up.directories, 3u);
  auto down = run_for(ctx, files::download_tree(guest, path("remote"), path("back")));
  EXPECT_EQ(down.files, 2u);
  EXPECT_EQ(slurp(path("back/top.txt")), "top");
  EXPECT_EQ(slurp(path("back/sub/deeper/x.bin")), slurp(src / "sub" / "deeper" / "x.bin"));
  EXPECT_EQ(fs::read_symlink(path("back/link")), "sub/deeper/x.bin");
  EXPECT_EQ(fs::status(path("back/top.txt")).permissions(), fs::perms(0750));
}

TEST(AFilesAgentWithRoots, RefusesPathsOutsideItsRoots) {
  test::temp_dir allowed, other;
  // Roots come from the files service's constructor; the agent binary gets
  // them from its configuration.
  test::agent_process agent({"--files-root", allowed.path()});
  asio::io_context ctx;
  client guest{ctx.get_executor(), {.socket_path = agent.socket_path()}};
  run_for(ctx, files::upload_bytes(guest, "ok", allowed.path() + "/in"));
  fs::create_symlink(other.path(), allowed.path() + "/escape");
  for (const std::string& p : {other.path() + "/out", allowed.path() + "/escape/out", allowed.path() + "/../out"}) {
    try {
      run_for(ctx, files::upload_bytes(guest, "no", p));
      ADD_FAILURE() << p;
    } catch (const error& e) {
      EXPECT_TRUE(e.remote_code() == remote_errc::disabled_by_config ||
                  e.remote_code() == remote_errc::invalid_argument)
          << p << ": " << e.what();
    }
  }
  EXPECT_TRUE(fs::is_empty(other.path()));
}

TEST(TetherctlFiles, CopiesAndManagesFiles) {
  test::agent_process agent;
  test::temp_dir dir;
  const std::string sock = "--socket " + agent.socket_path() + " ";
  std::ofstream(dir.path() + "/local") << "content\n";
  const std::string remote = "'" + dir.path() + "/-remote file'";
  EXPECT_EQ(test::run_tetherctl(sock + "upload " + dir.path() + "/local -- " + remote).status, 0);
  auto again = test::run_tetherctl(sock + "upload " + dir.path() + "/local -- " + remote);
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.out.find("exists"), std::string::npos) << again.out;
  EXPECT_EQ(test::run_tetherctl(sock + "upload -f " + dir.path() + "/local -- " + remote).status, 0);
  EXPECT_EQ(test::run_tetherctl(sock + "download -- " + remote + " " + dir.path() + "/back").status, 0);
  EXPECT_EQ(slurp(dir.path() + "/back"), "content\n");
  auto st = test::run_tetherctl(sock + "--json stat -- " + remote);
  EXPECT_NE(st.out.find("\"size\":8"), std::string::npos) << st.out;
  EXPECT_EQ(test::run_tetherctl(sock + "mkdir -p " + dir.path() + "/d/e").status, 0);
  EXPECT_EQ(test::run_tetherctl(sock + "mv -- " + remote + " " + dir.path() + "/d/e/moved").status, 0);
  auto ls = test::run_tetherctl(sock + "ls " + dir.path() + "/d/e");
  EXPECT_NE(ls.out.find("moved"), std::string::npos) << ls.out;
  EXPECT_EQ(test::run_tetherctl(sock + "rm -r " + dir.path() + "/d").status, 0);
  EXPECT_FALSE(fs::exists(dir.path() + "/d"));
  EXPECT_EQ(test::run_tetherctl(sock + "stat " + dir.path() + "/d").status, 1);
  EXPECT_EQ(test::run_tetherctl(sock + "upload onlyone").status, 2);

  // --checksum: the JSON report names the algorithm and its digest.
  auto x = test::run_tetherctl(sock + "--json upload --checksum xxh64 " + dir.path() + "/local " + dir.path() + "/x");
  EXPECT_EQ(x.status, 0) << x.out;
  EXPECT_NE(x.out.find("\"checksum\":\"xxh64\",\"digest\":\"" + to_hex(checksum::of(checksum_kind::xxh64, "content\n")) + "\""),
            std::string::npos) << x.out;
  auto xd = test::run_tetherctl(sock + "--json download --checksum=xxh64 " + dir.path() + "/x " + dir.path() + "/x.back");
  EXPECT_EQ(xd.status, 0) << xd.out;
  EXPECT_NE(xd.out.find("\"checksum\":\"xxh64\""), std::string::npos) << xd.out;
  EXPECT_EQ(slurp(dir.path() + "/x.back"), "content\n");
  auto sd = test::run_tetherctl(sock + "--json download --checksum sha256 " + dir.path() + "/x " + dir.path() + "/s.back");
  EXPECT_NE(sd.out.find("\"checksum\":\"sha256\",\"digest\":\"" + to_hex(checksum::of(checksum_kind::sha256, "content\n")) + "\""),
            std::string::npos) << sd.out;
  auto dd = test::run_tetherctl(sock + "--json download " + dir.path() + "/x " + dir.path() + "/d.back");
  EXPECT_NE(dd.out.find("\"checksum\":\"xxh64\",\"digest\":\"" + to_hex(checksum::of(checksum_kind::xxh64, "content\n")) + "\""),
            std::string::npos) << dd.out;
  auto bad = test::run_tetherctl(sock + "upload --checksum md5 " + dir.path() + "/local " + dir.path() + "/y");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--checksum takes xxh64, xxh3 or sha256"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace tether
