#include "agent.hpp"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <list>

#include "audit/journal_sink.hpp"
#include "log.hpp"
#include "qga/fsfreeze.hpp"
#include "qga/qga_agent.hpp"
#include "qga/server.hpp"
#include "services/fsfreeze_service.hpp"
#include "services/devices_service.hpp"
#include "services/exec_service.hpp"
#include "services/files_service.hpp"
#include "services/forward_service.hpp"
#include "services/info_service.hpp"
#include "services/ping_service.hpp"
#include "services/power_service.hpp"
#include "services/stats_service.hpp"
#include "tether/common/unix_stream.hpp"
#include "transport/port_events.hpp"
#include "transport/virtio_port.hpp"

namespace tether::agent {

service_registry make_registry(const agent_options& options, const asio::any_io_executor& ex,
                               std::function<void()> stop_agent, qga::freezer* freezer) {
  const agent_config& cfg = options.config;
  service_registry r;
  auto add = [&](std::string_view name, auto make) {
    if (cfg.service_enabled(name)) {
      r.add(make());
    } else {
      r.add_disabled(name, cfg.disabled_reason(name));
    }
  };
  add("ping", [] { return std::make_shared<ping_service>(); });
  add("info", [] { return std::make_shared<info_service>(); });
  add("stats", [] { return std::make_shared<stats_service>(); });
  // Listens to udev from agent start, so its replay ring covers the agent's life.
  add("devices", [&] { return std::make_shared<devices_service>(ex, options.devices); });
  add("exec", [&] {
    return std::make_shared<exec_service>(exec::exec_policy{.allowed_users = cfg.exec_users});
  });
  add("files", [&] { return std::make_shared<files_service>(cfg.files_roots); });
  add("power", [&] { return std::make_shared<power_service>(options.power, std::move(stop_agent)); });
  add("forward", [&] {
    return std::make_shared<forward_service>(forward_policy{.patterns = cfg.forward_sockets, .source = cfg.source});
  });
  if (freezer) add("fsfreeze", [&] { return std::make_shared<fsfreeze_service>(*freezer); });
  return r;
}

namespace {

using stream_protocol = asio::local::stream_protocol;

log::level parse_level(const std::string& s) {
  if (s == "error") return log::level::error;
  if (s == "warning") return log::level::warning;
  if (s == "notice") return log::level::notice;
  if (s == "debug") return log::level::debug;
  return log::level::info;
}

// Everything the agent runs, so shutdown can close it all.
struct agent_state {
  const agent_options& options;
  asio::any_io_executor ex;
  // Set by run_agent: begins the shutdown a stop signal begins.
  std::function<void()> stop;
  // One freezer for the fsfreeze service and QGA's guest-fsfreeze-*.
  std::unique_ptr<qga::freezer> freezer = std::make_unique<qga::freezer>(
      ex, options.qga.fsfreeze_hook, options.qga.freeze_limit, options.qga.freeze_host_gone_limit);
  service_registry registry = make_registry(
      options, ex,
      [this] {
        asio::post(ex, [this] {
          if (stop) stop();
        });
      },
      freezer.get());
  // Shared by all sessions, so its rate limit holds for the whole agent.
  std::unique_ptr<audit::audit_log> audit =
      options.audit ? std::make_unique<audit::audit_log>(audit::journal_or_stderr()) : nullptr;
  // The QGA front end, when served: its state (file handles, started
  // commands, a freeze) outlives host connections, as in qemu-ga.
  std::unique_ptr<qga::qga_agent> qga =
      options.qga.enabled
          ? std::make_unique<qga::qga_agent>(ex, options.qga, options.config, registry, *freezer, agent_version())
          : nullptr;
  std::list<stream_protocol::acceptor> acceptors;
  std::list<io::byte_stream*> streams;  // live unix connections
  std::list<asio::cancellation_signal> stop_ports;  // one per port: a signal has one slot
  bool stopping = false;
  // Tasks still running; at shutdown the guard timer is cancelled when the
  // last one ends, so a clean exit takes no longer than the work needs.
  int tasks = 0;
  std::unique_ptr<asio::steady_timer> guard;

  void task_started() { ++tasks; }
  void task_ended() {
    if (--tasks == 0 && stopping && guard) guard->cancel();
  }
};

awaitable<void> serve_session(agent_state& st, io::byte_stream& stream) {
  auto ex = co_await asio::this_coro::executor;
  session s(ex, stream, st.registry, st.options.limits, agent_version(), st.audit.get());
  co_await s.run();
}

// One host connection's protocol: tether's session, or QGA.
using session_fn = std::function<awaitable<void>(io::byte_stream&)>;

awaitable<void> serve_unix_connection(agent_state& st, stream_protocol::socket sock,
                                      std::string path, session_fn serve) {
  io::unix_stream stream(std::move(sock), path);
  st.task_started();
  // Also when `serve` throws: shutdown waits for the count to reach zero.
  struct registered {
    agent_state& st;
    std::list<io::byte_stream*>::iterator it;
    ~registered() {
      st.streams.erase(it);
      st.task_ended();
    }
  } reg{st, st.streams.insert(st.streams.end(), &stream)};
  co_await serve(stream);
}

awaitable<void> accept_loop(agent_state& st, stream_protocol::acceptor& acc, std::string path,
                            session_fn serve) {
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    boost::system::error_code ec;
    auto sock = co_await acc.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || st.stopping) co_return;
    if (ec) {
      log::warning("accept on {} failed: {}", path, ec.message());
      continue;
    }
    asio::co_spawn(ex, serve_unix_connection(st, std::move(sock), path, serve),
                   [path](std::exception_ptr e) {
                     if (!e) return;
                     try { std::rethrow_exception(e); } catch (const std::exception& x) {
                       log::error("connection on {} failed: {}", path, x.what());
                     }
                   });
  }
}

}  // namespace

int run_agent(const agent_options& options) {
  log::set_max_level(parse_level(options.log_level));
  if (!options.config.source.empty()) log::info("configuration from {}", options.config.source);
  for (const auto& name : known_services)
    if (!options.config.service_enabled(name))
      log::notice("service {} disabled: {}", name, options.config.disabled_reason(name));
  if (!options.qga.qemu_ga_found.empty())
    log::notice("QGA not served on {}: qemu-ga is installed ({}) and serves it; remove qemu-guest-agent "
                "and tether-agent takes the port over (or set [qga] enabled = true)",
                qga::default_port, options.qga.qemu_ga_found);
  // Writes to a pipe whose reader is gone (a command that closed stdin)
  // must fail with EPIPE, not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context ctx(1);
  auto ex = ctx.get_executor();
  agent_state st{options, ex};
  port_events events(ex);  // before any O_ASYNC open

  std::size_t waiting_ready = options.ports.size();
  auto ready = [&] {
    if (waiting_ready > 0 && --waiting_ready > 0) return;
    ::sd_notify(0, "READY=1");
  };

  // Both protocols are served the same way: unix listeners (tests) and
  // virtio ports, one code path each, with the protocol as the session.
  const session_fn tether_session = [&st](io::byte_stream& s) { return serve_session(st, s); };
  const session_fn qga_session = [&st](io::byte_stream& s) { return qga::serve_connection(*st.qga, s); };
  auto listen = [&](const std::string& path, const session_fn& serve) {
    ::unlink(path.c_str());
    auto& acc = st.acceptors.emplace_back(ex);
    boost::system::error_code ec;
    acc.open(stream_protocol(), ec);
    if (!ec) acc.bind(stream_protocol::endpoint(path), ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      log::error("cannot listen on {}: {}", path, ec.message());
      return false;
    }
    log::notice("listening on unix socket {}", path);
    asio::co_spawn(ex, accept_loop(st, acc, path, serve), asio::detached);
    return true;
  };
  for (const auto& path : options.listen_unix)
    if (!listen(path, tether_session)) return 1;
  if (st.qga)
    for (const auto& path : options.qga.listen_unix)
      if (!listen(path, qga_session)) return 1;
  if (options.ports.empty()) ::sd_notify(0, "READY=1");

  std::list<virtio_port> ports;
  auto serve_port = [&](const std::string& name, const session_fn& serve, std::function<void()> on_open) {
    auto& port = ports.emplace_back(ex, name, events, std::move(on_open));
    st.task_started();
    asio::co_spawn(ex, port.serve(serve),
                   asio::bind_cancellation_slot(st.stop_ports.emplace_back().slot(), [name, &st](std::exception_ptr e) {
                     st.task_ended();
                     if (!e) return;
                     try { std::rethrow_exception(e); } catch (const boost::system::system_error& x) {
                       if (x.code() != asio::error::operation_aborted)
                         log::error("port {} stopped: {}", name, x.what());
                     } catch (const std::exception& x) {
                       log::error("port {} stopped: {}", name, x.what());
                     }
                   }));
  };
  for (const auto& name : options.ports) serve_port(name, tether_session, ready);
  // Readiness is tether's port; the QGA port may never appear.
  if (st.qga)
    for (const auto& name : options.qga.ports) serve_port(name, qga_session, {});

  asio::signal_set signals(ex, SIGINT, SIGTERM);
  st.stop = [&] {
    if (st.stopping) return;
    ::sd_notify(0, "STOPPING=1");
    st.stopping = true;
    boost::system::error_code ignored;
    signals.cancel(ignored);
    for (auto& a : st.acceptors) a.close(ignored);
    for (auto* s : st.streams) s->close();
    for (auto& s : st.stop_ports) s.emit(asio::cancellation_type::terminal);
    events.stop();
    if (st.qga) st.qga->stop();
    st.registry.stop_all();
    // Sessions end as their streams close; do not wait forever for them.
    if (st.tasks == 0) return;
    st.guard = std::make_unique<asio::steady_timer>(ctx, 5s);
    st.guard->async_wait([&ctx](const boost::system::error_code& e) {
      if (!e) {
        log::warning("work still running 5 s after the stop signal; exiting anyway");
        ctx.stop();
      }
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::notice("signal {}: shutting down", sig);
    st.stop();
  });

  ctx.run();
  for (const auto& path : options.listen_unix) ::unlink(path.c_str());
  if (st.qga)
    for (const auto& path : options.qga.listen_unix) ::unlink(path.c_str());
  if (st.tasks > 0) {
    // The stop guard gave up on sessions still suspended. Their frames refer
    // to `st`, which is destroyed before `ctx` would destroy them: leave now
    // instead of running those destructors on freed state.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace tether::agent
