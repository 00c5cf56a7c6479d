// tetherctl upload/download/stat/ls/mkdir/rm/mv: files in the guest.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "tether/files.hpp"

namespace tetherctl {
namespace {

using tether::files::file_info;
using tether::files::file_type;

// Positional arguments and the flags a command accepts ("--" ends flags,
// so remote names starting with '-' work).
struct parsed {
  std::vector<std::string> positional;
  std::vector<std::string> flags;
  bool has(const std::string& f) const {
    return std::find(flags.begin(), flags.end(), f) != flags.end();
  }
};

parsed parse(const std::vector<std::string>& args, const std::vector<std::string>& known, std::size_t count,
             const std::string& usage) {
  parsed p;
  bool flags_done = false;
  for (const auto& a : args) {
    if (!flags_done && a == "--") {
      flags_done = true;
    } else if (!flags_done && a.size() > 1 && a[0] == '-') {
      if (std::find(known.begin(), known.end(), a) == known.end())
        throw usage_error("unknown option '" + a + "' (usage: " + usage + ")");
      p.flags.push_back(a);
    } else {
      p.positional.push_back(a);
    }
  }
  if (p.positional.size() != count) throw usage_error("usage: tetherctl " + usage);
  return p;
}

// Progress on stderr, only for a terminal and for transfers that last.
class progress_meter {
 public:
  explicit progress_meter(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}
  tether::files::progress_fn fn() {
    if (!enabled_) return {};
    return [this](std::uint64_t done, std::uint64_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_ < std::chrono::milliseconds(200) && done != total) return;
      last_ = now;
      const double s = std::chrono::duration<double>(now - start_).count();
      if (s < 0.5) return;
      shown_ = true;
      const double mib = static_cast<double>(done) / (1 << 20);
      if (total) std::fprintf(stderr, "\r%5.1f%%  %.1f MiB  %.1f MiB/s ", 100.0 * static_cast<double>(done) / static_cast<double>(total), mib, mib / s);
      else std::fprintf(stderr, "\r%.1f MiB  %.1f MiB/s ", mib, mib / s);
    };
  }
  ~progress_meter() {
    if (shown_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// Takes "--checksum NAME" out of args (before the flags-and-positionals parse).
tether::files::checksum take_checksum(std::vector<std::string>& args) {
  auto c = tether::files::checksum::sha256;
  std::vector<std::string> rest;
  bool flags_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") flags_done = true;
    if (flags_done || !is_flag(args[i], "--checksum")) {
      rest.push_back(args[i]);
      continue;
    }
    const std::string name = flag_value(args, i);
    const auto kind = tether::files::parse_checksum(name);
    if (!kind) throw usage_error("--checksum takes sha256 or xxh64, not '" + name + "'");
    c = *kind;
  }
  args = std::move(rest);
  return c;
}

void report(context& ctx, const char* what, const tether::files::transfer_result& r, const std::string& path) {
  const auto checksum_name = tether::files::to_string(r.checksum);
  if (ctx.global.json)
    std::cout << "{\"" << what << "\":" << json_quote(path) << ",\"bytes\":" << r.bytes << ",\"checksum\":\""
              << checksum_name << "\",\"digest\":\"" << r.digest << "\"}\n";
  else if (::isatty(STDOUT_FILENO))
    std::cout << what << " " << path << ": " << r.bytes << " bytes, " << checksum_name << " " << r.digest
              << "\n";
}

void report_tree(context& ctx, const char* what, const tether::files::tree_result& r, const std::string& path) {
  if (ctx.global.json)
    std::cout << "{\"" << what << "\":" << json_quote(path) << ",\"files\":" << r.files << ",\"directories\":"
              << r.directories << ",\"symlinks\":" << r.symlinks << ",\"bytes\":" << r.bytes << "}\n";
  else if (::isatty(STDOUT_FILENO))
    std::cout << what << " " << path << ": " << r.files << " files, " << r.directories << " directories, "
              << r.symlinks << " symlinks, " << r.bytes << " bytes\n";
}

awaitable<int> run_upload(context& ctx) {
  const std::string usage = "upload [-r] [-p] [-f] [--checksum sha256|xxh64] [--] LOCAL REMOTE";
  std::vector<std::string> args = ctx.args;
  const auto sum = take_checksum(args);
  auto p = parse(args, {"-r", "-p", "-f", "--parents", "--force"}, 2, usage);
  tether::files::upload_options o{.make_parents = p.has("-p") || p.has("--parents"),
                                  .overwrite = p.has("-f") || p.has("--force"),
                                  .checksum = sum};
  progress_meter meter(!ctx.global.json);
  o.progress = meter.fn();
  if (p.has("-r")) {
    auto r = co_await tether::files::upload_tree(ctx.client, p.positional[0], p.positional[1], o);
    report_tree(ctx, "uploaded", r, p.positional[1]);
  } else {
    auto r = co_await tether::files::upload_file(ctx.client, p.positional[0], p.positional[1], o);
    report(ctx, "uploaded", r, p.positional[1]);
  }
  co_return exit_ok;
}

awaitable<int> run_download(context& ctx) {
  const std::string usage = "download [-r] [--offset N] [--checksum sha256|xxh64] [--] REMOTE LOCAL";
  std::vector<std::string> all = ctx.args;
  const auto sum = take_checksum(all);
  std::vector<std::string> args;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (is_flag(all[i], "--offset"))
      offset = static_cast<std::uint64_t>(parse_int("--offset", flag_value(all, i), 0, INT64_MAX));
    else
      args.push_back(all[i]);
  }
  auto p = parse(args, {"-r"}, 2, usage);
  progress_meter meter(!ctx.global.json);
  tether::files::download_options o{.offset = offset, .checksum = sum};
  o.progress = meter.fn();
  if (p.has("-r")) {
    auto r = co_await tether::files::download_tree(ctx.client, p.positional[0], p.positional[1], o);
    report_tree(ctx, "downloaded", r, p.positional[0]);
  } else {
    auto r = co_await tether::files::download_file(ctx.client, p.positional[0], p.positional[1], o);
    report(ctx, "downloaded", r, p.positional[0]);
  }
  co_return exit_ok;
}

const char* type_name(file_type t) {
  switch (t) {
    case file_type::regular: return "file";
    case file_type::directory: return "directory";
    case file_type::symlink: return "symlink";
    case file_type::block_device: return "block-device";
    case file_type::char_device: return "char-device";
    case file_type::fifo: return "fifo";
    case file_type::socket: return "socket";
    default: return "unknown";
  }
}

std::string json_info(const file_info& f) {
  std::string s = "{\"name\":" + json_quote(f.name) + ",\"type\":\"" + type_name(f.type) +
                  "\",\"size\":" + std::to_string(f.size) + ",\"mode\":" + std::to_string(f.mode) +
                  ",\"uid\":" + std::to_string(f.uid) + ",\"gid\":" + std::to_string(f.gid) +
                  ",\"mtime_ns\":" + std::to_string(f.mtime_ns);
  if (f.is_symlink()) s += ",\"target\":" + json_quote(f.symlink_target);
  return s + "}";
}

std::string line_info(const file_info& f) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", f.mode);
  const std::time_t t = static_cast<std::time_t>(f.mtime_ns / 1'000'000'000);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::gmtime(&t));
  std::string s = std::string(type_name(f.type)) + "\t" + mode + "\t" + std::to_string(f.uid) + ":" +
                  std::to_string(f.gid) + "\t" + std::to_string(f.size) + "\t" + when + "\t" + f.name;
  if (f.is_symlink()) s += " -> " + f.symlink_target;
  return s;
}

awaitable<int> run_stat(context& ctx) {
  auto p = parse(ctx.args, {"-L"}, 1, "stat [-L] [--] REMOTE");
  auto f = co_await tether::files::stat(ctx.client, p.positional[0], {.follow_symlinks = p.has("-L")});
  std::cout << (ctx.global.json ? json_info(f) : line_info(f)) << "\n";
  co_return exit_ok;
}

awaitable<int> run_ls(context& ctx) {
  auto p = parse(ctx.args, {}, 1, "ls [--] REMOTE_DIR");
  auto entries = co_await tether::files::list(ctx.client, p.positional[0]);
  for (const auto& e : entries) std::cout << (ctx.global.json ? json_info(e) : line_info(e)) << "\n";
  co_return exit_ok;
}

awaitable<int> run_mkdir(context& ctx) {
  auto p = parse(ctx.args, {"-p"}, 1, "mkdir [-p] [--] REMOTE_DIR");
  co_await tether::files::mkdir(ctx.client, p.positional[0], {.parents = p.has("-p")});
  co_return exit_ok;
}

awaitable<int> run_rm(context& ctx) {
  auto p = parse(ctx.args, {"-r"}, 1, "rm [-r] [--] REMOTE");
  co_await tether::files::remove(ctx.client, p.positional[0], {.recursive = p.has("-r")});
  co_return exit_ok;
}

awaitable<int> run_mv(context& ctx) {
  auto p = parse(ctx.args, {"-f"}, 2, "mv [-f] [--] FROM TO");
  co_await tether::files::rename(ctx.client, p.positional[0], p.positional[1], {.overwrite = p.has("-f")});
  co_return exit_ok;
}

const register_command reg_up{{"upload",
                                     "upload [-r] [-p] [-f] [--checksum sha256|xxh64] LOCAL REMOTE\n"
                                     "                                       copy into the guest (atomic; -p make parents, -f overwrite);\n"
                                     "                                       verified with SHA-256, or XXH64: less guest CPU, catches\n"
                                     "                                       corruption but not tampering",
                                     run_upload}};
const register_command reg_down{{"download",
                                       "download [-r] [--offset N] [--checksum sha256|xxh64] REMOTE LOCAL\n"
                                       "                                       copy out of the guest (--offset resumes; --checksum as for\n"
                                       "                                       upload)",
                                       run_download}};
const register_command reg_stat{{"stat", "stat [-L] REMOTE                    type, mode, owner, size, mtime", run_stat}};
const register_command reg_ls{{"ls", "ls REMOTE_DIR                        list a guest directory", run_ls}};
const register_command reg_mkdir{{"mkdir", "mkdir [-p] REMOTE_DIR                make a guest directory", run_mkdir}};
const register_command reg_rm{{"rm", "rm [-r] REMOTE                       remove a guest file or tree", run_rm}};
const register_command reg_mv{{"mv", "mv [-f] FROM TO                      rename in the guest (-f overwrite)", run_mv}};

}  // namespace
}  // namespace tetherctl
