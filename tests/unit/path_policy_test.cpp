// The files.roots resolver: paths resolved beneath a root's descriptor
// (files/beneath.hpp, files/path_policy.hpp) and descriptor-based tree
// removal (files/remove_tree.hpp), against a real directory tree.
#include "files/path_policy.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "files/beneath.hpp"
#include "files/remove_tree.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::files {
namespace {

namespace fs = std::filesystem;

class ARoot : public ::testing::Test {
 protected:
  fs::path base = fs::temp_directory_path() / ("tether-roots-" + std::to_string(::getpid()));
  std::string root = (base / "root").string(), outside = (base / "outside").string();
  void SetUp() override {
    fs::create_directories(root + "/a/b");
    fs::create_directories(outside);
    std::ofstream(root + "/a/file") << "inside";
    std::ofstream(outside + "/file") << "outside";
    fs::create_symlink(outside, root + "/absolute");      // leads out
    fs::create_symlink("../../outside", root + "/climb");  // leads out
    fs::create_symlink("a/b", root + "/relative");         // stays in
  }
  void TearDown() override { fs::remove_all(base); }

  // The wire code a call gets for `op`, and its message.
  template <class F>
  std::pair<v1::ErrorCode, std::string> refusal(F op) {
    try {
      op();
    } catch (const call_error& e) {
      return {e.code(), e.what()};
    }
    return {v1::ERROR_CODE_OK, "no error"};
  }
};

TEST_F(ARoot, OpensBeneathADescriptorOnlyWhatStaysInside) {
  unique_fd r(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(r);
  EXPECT_TRUE(open_beneath(r.get(), "a/file", O_RDONLY));
  EXPECT_TRUE(open_beneath(r.get(), "relative", O_PATH | O_DIRECTORY));
  EXPECT_TRUE(open_beneath(r.get(), "a/../a/b", O_PATH | O_DIRECTORY));
  for (const char* out : {"absolute/file", "climb/file", "../outside/file", "a/../../outside/file", "/etc/passwd"}) {
    errno = 0;
    EXPECT_FALSE(open_beneath(r.get(), out, O_RDONLY)) << out;
    EXPECT_EQ(errno, EXDEV) << out;
  }
  // A magic link in /proc, reached through a relative path, is refused too.
  unique_fd proc(::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_FALSE(open_beneath(proc.get(), "cwd", O_PATH));
  EXPECT_EQ(errno, ELOOP);
}

TEST_F(ARoot, RefusesWhatLeadsOutsideNamingItsRoots) {
  const path_policy policy({root});
  EXPECT_TRUE(policy.restricted());
  for (const std::string& p : {outside + "/file", root + "/absolute/file", root + "/climb/file",
                               root + "/../outside/file", root + "2/file"}) {
    const auto [code, message] = refusal([&] { policy.open(p, O_RDONLY, "cannot open '" + p + "'"); });
    EXPECT_EQ(code, v1::ERROR_CODE_DISABLED_BY_CONFIG) << p << ": " << message;
    EXPECT_EQ(message, "path '" + p + "' is outside the directories file calls may touch (" +
                           fs::canonical(root).string() + "; agent.conf files.roots)");
  }
  const auto [code, message] = refusal([&] { policy.locate(root + "/absolute/new", "cannot create"); });
  EXPECT_EQ(code, v1::ERROR_CODE_DISABLED_BY_CONFIG) << message;
}

TEST_F(ARoot, ResolvesWhatStaysInside) {
  const path_policy policy({root});
  char buf[16] = {};
  const auto fd = policy.open(root + "//a/./file", O_RDONLY, "open");
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(::read(fd.get(), buf, sizeof buf))), "inside");
  EXPECT_TRUE(policy.open(root + "/relative", O_PATH | O_DIRECTORY, "open"));
  EXPECT_TRUE(policy.open(root, O_PATH | O_DIRECTORY, "open"));

  // locate: the parent held open and the final name, never followed.
  const auto link = policy.locate(root + "/absolute", "locate");
  struct stat st{};
  ASSERT_EQ(::fstatat(link.dir.get(), link.name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(policy.locate(root + "/", "locate").name, ".");
  EXPECT_EQ(refusal([&] { policy.locate(root + "/a/..", "locate"); }).first, v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(refusal([&] { policy.open("a/file", O_RDONLY, "open"); }).first, v1::ERROR_CODE_INVALID_ARGUMENT);
  const auto [code, message] = refusal([&] { policy.open(root + "/a/missing", O_RDONLY, "cannot open 'x'"); });
  EXPECT_EQ(code, v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(message, "cannot open 'x': No such file or directory");
}

TEST_F(ARoot, MakesParentsOneAtATimeInside) {
  const path_policy policy({root});
  const auto at = policy.locate(root + "/x/y/../z/new", "locate", "cannot create the parents");
  EXPECT_EQ(at.name, "new");
  EXPECT_TRUE(fs::is_directory(root + "/x/y"));
  EXPECT_TRUE(fs::is_directory(root + "/x/z"));
  // Through a symlink that leads out: refused, nothing made outside.
  const auto [code, message] = refusal([&] { policy.locate(root + "/absolute/m/n/new", "locate", "parents"); });
  EXPECT_EQ(code, v1::ERROR_CODE_DISABLED_BY_CONFIG) << message;
  EXPECT_FALSE(fs::exists(outside + "/m"));
}

TEST_F(ARoot, ThatAppearsLaterIsOpenedWhenFirstUsed) {
  const std::string late = (base / "late").string();
  const path_policy policy({late});
  const auto [code, message] = refusal([&] { policy.open(late + "/f", O_RDONLY, "cannot open 'f'"); });
  EXPECT_EQ(code, v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(message, "cannot open 'f': files root '" + late + "': No such file or directory");
  fs::create_directories(late);
  std::ofstream(late + "/f") << "x";
  EXPECT_TRUE(policy.open(late + "/f", O_RDONLY, "open"));
}

TEST_F(ARoot, WrittenThroughASymlinkMatchesBothSpellings) {
  const std::string alias = (base / "alias").string();
  fs::create_symlink(root, alias);
  const path_policy policy({alias});
  EXPECT_TRUE(policy.open(alias + "/a/file", O_RDONLY, "open"));
  EXPECT_TRUE(policy.open(fs::canonical(root).string() + "/a/file", O_RDONLY, "open"));
}

TEST_F(ARoot, UnrestrictedOpensAnyAbsolutePath) {
  for (const auto& roots : {std::vector<std::string>{}, std::vector<std::string>{"/"}}) {
    const path_policy policy(roots);
    EXPECT_FALSE(policy.restricted());
    EXPECT_TRUE(policy.open(root + "/absolute/file", O_RDONLY, "open"));
    EXPECT_EQ(policy.locate(root + "/absolute/file", "locate").name, "file");
    EXPECT_EQ(policy.locate("/", "locate").name, ".");
  }
}

TEST_F(ARoot, TreeRemovalUnlinksSymlinksWithoutFollowingThem) {
  fs::create_symlink(outside, root + "/a/b/out");
  std::ofstream(root + "/a/b/deep") << "x";
  unique_fd r(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(remove_tree(r.get(), "a"), 0);
  EXPECT_FALSE(fs::exists(root + "/a"));
  EXPECT_EQ(remove_tree(r.get(), "absolute"), 0);  // the link goes, not its target
  EXPECT_FALSE(fs::is_symlink(root + "/absolute"));
  EXPECT_TRUE(fs::exists(outside + "/file"));
  EXPECT_EQ(remove_tree(r.get(), "missing"), 0);
}

}  // namespace
}  // namespace tether::agent::files
