#include "services/exec_service.hpp"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "exec/launch.hpp"
#include "log.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/exec.pb.h"

namespace tether::agent {

using namespace std::chrono;
using stream_descriptor = asio::posix::stream_descriptor;
using namespace asio::experimental::awaitable_operators;  // run_process || feed_stdin

struct exec_service::running {
  explicit running(const asio::any_io_executor& ex) : in(ex), out(ex), err(ex), pump_event(ex) {}

  std::shared_ptr<exec::child_process> proc;
  stream_descriptor in, out, err;  // with tty: in and out are the terminal's master
  bool tty = false;
  // Set once the command has exited and its output did not reach EOF in
  // time (a process that left the group holds the pipe): pumps then read
  // only what is buffered and end.
  bool draining = false;
  int pumps_running = 0;
  async_event pump_event;
  bool detached = false;
};

namespace {

// After the command exits, how long its pipes may stay open (held by a
// process that escaped the group) before the agent stops waiting for EOF.
constexpr auto output_linger = 1s;
// Output buffers start small and grow while reads fill them: a command
// that prints little costs no large allocation (page faults are dear in an
// emulated guest), a chatty one soon reads the whole pipe at once.
constexpr std::size_t first_read_chunk = 4 * 1024;
constexpr std::size_t max_read_chunk = 256 * 1024;

bool is_cancelled(const asio::cancellation_state& cs) {
  return cs.cancelled() != asio::cancellation_type::none;
}

// Moves one output pipe (or the terminal) to an outbound stream. Waiting for
// the host's credit here is the back-pressure: the pipe fills, the command
// blocks in write(2), nothing piles up in the agent.
awaitable<void> pump(call_context& call, exec_service::running& r, stream_descriptor& d,
                     std::uint32_t stream) {
  std::size_t size = first_read_chunk;
  auto buf = std::make_unique_for_overwrite<char[]>(size);
  for (;;) {
    std::size_t n = 0;
    if (r.draining) {
      const ssize_t k = ::read(d.native_handle(), buf.get(), size);
      if (k <= 0) break;
      n = static_cast<std::size_t>(k);
    } else {
      boost::system::error_code ec;
      n = co_await d.async_read_some(asio::buffer(buf.get(), size), asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted) {
        if (is_cancelled(co_await asio::this_coro::cancellation_state))
          throw boost::system::system_error(ec);
        continue;  // the supervisor switched to draining
      }
      // A terminal's master reads EIO once every slave descriptor is closed.
      if (ec == asio::error::eof || (r.tty && ec.value() == EIO)) break;
      if (ec) throw boost::system::system_error(ec, "reading the command's output");
    }
    co_await call.write(stream, std::string_view(buf.get(), n));
    if (n == size && size < max_read_chunk) {
      size = std::min(size * 8, max_read_chunk);
      buf = std::make_unique_for_overwrite<char[]>(size);
    }
  }
  call.close_write(stream);
  --r.pumps_running;
  r.pump_event.notify_all();
}

awaitable<void> pump_if_open(call_context& call, exec_service::running& r, stream_descriptor& d,
                             std::uint32_t stream) {
  if (d.is_open()) co_await pump(call, r, d, stream);
}

// Waits for the exit (enforcing the timeout), cleans up the group, then
// gives the pipes a moment to reach EOF.
awaitable<void> supervise(exec_service::running& r, const v1::ExecRequest& req, bool& timed_out) {
  auto ex = co_await asio::this_coro::executor;
  const milliseconds grace(req.kill_grace_ms() ? req.kill_grace_ms() : 2000);
  if (req.timeout_ms() > 0) {
    const bool exited = co_await with_timeout(r.proc->wait_exit(), milliseconds(req.timeout_ms()));
    if (!exited) {
      timed_out = true;
      r.proc->terminate(grace);
      co_await r.proc->wait_exit();
    }
  } else {
    co_await r.proc->wait_exit();
  }
  // Nothing the command started outlives it by accident.
  r.proc->signal(SIGKILL, true);

  const auto linger_end = deadline_clock::now() + output_linger;
  while (r.pumps_running > 0) {
    const bool woke = co_await wait_until(r.pump_event, linger_end);
    if (!woke) break;
  }
  if (r.pumps_running > 0) {
    r.draining = true;
    boost::system::error_code ignored;
    r.out.cancel(ignored);
    r.err.cancel(ignored);
  }
}

// Runs the pumps and the supervisor; never throws, so the || in run() only
// ends when this is done (errors come back through `failure`).
awaitable<void> run_process(call_context& call, exec_service::running& r, const v1::ExecRequest& req,
                            bool& timed_out, std::exception_ptr& failure) {
  try {
    co_await (pump_if_open(call, r, r.out, 1) && pump_if_open(call, r, r.err, 2) &&
              supervise(r, req, timed_out));
    co_return;
  } catch (...) {
    failure = std::current_exception();
  }
  // When several branches fail (cancellation reaches them all), the
  // operators nest multiple_exceptions; the innermost first one says why.
  for (;;) {
    try {
      std::rethrow_exception(failure);
    } catch (const asio::multiple_exceptions& e) {
      failure = e.first_exception();
      continue;
    } catch (...) {
    }
    break;
  }
}

// Host stream 0 to the command's stdin. Never completes on its own: it ends
// when run_process() does.
awaitable<void> feed_stdin(call_context& call, exec_service::running& r) {
  for (;;) {
    auto chunk = co_await call.read(0);
    if (!chunk) {
      boost::system::error_code ec;
      if (r.tty && r.in.is_open()) {
        // A terminal has no "close": send its EOF character, as a user would.
        co_await asio::async_write(r.in, asio::buffer("\x04", 1), asio::redirect_error(use_awaitable, ec));
      } else {
        r.in.close(ec);
      }
      break;
    }
    if (!r.in.is_open()) continue;  // the command closed its stdin: drop the rest
    boost::system::error_code ec;
    co_await asio::async_write(r.in, asio::buffer(*chunk), asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    if (ec) r.in.close(ec);  // EPIPE: the command stopped reading
  }
  async_event never(co_await asio::this_coro::executor);
  for (;;) co_await never.wait();
}

// Reads and discards a detached command's output so it never blocks on a
// full pipe, until the command has exited.
awaitable<void> discard_output(std::shared_ptr<exec_service::running> r) {
  std::string buf(64 * 1024, '\0');
  for (auto* d : {&r->out, &r->err}) {
    while (d->is_open()) {
      boost::system::error_code ec;
      co_await d->async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (ec) d->close(ec);
    }
  }
  co_await r->proc->wait_exit();
}

[[noreturn]] void not_running(std::uint64_t call_id) {
  throw call_error(v1::ERROR_CODE_NOT_FOUND, "no running exec.Run with call id " +
                                                 std::to_string(call_id) + " in this session");
}

}  // namespace

exec_service::exec_service(exec::exec_policy policy) : policy_(std::move(policy)) {}
exec_service::~exec_service() = default;

void exec_service::add_methods(service_registry& registry) {
  registry.add_method("exec.Run", [this](call_context& c) { return run(c); },
                      summary_of<v1::ExecRequest>([](const v1::ExecRequest& r) {
                        std::vector<std::string> words(r.argv().begin(), r.argv().end());
                        if (!r.user().empty()) words.push_back("[user=" + r.user() + "]");
                        return words;
                      }));
  registry.add_method("exec.Signal", [this](call_context& c) { return signal(c); },
                      summary_of<v1::ExecSignalRequest>([](const v1::ExecSignalRequest& r) {
                        return std::vector<std::string>{"call", std::to_string(r.call_id()), "signal",
                                                        std::to_string(r.signal())};
                      }));
  registry.add_method("exec.Resize", [this](call_context& c) { return resize(c); },
                      summary_of<v1::ExecResizeRequest>([](const v1::ExecResizeRequest& r) {
                        return std::vector<std::string>{"call", std::to_string(r.call_id())};
                      }));
}

void exec_service::stop() {
  for (const auto& r : alive_) {
    if (!r->detached) continue;
    boost::system::error_code ignored;
    r->out.close(ignored);
    r->err.close(ignored);
    r->proc->abandon();
  }
}

awaitable<std::string> exec_service::run(call_context& call) {
  const auto req = call.request<v1::ExecRequest>();
  auto ex = co_await asio::this_coro::executor;
  auto l = exec::launch(req, policy_, ex);
  auto r = std::make_shared<running>(ex);
  r->proc = std::move(l.proc);
  r->tty = l.tty;
  if (l.in) r->in.assign(l.in.release());
  if (l.out) r->out.assign(l.out.release());
  if (l.err) r->err.assign(l.err.release());
  r->pumps_running = (r->out.is_open() ? 1 : 0) + (r->err.is_open() ? 1 : 0);
  alive_.insert(r);
  const auto key = std::make_pair(call.session().session_id, call.id());
  calls_[key] = r;
  struct forget {
    exec_service& s;
    std::pair<std::string, std::uint64_t> key;
    std::shared_ptr<running> r;
    ~forget() {
      s.calls_.erase(key);
      if (!r->detached) s.alive_.erase(r);
    }
  } forget_on_exit{*this, key, r};

  try {
    bool timed_out = false;
    std::exception_ptr failed;
    // Without stdin the command's run is all there is: no second branch to
    // cancel (cancelling one costs an exception, dear in an emulated guest).
    if (req.stdin() || req.tty())
      co_await (run_process(call, *r, req, timed_out, failed) || feed_stdin(call, *r));
    else
      co_await run_process(call, *r, req, timed_out, failed);
    if (failed) std::rethrow_exception(failed);

    const auto& st = r->proc->status();
    v1::ExecReply reply;
    reply.set_pid(r->proc->pid());
    if (st.signal) reply.set_signal(st.signal);
    else reply.set_exit_code(st.code);
    reply.set_core_dumped(st.core_dumped);
    reply.set_timed_out(timed_out);
    reply.set_run_time_us(duration_cast<microseconds>(st.run_time).count());
    const auto us = [](const timeval& tv) {
      return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(tv.tv_usec);
    };
    reply.set_user_cpu_us(us(st.usage.ru_utime));
    reply.set_system_cpu_us(us(st.usage.ru_stime));
    reply.set_max_rss_kib(static_cast<std::uint64_t>(st.usage.ru_maxrss));
    co_return reply.SerializeAsString();
  } catch (...) {
    // Cancelled, deadline, session gone, or failed: the command must not be
    // left behind, unless the host asked for it to keep running.
    if (!r->proc->exited() || r->proc->group_alive()) {
      if (req.keep_running()) {
        r->detached = true;
        asio::co_spawn(ex, discard_output(r), [this, r](std::exception_ptr) { alive_.erase(r); });
        log::info("exec: {} (pid {}) keeps running without its call", req.argv(0), r->proc->pid());
      } else {
        r->proc->terminate(milliseconds(req.kill_grace_ms() ? req.kill_grace_ms() : 2000));
      }
    }
    throw;
  }
}

std::shared_ptr<exec_service::running> exec_service::find(const call_context& call,
                                                          std::uint64_t call_id) const {
  auto it = calls_.find(std::make_pair(call.session().session_id, call_id));
  if (it == calls_.end()) return nullptr;
  return it->second.lock();
}

awaitable<std::string> exec_service::signal(call_context& call) {
  const auto req = call.request<v1::ExecSignalRequest>();
  if (req.signal() < 1 || req.signal() >= NSIG)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "signal " + std::to_string(req.signal()) +
                                                          " is out of range (1.." + std::to_string(NSIG - 1) + ")");
  auto r = find(call, req.call_id());
  if (!r) not_running(req.call_id());
  if (!r->proc->signal(req.signal(), req.group()))
    throw call_error(v1::ERROR_CODE_NOT_FOUND, "the process of call " + std::to_string(req.call_id()) +
                                                   " has already exited");
  co_return v1::ExecEmpty().SerializeAsString();
}

awaitable<std::string> exec_service::resize(call_context& call) {
  const auto req = call.request<v1::ExecResizeRequest>();
  if (req.rows() == 0 || req.cols() == 0 || req.rows() > 0xFFFF || req.cols() > 0xFFFF)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "terminal size must be 1..65535 rows and columns");
  auto r = find(call, req.call_id());
  if (!r) not_running(req.call_id());
  if (!r->tty || !r->out.is_open())
    throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION,
                     "call " + std::to_string(req.call_id()) + " has no terminal (start it with tty)");
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(req.rows());
  ws.ws_col = static_cast<unsigned short>(req.cols());
  if (::ioctl(r->out.native_handle(), TIOCSWINSZ, &ws) < 0)
    throw std::system_error(errno, std::generic_category(), "TIOCSWINSZ");
  co_return v1::ExecEmpty().SerializeAsString();
}

}  // namespace tether::agent
