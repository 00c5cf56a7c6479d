#include "files/upload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "files/atomic_file.hpp"
#include "files/background_checksum.hpp"
#include "files/call_errors.hpp"
#include "files/off_loop.hpp"
#include "files/test_fault.hpp"
#include "tether/common/unique_fd.hpp"
#include "tether/v1/files.pb.h"

namespace tether::agent::files {

awaitable<std::string> upload(call_context& call, const path_policy& policy, upload_threads threads) {
  const auto req = call.request<v1::UploadRequest>();
  const std::string path = req.path();
  const auto kind = checksum_from(req.checksum());
  const std::string algo(checksum::name(kind));
  const auto [dir, name] = split_path(path);
  if (name.empty() || name == "." || name == "..")
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "'" + path + "' does not name a file");
  place where = policy.locate(path, "cannot create a file in '" + dir + "'",
                              req.make_parents() ? std::optional<std::string>("cannot create directory '" + dir + "'")
                                                 : std::nullopt);
  struct stat existing{};
  if (::fstatat(where.dir.get(), where.name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!req.overwrite())
      throw call_error(v1::ERROR_CODE_ALREADY_EXISTS, "'" + path + "' exists; pass overwrite to replace it");
    if (S_ISDIR(existing.st_mode))
      throw call_error(v1::ERROR_CODE_ALREADY_EXISTS, "'" + path + "' is a directory");
  }

  std::optional<atomic_file> file;
  try {
    file.emplace(std::move(where), path);
    file->reserve(req.size());
  } catch (const std::system_error& e) {
    fail_errno(e.code().value(), e.what());
  }

  // The worker writes each chunk into the file and hashes it while the
  // loop reads the next ones from the port (background_checksum.hpp); up to
  // 4 chunks of 64 KiB wait for it. More buy nothing: when the worker is the
  // slower one (SHA-256), the host's credit window already holds the rest,
  // and each queued chunk is agent memory (peak RSS of a SHA-256 upload).
  const auto loop = co_await asio::this_coro::executor;
  const std::string write_failed = "cannot write to '" + path + "'";
  background_checksum hash(threads.hash, loop, kind, 4, file->fd());
  std::uint64_t bytes = 0;
  for (;;) {
    auto chunk = co_await call.read(0);
    if (!chunk) break;
    test_corrupt(*chunk, bytes);  // tests only (test_fault.hpp)
    bytes += chunk->size();
    auto owned = std::make_shared<const std::string>(std::move(*chunk));
    try {
      co_await hash.submit(std::move(owned));
    } catch (const std::system_error& e) {
      fail_errno(e.code().value(), write_failed);
    }
    co_await asio::post(loop, use_awaitable);
  }
  const std::size_t digest_size = checksum::digest_size(kind);
  std::string expected;
  for (;;) {
    auto chunk = co_await call.read(1);
    if (!chunk) break;
    if (expected.size() + chunk->size() > digest_size)
      throw call_error(v1::ERROR_CODE_PROTOCOL_ERROR, "the " + algo + " trailer (stream 1) is longer than " +
                                                          std::to_string(digest_size) + " bytes");
    expected += *chunk;
  }
  std::string digest;
  try {
    digest = co_await hash.finish();
  } catch (const std::system_error& e) {
    fail_errno(e.code().value(), write_failed);
  }
  if (expected.size() != digest_size)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "the upload ended without the host's " + algo + " (stream 1)");
  if (expected != digest)
    throw call_error(v1::ERROR_CODE_DATA_LOSS, algo + " mismatch for '" + path + "' after " + std::to_string(bytes) +
                                                   " bytes: the guest received other bytes than the host sent; "
                                                   "nothing was written");
  if (req.size() && req.size() != bytes)
    throw call_error(v1::ERROR_CODE_DATA_LOSS, "'" + path + "': announced " + std::to_string(req.size()) +
                                                   " bytes, received " + std::to_string(bytes));
  try {
    if (req.size() > bytes) ::ftruncate(file->fd(), static_cast<off_t>(bytes));
    file->set_attributes(req.has_mode() ? std::optional<std::uint32_t>(req.mode()) : std::nullopt,
                         req.has_uid() ? std::optional<std::uint32_t>(req.uid()) : std::nullopt,
                         req.has_gid() ? std::optional<std::uint32_t>(req.gid()) : std::nullopt,
                         req.has_mtime_ns() ? std::optional<std::int64_t>(req.mtime_ns()) : std::nullopt);
  } catch (const std::system_error& e) {
    fail_errno(e.code().value(), e.what());
  }
  // Named jobs: GCC 12 destroys temporaries in a co_await expression twice.
  const int fd = file->fd();
  std::function<int()> sync_file = [fd] { return ::fsync(fd) == 0 ? 0 : errno; };
  const int sync_err = co_await off_loop(threads.blocking, std::move(sync_file));
  if (sync_err) fail_errno(sync_err, "cannot fsync '" + path + "'");
  try {
    file->commit(req.overwrite());
  } catch (const std::system_error& e) {
    if (e.code().value() == EEXIST)
      throw call_error(v1::ERROR_CODE_ALREADY_EXISTS, "'" + path + "' appeared during the upload; pass overwrite to replace it");
    fail_errno(e.code().value(), e.what());
  }
  // The new name must survive a crash too.
  // Reopened from the held descriptor (an O_PATH one cannot be synced).
  const int held = file->directory();
  std::function<int()> sync_dir = [held] {
    unique_fd dfd(::openat(held, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return dfd && ::fsync(dfd.get()) == 0 ? 0 : errno;
  };
  co_await off_loop(threads.blocking, std::move(sync_dir));

  v1::TransferReply reply;
  reply.set_bytes(bytes);
  reply.set_digest(digest);
  reply.set_checksum(req.checksum());
  co_return reply.SerializeAsString();
}

}  // namespace tether::agent::files
