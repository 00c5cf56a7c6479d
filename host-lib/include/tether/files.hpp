// Files in the guest (service "files"): transfers at the speed of the
// channel, checked on both ends (XXH64 by default), and file management.
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
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether {
class blocking_client;
}  // namespace tether

namespace tether::files {

// How a transfer is checked on both ends. The check guards against
// corruption (bugs, bad memory, a short read); the guest computes its own
// digest, so no algorithm protects against the guest itself.
enum class checksum {
  sha256,  // 32-byte digest: to compare with a digest published elsewhere
  xxh64,   // 8 bytes; the default: the cheapest for an emulated guest (measured:
           // 5x XXH3's rate under TCG, where XXH3's SIMD code is emulated)
  xxh3,    // XXH3-128, 16 bytes
};
// "sha256", "xxh64", "xxh3" (parse also takes "xxh3_128", "xxh128").
const char* to_string(checksum c) noexcept;
std::optional<checksum> parse_checksum(std::string_view name) noexcept;

enum class file_type { unknown, regular, directory, symlink, block_device, char_device, fifo, socket };

// What stat() and list() report about a remote file (as os.stat_result and
// os.DirEntry do).
struct file_info {
  std::string name;  // bytes; stat: the path, list: the entry's name
  file_type type = file_type::unknown;
  std::uint64_t size = 0;
  std::uint32_t mode = 0;  // permission bits (07777)
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime_ns = 0;   // since the epoch
  std::string symlink_target;  // bytes; symlinks only

  bool is_regular() const noexcept { return type == file_type::regular; }
  bool is_directory() const noexcept { return type == file_type::directory; }
  bool is_symlink() const noexcept { return type == file_type::symlink; }
};

// Called as bytes move: (bytes done, bytes expected; 0 if unknown).
using progress_fn = std::function<void(std::uint64_t, std::uint64_t)>;

struct upload_options {
  // Defaults for upload_file: the local file's mode and mtime; for
  // upload_bytes: 0644 and now. The owner is the agent's unless set.
  std::optional<std::uint32_t> mode, uid, gid;
  std::optional<std::int64_t> mtime_ns;
  bool make_parents = false;  // create missing remote directories
  bool overwrite = false;     // replace an existing remote file
  files::checksum checksum = checksum::xxh64;
  progress_fn progress;
};

struct download_options {
  // Resume: start at this remote offset. download_file then keeps the
  // first `offset` bytes of the local file and writes after them.
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // 0: to the end
  bool overwrite = true;     // replace an existing local file
  files::checksum checksum = checksum::xxh64;
  progress_fn progress;
};

struct transfer_result {
  std::uint64_t bytes = 0;
  std::string digest;  // hex, of the bytes moved, with `checksum` (always set)
  files::checksum checksum = checksum::xxh64;
};

// Transfers: `call` bounds reaching the agent; the transfer itself has no
// deadline (it runs at the channel's speed; cancel it through Asio).
boost::asio::awaitable<transfer_result> upload_file(client& guest, const std::string& local,
                                                    const std::string& remote, upload_options opts = {},
                                                    call_options call = {});
boost::asio::awaitable<transfer_result> upload_bytes(client& guest, std::string data,
                                                     const std::string& remote, upload_options opts = {},
                                                     call_options call = {});
// The local file is written under a temporary name and renamed when
// complete and verified (offset 0), so it too is never left partial.
boost::asio::awaitable<transfer_result> download_file(client& guest, const std::string& remote,
                                                      const std::string& local, download_options opts = {},
                                                      call_options call = {});
boost::asio::awaitable<std::string> download_bytes(client& guest, const std::string& remote,
                                                   download_options opts = {}, call_options call = {});

struct stat_options {
  bool follow_symlinks = false;  // describe a symlink's target, not the link
};
struct mkdir_options {
  bool parents = false;                // like mkdir -p: no error if it exists
  std::optional<std::uint32_t> mode;   // default 0755
};
struct remove_options {
  bool recursive = false;  // directories and their contents
};
struct rename_options {
  bool overwrite = false;  // replace an existing destination
};

boost::asio::awaitable<file_info> stat(client& guest, const std::string& remote, stat_options opts = {},
                                       call_options call = {});
// Every entry, sorted by name (fetched page by page; `call` bounds each page).
boost::asio::awaitable<std::vector<file_info>> list(client& guest, const std::string& remote,
                                                    call_options call = {});
boost::asio::awaitable<void> mkdir(client& guest, const std::string& remote, mkdir_options opts = {},
                                   call_options call = {});
// call.timeout 0: no deadline (a recursive remove may take long).
boost::asio::awaitable<void> remove(client& guest, const std::string& remote, remove_options opts = {},
                                    call_options call = {});
boost::asio::awaitable<void> rename(client& guest, const std::string& from, const std::string& to,
                                    rename_options opts = {}, call_options call = {});
boost::asio::awaitable<void> symlink(client& guest, const std::string& target, const std::string& path,
                                     call_options call = {});

struct tree_result {
  std::uint64_t files = 0, directories = 0, symlinks = 0, bytes = 0;
};
// Recursive copies of regular files, directories and symlinks with their
// modes (other file types are skipped). The destination directory is
// created; existing files in it are replaced only with overwrite.
boost::asio::awaitable<tree_result> upload_tree(client& guest, const std::string& local_dir,
                                                const std::string& remote_dir, upload_options opts = {},
                                                call_options call = {});
boost::asio::awaitable<tree_result> download_tree(client& guest, const std::string& remote_dir,
                                                  const std::string& local_dir, download_options opts = {},
                                                  call_options call = {});

// Blocking forms (blocking_client.hpp).
transfer_result upload_file(blocking_client& guest, const std::string& local, const std::string& remote,
                            upload_options opts = {}, call_options call = {});
transfer_result upload_bytes(blocking_client& guest, std::string data, const std::string& remote,
                             upload_options opts = {}, call_options call = {});
transfer_result download_file(blocking_client& guest, const std::string& remote, const std::string& local,
                              download_options opts = {}, call_options call = {});
std::string download_bytes(blocking_client& guest, const std::string& remote, download_options opts = {},
                           call_options call = {});
file_info stat(blocking_client& guest, const std::string& remote, stat_options opts = {}, call_options call = {});
std::vector<file_info> list(blocking_client& guest, const std::string& remote, call_options call = {});
void mkdir(blocking_client& guest, const std::string& remote, mkdir_options opts = {}, call_options call = {});
void remove(blocking_client& guest, const std::string& remote, remove_options opts = {}, call_options call = {});
void rename(blocking_client& guest, const std::string& from, const std::string& to, rename_options opts = {},
            call_options call = {});
void symlink(blocking_client& guest, const std::string& target, const std::string& path, call_options call = {});
tree_result upload_tree(blocking_client& guest, const std::string& local_dir, const std::string& remote_dir,
                        upload_options opts = {}, call_options call = {});
tree_result download_tree(blocking_client& guest, const std::string& remote_dir, const std::string& local_dir,
                          download_options opts = {}, call_options call = {});

}  // namespace tether::files
