// tetherctl upload/download/stat/ls/mkdir/rm/mv: files in the guest.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"
#include "tether/files.hpp"

namespace tetherctl {
namespace {

using tether::files::file_info;
using tether::files::file_type;

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

// --checksum NAME (upload and download).
void add_checksum(CLI::App* app, tether::files::checksum& into) {
  auto set = [&into](const std::string& name) {
    const auto kind = tether::files::parse_checksum(name);
    if (!kind) throw CLI::ValidationError("--checksum takes xxh64, xxh3 or sha256, not '" + name + "'");
    into = *kind;
  };
  app->add_option_function<std::string>(
         "--checksum", set,
         "verify with xxh64 (default), xxh3 (XXH3-128) or sha256; the check catches corruption (the guest "
         "computes its own digest); sha256 gives a digest to compare with one published elsewhere")
      ->type_name("xxh64|xxh3|sha256");
}

void print(const tether::files::transfer_result& r, const char* what, const std::string& path, bool as_json) {
  const std::string checksum_name(tether::files::to_string(r.checksum));
  if (as_json)
    json::print(boost::json::object{
        {what, path}, {"bytes", r.bytes}, {"checksum", checksum_name}, {"digest", r.digest}});
  else if (::isatty(STDOUT_FILENO))
    std::cout << what << " " << path << ": " << r.bytes << " bytes, " << checksum_name << " " << r.digest << "\n";
}

void print(const tether::files::tree_result& r, const char* what, const std::string& path, bool as_json) {
  if (as_json)
    json::print(boost::json::object{{what, path},
                                    {"files", r.files},
                                    {"directories", r.directories},
                                    {"symlinks", r.symlinks},
                                    {"bytes", r.bytes}});
  else if (::isatty(STDOUT_FILENO))
    std::cout << what << " " << path << ": " << r.files << " files, " << r.directories << " directories, "
              << r.symlinks << " symlinks, " << r.bytes << " bytes\n";
}

struct transfer_args {
  std::string from, to;
  bool recursive = false;
  tether::files::upload_options up;
  tether::files::download_options down;
};

awaitable<int> run_upload(context& ctx, transfer_args a) {
  progress_meter meter(!ctx.global.json);
  a.up.progress = meter.fn();
  if (a.recursive)
    print(co_await tether::files::upload_tree(ctx.client, a.from, a.to, a.up), "uploaded", a.to, ctx.global.json);
  else
    print(co_await tether::files::upload_file(ctx.client, a.from, a.to, a.up), "uploaded", a.to, ctx.global.json);
  co_return exit_ok;
}

awaitable<int> run_download(context& ctx, transfer_args a) {
  progress_meter meter(!ctx.global.json);
  a.down.progress = meter.fn();
  if (a.recursive)
    print(co_await tether::files::download_tree(ctx.client, a.from, a.to, a.down), "downloaded", a.from,
          ctx.global.json);
  else
    print(co_await tether::files::download_file(ctx.client, a.from, a.to, a.down), "downloaded", a.from,
          ctx.global.json);
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

boost::json::object to_json(const file_info& f) {
  boost::json::object o{{"name", f.name}, {"type", type_name(f.type)}, {"size", f.size},
                        {"mode", f.mode},                {"uid", f.uid},               {"gid", f.gid},
                        {"mtime_ns", f.mtime_ns}};
  if (f.is_symlink()) o.emplace("target", f.symlink_target);
  return o;
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

void print(const file_info& f, bool as_json) {
  if (as_json) json::print(to_json(f));
  else std::cout << line_info(f) << "\n";
}

// stat, ls, mkdir, rm, mv: remote paths and at most one flag.
struct path_args {
  std::string path, to;
  bool flag = false;  // -L, -p, -r or -f
};
using path_run = awaitable<int> (*)(context&, path_args);

CLI::App* add_path_command(command_table& t, const char* name, const char* description, path_run run,
                           std::vector<const char*> positionals, const char* flag = nullptr,
                           const char* flag_help = nullptr) {
  auto a = std::make_shared<path_args>();
  auto* app = t.add(name, description, [a, run](context& c) { return run(c, *a); });
  std::string* into[] = {&a->path, &a->to};
  for (std::size_t i = 0; i < positionals.size(); ++i)
    app->add_option(positionals[i], *into[i], "a path in the guest ('--' before paths that start with '-')")
        ->required()
        ->type_name("");
  if (flag) app->add_flag(flag, a->flag, flag_help);
  return app;
}

awaitable<int> run_stat(context& ctx, path_args a) {
  print(co_await tether::files::stat(ctx.client, a.path, {.follow_symlinks = a.flag}), ctx.global.json);
  co_return exit_ok;
}

awaitable<int> run_ls(context& ctx, path_args a) {
  for (const auto& e : co_await tether::files::list(ctx.client, a.path)) print(e, ctx.global.json);
  co_return exit_ok;
}

awaitable<int> run_mkdir(context& ctx, path_args a) {
  co_await tether::files::mkdir(ctx.client, a.path, {.parents = a.flag});
  co_return exit_ok;
}

awaitable<int> run_rm(context& ctx, path_args a) {
  co_await tether::files::remove(ctx.client, a.path, {.recursive = a.flag});
  co_return exit_ok;
}

awaitable<int> run_mv(context& ctx, path_args a) {
  co_await tether::files::rename(ctx.client, a.path, a.to, {.overwrite = a.flag});
  co_return exit_ok;
}

}  // namespace

void add_files(command_table& t) {
  auto up = std::make_shared<transfer_args>();
  auto* upload = t.add("upload", "copy a file (or with -r a tree) into the guest; atomic, verified",
                       [up](context& c) { return run_upload(c, *up); });
  upload->add_option("LOCAL", up->from, "the local file or directory")->required()->type_name("");
  upload->add_option("REMOTE", up->to, "where it goes in the guest ('--' before it if it starts with '-')")
      ->required()
      ->type_name("");
  upload->add_flag("-r", up->recursive, "a directory tree: files, directories, symlinks, modes");
  upload->add_flag("-p,--parents", up->up.make_parents, "make missing parent directories");
  upload->add_flag("-f,--force", up->up.overwrite, "replace an existing file");
  add_checksum(upload, up->up.checksum);

  auto down = std::make_shared<transfer_args>();
  auto* download = t.add("download", "copy a file (or with -r a tree) out of the guest; verified",
                         [down](context& c) { return run_download(c, *down); });
  download->add_option("REMOTE", down->from, "the file or directory in the guest")->required()->type_name("");
  download->add_option("LOCAL", down->to, "where it goes here")->required()->type_name("");
  download->add_flag("-r", down->recursive, "a directory tree");
  download->add_option("--offset", down->down.offset, "resume: keep the first N bytes of LOCAL, fetch the rest")
      ->check(in_range(std::uint64_t{0}, std::uint64_t{INT64_MAX}))
      ->type_name("N");
  add_checksum(download, down->down.checksum);

  add_path_command(t, "stat", "type, mode, owner, size and mtime of a guest path", run_stat, {"REMOTE"}, "-L",
                   "follow a symlink");
  add_path_command(t, "ls", "list a guest directory", run_ls, {"REMOTE_DIR"});
  add_path_command(t, "mkdir", "make a guest directory", run_mkdir, {"REMOTE_DIR"}, "-p",
                   "make missing parents too; an existing directory is no error");
  add_path_command(t, "rm", "remove a guest file or (with -r) tree", run_rm, {"REMOTE"}, "-r",
                   "a directory and everything in it");
  add_path_command(t, "mv", "rename in the guest", run_mv, {"FROM", "TO"}, "-f", "replace an existing TO");
}

}  // namespace tetherctl
