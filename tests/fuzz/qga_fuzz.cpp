// The QGA front end (agent/src/qga/) against a hostile host: the input is
// what the host writes on the QGA port, in steps (records.hpp; op bit 0
// set: the step's bytes go out in one write with the next step's), cut by
// json_stream, parsed and dispatched through the real qga_agent, its server
// loop and the agent's real services (make_registry). Every reply must be
// one line holding a JSON object with "return" or "error" (0xFF ahead of
// guest-sync-delimited's), and the connection must end once the host is
// gone.
//
// The fuzzer runs on the machine it fuzzes, so the agent may run only
// commands that read: an explicit [qga] allow list (commands added later
// stay disabled), [services] allow without exec, devices and forward,
// power simulated (kernel method, no D-Bus: a simulated shutdown stops this
// agent only), no fsfreeze hook, files confined to a read-only temporary
// root (inputs call it "/fuzz-root"), and a root fuzzer drops to uid/gid
// 65534 first. LLVMFuzzerInitialize checks all of it on a real qga_agent
// before any input runs.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include "agent_rig.hpp"
#include "drive.hpp"
#include "log.hpp"
#include "privileges.hpp"
#include "qga/fsfreeze.hpp"
#include "qga/qga_agent.hpp"
#include "qga/server.hpp"
#include "quiet_protobuf.hpp"
#include "records.hpp"
#include "writer.hpp"

namespace {

using namespace tether;
using fuzz::check;
namespace fs = std::filesystem;
namespace qga = agent::qga;
namespace json = boost::json;

// Commands that only read (or, for power, are simulated). Everything else,
// including commands that do not exist yet, is disabled. Left out although
// harmless: guest-get-memory-blocks, -disks, -fsinfo, -diskstats and
// guest-network-get-interfaces take no arguments and walk /sys (5-50 ms an
// execution, 10-100 times the rest); their output is the machine's, not the
// input's (the loopback qemu-ga comparison checks them).
const std::set<std::string> harmless = {
    "guest-sync", "guest-sync-delimited", "guest-ping", "guest-info",
    "guest-get-host-name", "guest-get-osinfo", "guest-get-time", "guest-get-timezone",
    "guest-get-vcpus", "guest-get-users", "guest-get-load", "guest-get-cpustats",
    "guest-get-memory-block-info", "guest-fsfreeze-status", "guest-exec-status",
    "guest-ssh-get-authorized-keys",
    // Read-only: the root and its files are not writable by the fuzzer.
    "guest-file-open", "guest-file-read", "guest-file-seek", "guest-file-close",
    // Through the power service with simulate on: they stop this agent.
    "guest-shutdown", "guest-suspend-ram"};

// Must be disabled whatever the table holds (names of qemu-ga's commands
// too, so one added to tether's table cannot slip through).
const char* const forbidden[] = {
    "guest-exec", "guest-set-time", "guest-file-write", "guest-file-flush", "guest-fsfreeze-freeze",
    "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fstrim", "guest-set-user-password",
    "guest-ssh-add-authorized-keys", "guest-ssh-remove-authorized-keys", "guest-set-vcpus",
    "guest-set-memory-blocks", "guest-suspend-disk", "guest-suspend-hybrid"};

fs::path work_dir;
agent::agent_options options;

// What the agent enables is checked on a real qga_agent, before any input.
void check_policy() {
  asio::io_context ctx;
  auto registry = agent::make_registry(options, ctx.get_executor(), [] {});
  // (No hook: guest-fsfreeze-* are disabled, checked below.)
  qga::freezer freezer(ctx.get_executor(), "", options.qga.freeze_limit, options.qga.freeze_host_gone_limit);
  qga::qga_agent a(ctx.get_executor(), options.qga, options.config, registry, freezer, "fuzz");
  for (const auto& c : qga::commands()) {
    const std::string name(c.name);
    if (a.enabled(c)) check(harmless.contains(name), "only harmless QGA commands are enabled");
  }
  for (const char* name : forbidden)
    for (const auto& c : qga::commands())
      if (c.name == name) check(!a.enabled(c), "a host-changing QGA command is disabled");
  check(options.power.simulate && options.power.method == agent::power::method_choice::kernel,
        "power is simulated");
  check(!registry.find("exec.Run").handler && !registry.find("devices.Subscribe").handler &&
            !registry.find("forward.Open").handler,
        "exec, devices and forward are not served");
  check(options.qga.fsfreeze_hook.empty(), "no fsfreeze hook");
  const auto root = work_dir / "files";
  check(::access(root.c_str(), W_OK) != 0 && ::access((root / "hostname").c_str(), W_OK) != 0,
        "the files root is read-only to the fuzzer");
  registry.stop_all();
}

// Reads the agent's replies until the stream ends: lines of JSON objects.
struct reply_reader {
  bool print = std::getenv("TETHER_FUZZ_PRINT") != nullptr;  // to see what an input gets
  std::string line;
  bool done = false;

  void check_line() {
    std::string_view text = line;
    if (!text.empty() && text.front() == '\xff') text.remove_prefix(1);  // guest-sync-delimited
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    check(!ec && v.is_object() && (v.as_object().contains("return") || v.as_object().contains("error")),
          "every reply is a JSON object with return or error");
    if (print) std::fprintf(stderr, "reply: %s\n", line.c_str());
    line.clear();
  }

  awaitable<void> run(io::byte_stream& s) {
    std::array<std::uint8_t, 4096> buf;
    try {
      for (;;) {
        const auto n = co_await s.read_some(buf);
        for (std::size_t i = 0; i < n; ++i) {
          if (buf[i] == '\n') check_line();
          else line.push_back(static_cast<char>(buf[i]));
        }
      }
    } catch (const boost::system::system_error&) {
      // eof or the stream closed
    }
    check(line.empty(), "replies end with a newline");
    done = true;
  }
};

// File paths must be absolute and the root's name is random: inputs name
// it "/fuzz-root".
std::string with_root(std::string_view body) {
  static constexpr std::string_view token = "/fuzz-root";
  std::string out;
  for (std::size_t at; (at = body.find(token)) != std::string_view::npos; body.remove_prefix(at + token.size()))
    out.append(body.substr(0, at)).append((work_dir / "files").string());
  out.append(body);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  work_dir = fuzz::prepare_agent_process("tether-fuzz-qga-");
  const auto root = work_dir / "files";
  fs::create_directories(root / "sub");
  fs::create_directory(work_dir / "hooks");
  std::ofstream(root / "hostname") << "fuzz-guest\n";
  std::ofstream(root / "sub" / "data") << std::string(5000, 'x');
  // Read-only to the fuzzer: no write bit, owned by the user it runs as
  // (65534 once a root fuzzer dropped its privileges, below), which may
  // make them writable again only to remove them at exit.
  for (const auto& p : {root / "hostname", root / "sub" / "data"}) ::chmod(p.c_str(), 0444);
  for (const auto& p : {root / "sub", root}) ::chmod(p.c_str(), 0555);
  if (::geteuid() == 0)
    for (const auto& p : {work_dir, work_dir / "hooks", root, root / "sub", root / "hostname", root / "sub" / "data"})
      check(::chown(p.c_str(), fuzz::nobody, fuzz::nobody) == 0, "chown");
  std::atexit([] {
    std::error_code ec;
    for (const auto& p : {work_dir / "files", work_dir / "files" / "sub"}) fs::permissions(p, fs::perms::owner_all, ec);
    fs::remove_all(work_dir, ec);
  });

  options.config.services_allow = std::set<std::string>{"ping", "info", "stats", "files", "power"};
  options.config.exec_enabled = false;
  options.config.files_roots = {root.string()};
  options.power.simulate = true;
  options.power.method = agent::power::method_choice::kernel;
  options.power.host_halt_dir = (work_dir / "hooks").string();
  options.qga.allow = harmless;
  options.qga.fsfreeze_hook.clear();
  fuzz::drop_privileges();
  check_policy();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  {
    fuzz::agent_rig rig(ctx, options, 16 * 1024);
    auto& registry = rig.registry;
    qga::freezer freezer(ctx.get_executor(), "", options.qga.freeze_limit, options.qga.freeze_host_gone_limit);
    qga::qga_agent qga_agent(ctx.get_executor(), options.qga, options.config, registry, freezer, "fuzz");
    bool served = false;
    asio::co_spawn(ctx, qga::serve_connection(qga_agent, rig.agent_end()), [&](std::exception_ptr e) {
      // Only the stream may fail (the host went away mid-reply).
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const boost::system::system_error&) {
        } catch (...) {
          check(false, "the QGA server fails only with the stream");
        }
      }
      served = true;
    });
    reply_reader out;
    asio::co_spawn(ctx, out.run(rig.host()), asio::detached);
    fuzz::writer in(ctx.get_executor());
    asio::co_spawn(ctx, in.run(rig.host()), asio::detached);
    fuzz::settle(ctx);

    for (auto& w : fuzz::joined_writes(data, size)) {
      in.send(with_root(w));
      fuzz::settle(ctx);
    }
    fuzz::settle(ctx);
    in.close();
    fuzz::settle(ctx);
    rig.host().close();  // the host goes away: the connection ends
    fuzz::finish(ctx, [&] { return served && out.done && in.done; }, "the QGA connection ends when the host is gone");
    qga_agent.stop();
    registry.stop_all();
    fuzz::finish(ctx, [&] { return ctx.stopped(); }, "no work is left after the agent stopped");
  }
  return 0;
}
