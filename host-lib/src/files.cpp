#include "tether/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"
#include "tether/common/unique_fd.hpp"
#include "tether/v1/files.pb.h"
#include "typed_call.hpp"

namespace tether::files {

using boost::asio::awaitable;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t chunk_size = 256 * 1024;
constexpr call_options no_deadline{milliseconds::max()};

[[noreturn]] void local_error(const std::string& what) {
  throw error(errc::local_io, what + ": " + std::strerror(errno));
}

// --- wire <-> public types ---

checksum_kind kind_of(files::checksum c) {
  switch (c) {
    case files::checksum::sha256: return checksum_kind::sha256;
    case files::checksum::xxh64: return checksum_kind::xxh64;
    case files::checksum::xxh3: return checksum_kind::xxh3_128;
  }
  throw error(errc::invalid_argument, "unknown checksum " + std::to_string(static_cast<int>(c)));
}

v1::Checksum to_proto(files::checksum c) { return tether::to_proto(kind_of(c)); }

file_type to_type(v1::FileType t) {
  switch (t) {
    case v1::FILE_TYPE_REGULAR: return file_type::regular;
    case v1::FILE_TYPE_DIRECTORY: return file_type::directory;
    case v1::FILE_TYPE_SYMLINK: return file_type::symlink;
    case v1::FILE_TYPE_BLOCK_DEVICE: return file_type::block_device;
    case v1::FILE_TYPE_CHAR_DEVICE: return file_type::char_device;
    case v1::FILE_TYPE_FIFO: return file_type::fifo;
    case v1::FILE_TYPE_SOCKET: return file_type::socket;
    default: return file_type::unknown;
  }
}

file_info to_info(v1::FileInfo& f) {
  return {.name = std::move(*f.mutable_name()), .type = to_type(f.type()), .size = f.size(), .mode = f.mode(),
          .uid = f.uid(), .gid = f.gid(), .mtime_ns = f.mtime_ns(),
          .symlink_target = std::move(*f.mutable_symlink_target())};
}

v1::UploadRequest upload_request(const std::string& remote, const upload_options& o, std::uint64_t size) {
  v1::UploadRequest r;
  r.set_path(remote);
  if (o.mode) r.set_mode(*o.mode);
  if (o.uid) r.set_uid(*o.uid);
  if (o.gid) r.set_gid(*o.gid);
  if (o.mtime_ns) r.set_mtime_ns(*o.mtime_ns);
  r.set_make_parents(o.make_parents);
  r.set_overwrite(o.overwrite);
  r.set_size(size);
  r.set_checksum(to_proto(o.checksum));
  return r;
}

// Sends what `next` yields (empty = end) as an upload, then the hash.
template <class Next>
awaitable<transfer_result> send_upload(client& guest, const v1::UploadRequest& req, files::checksum kind,
                                       Next next, const progress_fn& progress, call_options call) {
  co_await guest.connect(call);
  tether::checksum hash(kind_of(kind));
  auto stream = co_await guest.start("files.Upload", req.SerializeAsString(), no_deadline);
  std::uint64_t sent = 0;
  try {
    for (;;) {
      std::string_view piece = next();
      if (piece.empty()) break;
      hash.update(piece);
      co_await stream->write(0, piece);
      sent += piece.size();
      if (progress) progress(sent, req.size());
    }
    stream->close_write(0);
    const std::string trailer = hash.finish();
    co_await stream->write(1, trailer);
    stream->close_write(1);
  } catch (const error& e) {
    // The agent may have ended the call (refusal, disk full): its answer
    // says why better than our failed write does.
    if (e.code() == errc::local_io) throw;
  }
  const std::string bytes = co_await stream->finish();
  v1::TransferReply reply;
  if (!reply.ParseFromString(bytes)) throw error(errc::protocol_error, "files.Upload: bad reply");
  transfer_result r;
  r.bytes = reply.bytes();
  r.digest = to_hex(reply.digest());
  r.checksum = kind;
  co_return r;
}

// Receives a download, handing each piece to `sink`; checks the hash.
template <class Sink>
awaitable<transfer_result> receive_download(client& guest, const std::string& remote, const download_options& o,
                                            Sink sink, call_options call) {
  v1::DownloadRequest req;
  req.set_path(remote);
  req.set_offset(o.offset);
  req.set_length(o.length);
  req.set_checksum(to_proto(o.checksum));
  tether::checksum hash(kind_of(o.checksum));
  co_await guest.connect(call);
  auto stream = co_await guest.start("files.Download", req.SerializeAsString(), no_deadline);
  std::uint64_t got = 0;
  while (auto item = co_await stream->next()) {
    if (item->what != call_stream::chunk::kind::data || item->stream != 0) continue;
    hash.update(item->bytes);
    sink(item->bytes);
    got += item->bytes.size();
    if (o.progress) o.progress(got, 0);
  }
  const std::string bytes = co_await stream->finish();
  v1::TransferReply reply;
  if (!reply.ParseFromString(bytes)) throw error(errc::protocol_error, "files.Download: bad reply");
  const std::string digest = hash.finish();
  if (reply.bytes() != got || reply.digest() != digest)
    throw error(errc::data_loss, "download of " + remote + ": the guest sent " + std::to_string(reply.bytes()) +
                                     " bytes, " + std::to_string(got) + " arrived, and their " +
                                     std::string(tether::checksum::name(hash.kind())) + " differ");
  co_return transfer_result{got, to_hex(digest), o.checksum};
}

std::string temp_name_for(const std::string& local) {
  static std::mt19937_64 rng(std::random_device{}());
  const fs::path p(local);
  return (p.parent_path() / ("." + p.filename().string() + ".tether-" + std::to_string(rng() % 1'000'000'000))).string();
}

void write_fd(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) local_error("cannot write " + name);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

awaitable<transfer_result> upload_file(client& guest, const std::string& local, const std::string& remote,
                                       upload_options opts, call_options call) {
  unique_fd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) local_error("cannot open " + local);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) local_error("cannot stat " + local);
  if (!S_ISREG(st.st_mode)) throw error(errc::invalid_argument, local + " is not a regular file");
  if (!opts.mode) opts.mode = st.st_mode & 07777;
  if (!opts.mtime_ns) opts.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  const auto req = upload_request(remote, opts, static_cast<std::uint64_t>(st.st_size));
  std::string buf(chunk_size, '\0');
  // Local reads of a regular file: quick, on the caller's thread.
  auto next = [&]() -> std::string_view {
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) local_error("cannot read " + local);
      return std::string_view(buf.data(), static_cast<std::size_t>(n));
    }
  };
  co_return co_await send_upload(guest, req, opts.checksum, next, opts.progress, call);
}

awaitable<transfer_result> upload_bytes(client& guest, std::string data, const std::string& remote,
                                        upload_options opts, call_options call) {
  const auto req = upload_request(remote, opts, data.size());
  std::size_t off = 0;
  auto next = [&]() -> std::string_view {
    const auto piece = std::string_view(data).substr(off, chunk_size);
    off += piece.size();
    return piece;
  };
  co_return co_await send_upload(guest, req, opts.checksum, next, opts.progress, call);
}

awaitable<transfer_result> download_file(client& guest, const std::string& remote, const std::string& local,
                                         download_options opts, call_options call) {
  const bool resume = opts.offset > 0;
  if (!resume && !opts.overwrite && fs::exists(local))
    throw error(errc::invalid_argument, local + " exists (download without overwrite)");
  const std::string target = resume ? local : temp_name_for(local);
  unique_fd fd(::open(target.c_str(), resume ? (O_WRONLY | O_CLOEXEC) : (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC), 0644));
  if (!fd) local_error("cannot open " + target);
  struct remove_temp {
    std::string path;
    bool keep = false;
    ~remove_temp() {
      if (!keep && !path.empty()) ::unlink(path.c_str());
    }
  } cleanup{resume ? std::string() : target};
  if (resume) {
    if (::ftruncate(fd.get(), static_cast<off_t>(opts.offset)) != 0 ||
        ::lseek(fd.get(), static_cast<off_t>(opts.offset), SEEK_SET) < 0)
      local_error("cannot resume " + local + " at " + std::to_string(opts.offset));
  }
  auto r = co_await receive_download(guest, remote, opts,
                                     [&](std::string_view piece) { write_fd(fd.get(), piece, target); }, call);
  if (::fsync(fd.get()) != 0) local_error("cannot fsync " + target);
  if (!resume) {
    if (::rename(target.c_str(), local.c_str()) != 0) local_error("cannot rename " + target + " to " + local);
    cleanup.keep = true;
  }
  co_return r;
}

awaitable<std::string> download_bytes(client& guest, const std::string& remote, download_options opts,
                                      call_options call) {
  std::string out;
  co_await receive_download(guest, remote, opts, [&](std::string_view piece) { out.append(piece); }, call);
  co_return out;
}

awaitable<file_info> stat(client& guest, const std::string& remote, stat_options opts, call_options call) {
  v1::StatRequest req;
  req.set_path(remote);
  req.set_follow_symlinks(opts.follow_symlinks);
  auto info = co_await tether::detail::call<v1::FileInfo>(guest, "files.Stat", req, call);
  co_return to_info(info);
}

awaitable<std::vector<file_info>> list(client& guest, const std::string& remote, call_options call) {
  std::vector<file_info> out;
  v1::ListRequest req;
  req.set_path(remote);
  req.set_max_entries(1000);
  for (;;) {
    auto page = co_await tether::detail::call<v1::ListReply>(guest, "files.List", req, call);
    for (auto& e : *page.mutable_entries()) out.push_back(to_info(e));
    if (!page.more() || out.empty()) break;
    req.set_start_after(out.back().name);
  }
  co_return out;
}

awaitable<void> mkdir(client& guest, const std::string& remote, mkdir_options opts, call_options call) {
  v1::MkdirRequest req;
  req.set_path(remote);
  req.set_parents(opts.parents);
  if (opts.mode) req.set_mode(*opts.mode);
  co_await tether::detail::call<v1::FilesEmpty>(guest, "files.Mkdir", req, call);
}

awaitable<void> remove(client& guest, const std::string& remote, remove_options opts, call_options call) {
  v1::RemoveRequest req;
  req.set_path(remote);
  req.set_recursive(opts.recursive);
  if (call.timeout.count() == 0) call = no_deadline;
  co_await tether::detail::call<v1::FilesEmpty>(guest, "files.Remove", req, call);
}

awaitable<void> rename(client& guest, const std::string& from, const std::string& to, rename_options opts,
                       call_options call) {
  v1::RenameRequest req;
  req.set_from(from);
  req.set_to(to);
  req.set_overwrite(opts.overwrite);
  co_await tether::detail::call<v1::FilesEmpty>(guest, "files.Rename", req, call);
}

awaitable<void> symlink(client& guest, const std::string& target, const std::string& path, call_options call) {
  v1::SymlinkRequest req;
  req.set_target(target);
  req.set_path(path);
  co_await tether::detail::call<v1::FilesEmpty>(guest, "files.Symlink", req, call);
}

const char* to_string(checksum c) noexcept {
  switch (c) {
    case checksum::sha256: return "sha256";
    case checksum::xxh64: return "xxh64";
    case checksum::xxh3: return "xxh3";
  }
  return "unknown";
}

std::optional<checksum> parse_checksum(std::string_view name) noexcept {
  const auto kind = tether::checksum::parse(name);
  if (!kind) return std::nullopt;
  switch (*kind) {
    case checksum_kind::sha256: return checksum::sha256;
    case checksum_kind::xxh64: return checksum::xxh64;
    case checksum_kind::xxh3_128: return checksum::xxh3;
  }
  return std::nullopt;
}

namespace {

std::string join(const std::string& dir, const std::string& name) {
  return dir.ends_with("/") ? dir + name : dir + "/" + name;
}

awaitable<void> upload_dir(client& guest, const fs::path& local, const std::string& remote,
                           const upload_options& opts, call_options call, tree_result& r) {
  struct stat st{};
  if (::stat(local.c_str(), &st) != 0) local_error("cannot stat " + local.string());
  co_await mkdir(guest, remote, {.parents = true, .mode = st.st_mode & 07777}, call);
  ++r.directories;
  for (const auto& e : fs::directory_iterator(local)) {
    const std::string target = join(remote, e.path().filename().string());
    const auto s = e.symlink_status();
    if (fs::is_symlink(s)) {
      if (opts.overwrite) {
        try {
          co_await remove(guest, target, {}, call);
        } catch (const error& err) {
          if (err.remote_code() != remote_errc::not_found) throw;
        }
      }
      co_await symlink(guest, fs::read_symlink(e.path()).string(), target, call);
      ++r.symlinks;
    } else if (fs::is_directory(s)) {
      co_await upload_dir(guest, e.path(), target, opts, call, r);
    } else if (fs::is_regular_file(s)) {
      upload_options o = opts;
      o.mode.reset();
      o.mtime_ns.reset();
      r.bytes += (co_await upload_file(guest, e.path().string(), target, o, call)).bytes;
      ++r.files;
    }
  }
}

awaitable<void> download_dir(client& guest, const std::string& remote, const fs::path& local,
                             const download_options& opts, call_options call, tree_result& r,
                             std::uint32_t mode) {
  std::error_code ec;
  fs::create_directories(local, ec);
  if (ec) throw error(errc::local_io, "cannot create " + local.string() + ": " + ec.message());
  ::chmod(local.c_str(), mode);
  ++r.directories;
  const auto entries = co_await list(guest, remote, call);
  for (const auto& e : entries) {
    const std::string src = join(remote, e.name);
    const fs::path dst = local / e.name;
    if (e.is_directory()) {
      co_await download_dir(guest, src, dst, opts, call, r, e.mode);
    } else if (e.is_symlink()) {
      fs::remove(dst, ec);
      fs::create_symlink(e.symlink_target, dst, ec);
      if (ec) throw error(errc::local_io, "cannot create symlink " + dst.string() + ": " + ec.message());
      ++r.symlinks;
    } else if (e.is_regular()) {
      download_options o = opts;
      o.offset = 0;
      o.length = 0;
      r.bytes += (co_await download_file(guest, src, dst.string(), o, call)).bytes;
      ::chmod(dst.c_str(), e.mode);
      timespec ts[2];
      ts[0].tv_nsec = UTIME_OMIT;
      ts[1].tv_sec = static_cast<time_t>(e.mtime_ns / 1'000'000'000);
      ts[1].tv_nsec = static_cast<long>(e.mtime_ns % 1'000'000'000);
      ::utimensat(AT_FDCWD, dst.c_str(), ts, 0);
      ++r.files;
    }
  }
}

}  // namespace

awaitable<tree_result> upload_tree(client& guest, const std::string& local_dir, const std::string& remote_dir,
                                   upload_options opts, call_options call) {
  if (!fs::is_directory(local_dir)) throw error(errc::invalid_argument, local_dir + " is not a directory");
  tree_result r;
  co_await upload_dir(guest, local_dir, remote_dir, opts, call, r);
  co_return r;
}

awaitable<tree_result> download_tree(client& guest, const std::string& remote_dir, const std::string& local_dir,
                                     download_options opts, call_options call) {
  const auto info = co_await stat(guest, remote_dir, {.follow_symlinks = true}, call);
  if (!info.is_directory()) throw error(errc::invalid_argument, remote_dir + " is not a directory in the guest");
  tree_result r;
  co_await download_dir(guest, remote_dir, local_dir, opts, call, r, info.mode);
  co_return r;
}

}  // namespace tether::files
