#include "services/files_service.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "files/call_errors.hpp"
#include "files/off_loop.hpp"
#include "files/read_ahead.hpp"
#include "files/test_fault.hpp"
#include "files/remove_tree.hpp"
#include "files/upload.hpp"
#include "tether/common/unique_fd.hpp"
#include "tether/v1/files.pb.h"

namespace tether::agent {

using files::checksum_from;
using files::fail_errno;

struct files_service::worker {
  asio::thread_pool pool{1};  // fsync, recursive removal
  asio::thread_pool hash{1};  // transfers: file reads/writes and their checksums, beside the loop
  ~worker() {
    pool.join();
    hash.join();
  }
};

namespace {

// A download's chunks: 256 KiB, fewer turns of the loop per byte (download
// with XXH64 in the TCG guest: 253 -> 319 MB/s), still well under a
// millisecond of channel time each; 4 of them read ahead (1 MiB, reused).
constexpr std::size_t read_chunk = 256 * 1024;
constexpr std::size_t read_depth = 4;

std::int64_t to_ns(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

v1::FileType type_of(mode_t m) {
  if (S_ISREG(m)) return v1::FILE_TYPE_REGULAR;
  if (S_ISDIR(m)) return v1::FILE_TYPE_DIRECTORY;
  if (S_ISLNK(m)) return v1::FILE_TYPE_SYMLINK;
  if (S_ISBLK(m)) return v1::FILE_TYPE_BLOCK_DEVICE;
  if (S_ISCHR(m)) return v1::FILE_TYPE_CHAR_DEVICE;
  if (S_ISFIFO(m)) return v1::FILE_TYPE_FIFO;
  if (S_ISSOCK(m)) return v1::FILE_TYPE_SOCKET;
  return v1::FILE_TYPE_UNKNOWN;
}

// `dir` and `name`: where the entry lies, for a symlink's target.
void fill_info(v1::FileInfo& info, const struct stat& st, int dir, const char* name) {
  info.set_type(type_of(st.st_mode));
  info.set_size(static_cast<std::uint64_t>(st.st_size));
  info.set_mode(st.st_mode & 07777);
  info.set_uid(st.st_uid);
  info.set_gid(st.st_gid);
  info.set_mtime_ns(to_ns(st.st_mtim));
  if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlinkat(dir, name, target.data(), target.size());
    if (n >= 0) {
      target.resize(static_cast<std::size_t>(n));
      info.set_symlink_target(target);
    }
  }
}

}  // namespace

files_service::files_service(std::vector<std::string> roots)
    : policy_(std::move(roots)) {}
files_service::~files_service() = default;

files_service::worker& files_service::workers() {
  if (!worker_) worker_ = std::make_unique<worker>();
  return *worker_;
}

namespace {

// The audit log's summary of a request that names one path.
template <class M>
audit_summary path_of() {
  return summary_of<M>([](const M& r) { return std::vector<std::string>{r.path()}; });
}

}  // namespace

void files_service::add_methods(service_registry& registry) {
  registry.add_method("files.Upload", [this](call_context& c) {
    return files::upload(c, policy_, {workers().pool, workers().hash});
  }, path_of<v1::UploadRequest>());
  registry.add_method("files.Download", [this](call_context& c) { return download(c); },
                      path_of<v1::DownloadRequest>());
  registry.add_method("files.Stat", [this](call_context& c) { return stat(c); }, path_of<v1::StatRequest>());
  registry.add_method("files.List", [this](call_context& c) { return list(c); }, path_of<v1::ListRequest>());
  registry.add_method("files.Mkdir", [this](call_context& c) { return mkdir(c); }, path_of<v1::MkdirRequest>());
  registry.add_method("files.Remove", [this](call_context& c) { return remove(c); },
                      summary_of<v1::RemoveRequest>([](const v1::RemoveRequest& r) {
                        std::vector<std::string> words{r.path()};
                        if (r.recursive()) words.emplace_back("[recursive]");
                        return words;
                      }));
  registry.add_method("files.Rename", [this](call_context& c) { return rename(c); },
                      summary_of<v1::RenameRequest>([](const v1::RenameRequest& r) {
                        return std::vector<std::string>{r.from(), "to", r.to()};
                      }));
  registry.add_method("files.Symlink", [this](call_context& c) { return symlink(c); },
                      summary_of<v1::SymlinkRequest>([](const v1::SymlinkRequest& r) {
                        return std::vector<std::string>{r.path(), "to", r.target()};
                      }));
}

awaitable<std::string> files_service::download(call_context& call) {
  const auto req = call.request<v1::DownloadRequest>();
  const std::string path = req.path();
  const auto kind = checksum_from(req.checksum());
  // O_NONBLOCK: opening a FIFO must not hang the agent.
  unique_fd fd = policy_.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK, "cannot open '" + path + "'");
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) fail_errno(errno, "cannot stat '" + path + "'");
  if (!S_ISREG(st.st_mode))
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "'" + path + "' is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (req.offset() > size)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "offset " + std::to_string(req.offset()) +
                                                          " is beyond the end of '" + path + "' (" +
                                                          std::to_string(size) + " bytes)");
  // Read ahead: the kernel's readahead grows for a sequential reader, and
  // the range we will read starts coming in now.
  const std::uint64_t limit = req.length() ? req.length() : UINT64_MAX;
  const auto span = static_cast<off_t>(req.length());
  ::posix_fadvise(fd.get(), static_cast<off_t>(req.offset()), span, POSIX_FADV_SEQUENTIAL);
  ::posix_fadvise(fd.get(), static_cast<off_t>(req.offset()), span, POSIX_FADV_WILLNEED);

  // The worker reads and hashes chunks ahead (read_ahead.hpp); the loop
  // only frames ready chunks (their bytes stay in the worker's buffers until
  // written), yielding after each one so other calls of the session (ping,
  // exec) get their turn between chunks.
  const auto loop = co_await asio::this_coro::executor;
  files::read_ahead reader(workers().hash, loop, unique_fd(fd.release()), kind,
                           {.offset = req.offset(), .length = limit, .chunk = read_chunk, .depth = read_depth});
  std::uint64_t sent = 0;
  for (;;) {
    files::read_ahead::chunk chunk;
    try {
      chunk = co_await reader.next();
    } catch (const std::system_error& e) {
      fail_errno(e.code().value(), "cannot read '" + path + "'");
    }
    if (chunk.bytes.empty()) break;
    std::string corrupted;  // tests only (test_fault.hpp)
    if (files::test_corrupt_byte() && files::test_corrupt(corrupted.assign(chunk.bytes), sent)) {
      co_await call.write(0, corrupted);
    } else {
      // The frames refer to the read-ahead buffer until written: no copy.
      co_await call.write_shared(0, chunk.bytes, std::move(chunk.hold));
    }
    sent += chunk.bytes.size();
    co_await asio::post(loop, use_awaitable);
  }
  call.close_write(0);

  v1::TransferReply reply;
  reply.set_bytes(sent);
  const std::string digest = co_await reader.finish();
  reply.set_digest(digest);
  reply.set_checksum(req.checksum());
  reply.set_file_size(size);
  reply.set_mode(st.st_mode & 07777);
  reply.set_mtime_ns(to_ns(st.st_mtim));
  co_return reply.SerializeAsString();
}

awaitable<std::string> files_service::stat(call_context& call) {
  const auto req = call.request<v1::StatRequest>();
  const std::string path = req.path();
  const std::string what = "cannot stat '" + path + "'";
  v1::FileInfo info;
  info.set_name(path);
  struct stat st{};
  if (req.follow_symlinks()) {
    const unique_fd fd = policy_.open(path, O_PATH, what);
    if (::fstat(fd.get(), &st) != 0) fail_errno(errno, what);
    fill_info(info, st, fd.get(), "");
  } else {
    const auto at = policy_.locate(path, what);
    if (::fstatat(at.dir.get(), at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, what);
    fill_info(info, st, at.dir.get(), at.name.c_str());
  }
  co_return info.SerializeAsString();
}

awaitable<std::string> files_service::list(call_context& call) {
  const auto req = call.request<v1::ListRequest>();
  const std::string path = req.path();
  const std::string what = "cannot list '" + path + "'";
  const std::uint32_t max = req.max_entries() ? std::min<std::uint32_t>(req.max_entries(), 10'000) : 1000;
  unique_fd dir = policy_.open(path, O_RDONLY | O_DIRECTORY, what);
  std::unique_ptr<DIR, decltype(&::closedir)> d(::fdopendir(dir.get()), &::closedir);
  if (!d) fail_errno(errno, what);
  dir.release();  // the DIR owns it now
  // Names only, then the page's entries sorted: pages are stable however
  // the directory orders itself.
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (!req.start_after().empty() && n <= req.start_after()) continue;
    names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  v1::ListReply reply;
  const int dfd = ::dirfd(d.get());
  for (std::size_t i = 0; i < names.size() && i < max; ++i) {
    auto* info = reply.add_entries();
    info->set_name(names[i]);
    struct stat st{};
    if (::fstatat(dfd, names[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      fill_info(*info, st, dfd, names[i].c_str());
  }
  reply.set_more(names.size() > max);
  co_return reply.SerializeAsString();
}

awaitable<std::string> files_service::mkdir(call_context& call) {
  const auto req = call.request<v1::MkdirRequest>();
  const std::string path = req.path();
  const std::string what = "cannot create directory '" + path + "'";
  const mode_t mode = req.has_mode() ? (req.mode() & 07777) : 0755;
  const auto at = policy_.locate(
      path, what,
      req.parents() ? std::optional<std::string>("cannot create the parents of '" + path + "'") : std::nullopt);
  if (::mkdirat(at.dir.get(), at.name.c_str(), mode) != 0) {
    const int err = errno;
    // -p: an existing directory (through a symlink too, inside the roots) is fine.
    const auto is_directory = [&] {
      try {
        return bool(policy_.open(path, O_PATH | O_DIRECTORY, what));
      } catch (const call_error&) {
        return false;
      }
    };
    if (!(err == EEXIST && req.parents() && is_directory())) fail_errno(err, what);
  } else if (req.has_mode()) {
    // The umask must not narrow an explicit mode. NOFOLLOW: a symlink
    // swapped in since the mkdir is left alone.
    ::fchmodat(at.dir.get(), at.name.c_str(), mode, AT_SYMLINK_NOFOLLOW);
  }
  co_return v1::FilesEmpty().SerializeAsString();
}

awaitable<std::string> files_service::remove(call_context& call) {
  const auto req = call.request<v1::RemoveRequest>();
  const std::string path = req.path();
  const std::string what = "cannot remove '" + path + "'";
  const auto at = std::make_shared<files::place>(policy_.locate(path, what));
  struct stat st{};
  if (::fstatat(at->dir.get(), at->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(errno, what);
  if (S_ISDIR(st.st_mode) && req.recursive()) {
    // A big tree takes a while: off the loop. It never follows symlinks.
    std::function<int()> remove_tree = [at] { return files::remove_tree(at->dir.get(), at->name); };
    const int err = co_await files::off_loop(workers().pool, std::move(remove_tree));
    if (err) fail_errno(err, what);
  } else if (::unlinkat(at->dir.get(), at->name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
    if (errno == ENOTEMPTY)
      throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION, "directory '" + path + "' is not empty; pass recursive");
    fail_errno(errno, what);
  }
  co_return v1::FilesEmpty().SerializeAsString();
}

awaitable<std::string> files_service::rename(call_context& call) {
  const auto req = call.request<v1::RenameRequest>();
  const std::string from = req.from(), to = req.to();
  const std::string what = "cannot rename '" + from + "' to '" + to + "'";
  const auto src = policy_.locate(from, what), dst = policy_.locate(to, what);
  if (::renameat2(src.dir.get(), src.name.c_str(), dst.dir.get(), dst.name.c_str(),
                  req.overwrite() ? 0 : RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST)
      throw call_error(v1::ERROR_CODE_ALREADY_EXISTS, "'" + to + "' exists; pass overwrite to replace it");
    fail_errno(errno, what);
  }
  co_return v1::FilesEmpty().SerializeAsString();
}

awaitable<std::string> files_service::symlink(call_context& call) {
  const auto req = call.request<v1::SymlinkRequest>();
  const std::string path = req.path();
  const std::string what = "cannot create symlink '" + path + "'";
  const auto at = policy_.locate(path, what);
  if (req.target().empty() || req.target().find('\0') != std::string::npos)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "symlink target must be non-empty, without NUL");
  // The target is stored, not resolved: lookups through it are confined later.
  if (::symlinkat(req.target().c_str(), at.dir.get(), at.name.c_str()) != 0)
    fail_errno(errno, what);
  co_return v1::FilesEmpty().SerializeAsString();
}

}  // namespace tether::agent
