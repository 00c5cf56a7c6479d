// Files in the guest (service "files"): transfers at the speed of the
// channel, checked on both ends (SHA-256 by default; XXH64 on request costs
// the guest far less CPU and catches corruption, not tampering), and file
// management.
//
//   co_await tether::files::upload_file(guest, "build/app.tar", "/srv/app.tar", {.overwrite = true});
//   co_await tether::files::download_file(guest, "/var/log/syslog", "syslog");
//
// Uploads are atomic in the guest: the file appears complete or not at all.
// Transfers run under flow control on the bulk lane, so other calls on the
// same client (ping, exec, ...) keep answering during a long transfer.
// Remote paths are bytes and must be absolute.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"
#include "tether/v1/files.pb.h"

namespace tether::files {

// Called as bytes move: (bytes done, bytes expected; 0 if unknown).
using progress_fn = std::function<void(std::uint64_t, std::uint64_t)>;

struct upload_options {
  // Defaults for upload_file: the local file's mode and mtime; for
  // upload_bytes: 0644 and now. The owner is the agent's unless set.
  std::optional<std::uint32_t> mode, uid, gid;
  std::optional<std::int64_t> mtime_ns;
  bool make_parents = false;  // create missing remote directories
  bool overwrite = false;     // replace an existing remote file
  v1::Checksum checksum = v1::CHECKSUM_SHA256;
  progress_fn progress;
};

struct download_options {
  // Resume: start at this remote offset. download_file then keeps the
  // first `offset` bytes of the local file and writes after them.
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // 0: to the end
  bool overwrite = true;     // replace an existing local file
  v1::Checksum checksum = v1::CHECKSUM_SHA256;
  progress_fn progress;
};

struct transfer_result {
  std::uint64_t bytes = 0;
  std::string digest;  // hex, of the bytes moved, with `checksum`
  v1::Checksum checksum = v1::CHECKSUM_SHA256;
};

boost::asio::awaitable<transfer_result> upload_file(client& guest, const std::string& local,
                                                    const std::string& remote, upload_options opts = {});
boost::asio::awaitable<transfer_result> upload_bytes(client& guest, std::string data,
                                                     const std::string& remote, upload_options opts = {});
// The local file is written under a temporary name and renamed when
// complete and verified (offset 0), so it too is never left partial.
boost::asio::awaitable<transfer_result> download_file(client& guest, const std::string& remote,
                                                      const std::string& local, download_options opts = {});
boost::asio::awaitable<std::string> download_bytes(client& guest, const std::string& remote,
                                                   download_options opts = {});

boost::asio::awaitable<v1::FileInfo> stat(client& guest, const std::string& remote, bool follow_symlinks = false);
// Every entry, sorted by name (fetched page by page).
boost::asio::awaitable<std::vector<v1::FileInfo>> list(client& guest, const std::string& remote);
boost::asio::awaitable<void> mkdir(client& guest, const std::string& remote, bool parents = false,
                                   std::optional<std::uint32_t> mode = std::nullopt);
boost::asio::awaitable<void> remove(client& guest, const std::string& remote, bool recursive = false);
boost::asio::awaitable<void> rename(client& guest, const std::string& from, const std::string& to,
                                    bool overwrite = false);
boost::asio::awaitable<void> symlink(client& guest, const std::string& target, const std::string& path);

struct tree_result {
  std::uint64_t files = 0, directories = 0, symlinks = 0, bytes = 0;
};
// Recursive copies of regular files, directories and symlinks with their
// modes (other file types are skipped). The destination directory is
// created; existing files in it are replaced only with overwrite.
boost::asio::awaitable<tree_result> upload_tree(client& guest, const std::string& local_dir,
                                                const std::string& remote_dir, upload_options opts = {});
boost::asio::awaitable<tree_result> download_tree(client& guest, const std::string& remote_dir,
                                                  const std::string& local_dir, download_options opts = {});

}  // namespace tether::files
