// The agent session (agent/src/session/) with the agent's real services
// (make_registry) against a hostile host: the input is what the host
// writes, in steps (records.hpp, peer.hpp): a Hello, a frame (any
// tether.v1.Frame: requests of every service, data, credits, cancels), raw
// bytes, or a pause that lets timers fire (3 ms per input in all). The
// agent must answer with valid frames only, and its session must end once
// the host is gone.
//
// Safe to run anywhere: files are confined to a temporary root, exec may
// run commands only as a user that does not exist, devices see no udevd,
// power is simulated (kernel method: no D-Bus), audit lines are checked and
// dropped, and a root fuzzer drops to uid/gid 65534 first, so even a bug
// cannot power off or touch the machine.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>

#include "agent_rig.hpp"
#include "audit/audit_log.hpp"
#include "log.hpp"
#include "peer.hpp"
#include "privileges.hpp"

namespace {

using namespace tether;
using fuzz::check;
namespace fs = std::filesystem;

fs::path work_dir;
agent::agent_options options;

asio::awaitable<void> serve(io::byte_stream& stream, const agent::service_registry& registry,
                            agent::audit::audit_log& audit, bool& done) {
  agent::session s(co_await asio::this_coro::executor, stream, registry, options.limits, "fuzz", &audit);
  co_await s.run();
  done = true;
}

void empty_dir(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  work_dir = fuzz::prepare_agent_process("tether-fuzz-session-");
  fs::create_directory(work_dir / "files");
  fs::create_directory(work_dir / "hooks");
  if (::geteuid() == 0) {
    check(::chown(work_dir.c_str(), fuzz::nobody, fuzz::nobody) == 0 &&
              ::chown((work_dir / "files").c_str(), fuzz::nobody, fuzz::nobody) == 0,
          "chown");
  }
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(work_dir, ec);
  });

  options.config.files_roots = {(work_dir / "files").string()};
  options.config.exec_users = {"tether-fuzz-no-such-user"};
  // forward on, so its requests are decoded and checked; no socket exists there.
  options.config.forward_sockets = {(work_dir / "forward" / "*.sock").string()};
  options.devices.udev_control_path = (work_dir / "no-udevd").string();
  options.power.simulate = true;
  options.power.method = agent::power::method_choice::kernel;
  options.power.host_halt_dir = (work_dir / "hooks").string();
  // Small limits, so inputs reach them.
  options.limits.max_frame_size = 64 * 1024;
  options.limits.max_concurrent_calls = 8;
  options.limits.initial_stream_window = 16 * 1024;
  options.limits.initial_event_window = 4;
  options.limits.max_queued_control_bytes = 64 * 1024;
  fuzz::drop_privileges();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  {
    bool session_done = false;
    fuzz::agent_rig rig(ctx, options, 64 * 1024);
    auto& registry = rig.registry;
    // Every call's audit line is formatted (the host chose what it quotes),
    // then dropped: no rate limit, no journal.
    agent::audit::audit_log audit([](const agent::audit::line& l) { check(!l.message.empty(), "audit line"); },
                                  &agent::audit::audit_log::clock::now, {.burst = 1e12, .per_second = 1e12});
    asio::co_spawn(ctx, serve(rig.agent_end(), registry, audit, session_done), asio::detached);
    fuzz::reader out(wire::default_max_frame_size);
    asio::co_spawn(ctx, out.run(rig.host()), asio::detached);
    fuzz::writer in(ctx.get_executor());
    asio::co_spawn(ctx, in.run(rig.host()), asio::detached);
    fuzz::settle(ctx);

    // Pauses are real time (the agent's timers use the steady clock), the
    // costliest steps by far: an input gets 3 ms of them in all, enough for
    // short deadlines (timeout_ms) to expire; later pauses only settle.
    auto pause_left = std::chrono::milliseconds(3);
    for (const auto& r : fuzz::split_records(data, size)) {
      if (fuzz::step_of(r) == fuzz::step::other) {
        const auto pause = std::min(pause_left, std::chrono::milliseconds(r.body.empty() ? 1 : r.body[0] % 4));
        pause_left -= pause;
        ctx.restart();
        ctx.run_for(pause);
      } else {
        in.send(fuzz::bytes_of(r, v1::Hello::ROLE_HOST, "fuzz-nonce"));
      }
      fuzz::settle(ctx);
    }
    in.close();
    rig.host().close();  // the host goes away: every call ends, then the session
    fuzz::finish(ctx, [&] { return session_done && out.done && in.done; }, "the session ends when the host is gone");
    registry.stop_all();
    fuzz::finish(ctx, [&] { return ctx.stopped(); }, "no work is left after the agent stopped");
  }
  empty_dir(work_dir / "files");
  return 0;
}
