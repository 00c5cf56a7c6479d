#include "tether/exec.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "tether/v1/exec.pb.h"
#include "typed_call.hpp"

namespace tether::exec {

using boost::asio::awaitable;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

v1::ExecRequest to_request(const options& o) {
  if (o.argv.empty() || o.argv.front().empty())
    throw error(errc::invalid_argument, "exec: argv must name a command");
  if (o.timeout.count() < 0 || o.timeout.count() > UINT32_MAX ||
      o.kill_grace.count() < 0 || o.kill_grace.count() > UINT32_MAX)
    throw error(errc::invalid_argument, "exec: timeout and kill_grace must be 0..2^32-1 ms");
  v1::ExecRequest r;
  for (const auto& a : o.argv) r.add_argv(a);
  for (const auto& e : o.env) r.add_env(e);
  r.set_clear_env(o.clear_env);
  r.set_cwd(o.cwd);
  r.set_user(o.user);
  r.set_group(o.group);
  r.set_tty(o.tty);
  r.set_tty_rows(o.tty_rows);
  r.set_tty_cols(o.tty_cols);
  r.set_stdin(o.stdin);
  r.set_merge_stderr(o.merge_stderr);
  r.set_timeout_ms(static_cast<std::uint32_t>(o.timeout.count()));
  r.set_kill_grace_ms(static_cast<std::uint32_t>(o.kill_grace.count()));
  r.set_keep_running(o.keep_running);
  return r;
}

exit_result to_result(const v1::ExecReply& r) {
  exit_result out;
  out.pid = r.pid();
  if (r.end_case() == v1::ExecReply::kSignal) out.signal = r.signal();
  else out.exit_code = r.exit_code();
  out.core_dumped = r.core_dumped();
  out.timed_out = r.timed_out();
  out.run_time = microseconds(r.run_time_us());
  out.user_cpu = microseconds(r.user_cpu_us());
  out.system_cpu = microseconds(r.system_cpu_us());
  out.max_rss_kib = r.max_rss_kib();
  return out;
}

}  // namespace

process::process(client& guest, std::unique_ptr<call_stream> call)
    : guest_(&guest), call_(std::move(call)) {}
process::process(process&&) noexcept = default;
process& process::operator=(process&&) noexcept = default;
process::~process() = default;  // call_stream cancels an unfinished call

awaitable<process> process::start(client& guest, options opts, call_options call) {
  const auto req = to_request(opts);
  co_await guest.connect(call);
  // The command's own timeout is enforced by the agent (so the reply still
  // comes, with timed_out); the call itself has no deadline.
  auto stream = co_await guest.start("exec.Run", req.SerializeAsString(), {milliseconds::max()});
  co_return process(guest, std::move(stream));
}

std::uint64_t process::call_id() const noexcept { return call_->id(); }

awaitable<std::optional<output_chunk>> process::read() {
  for (;;) {
    auto item = co_await call_->next();
    if (!item) co_return std::nullopt;
    if (item->what != call_stream::chunk::kind::data) continue;
    if (item->stream != 1 && item->stream != 2) continue;
    output_chunk c;
    c.which = static_cast<stream_id>(item->stream);
    c.bytes = std::move(item->bytes);
    co_return c;
  }
}

awaitable<void> process::write(std::string_view data) { co_await call_->write(0, data); }

void process::close_stdin() { call_->close_write(0); }

awaitable<void> process::signal(int sig, signal_options opts, call_options call) {
  v1::ExecSignalRequest req;
  req.set_call_id(call_->id());
  req.set_signal(sig);
  req.set_group(opts.group);
  co_await detail::call<v1::ExecEmpty>(*guest_, "exec.Signal", req, call);
}

awaitable<void> process::resize(std::uint16_t rows, std::uint16_t cols, call_options call) {
  v1::ExecResizeRequest req;
  req.set_call_id(call_->id());
  req.set_rows(rows);
  req.set_cols(cols);
  co_await detail::call<v1::ExecEmpty>(*guest_, "exec.Resize", req, call);
}

awaitable<exit_result> process::wait() {
  const std::string bytes = co_await call_->finish();
  v1::ExecReply reply;
  if (!reply.ParseFromString(bytes)) throw error(errc::protocol_error, "exec.Run: the agent's reply is not an ExecReply");
  co_return to_result(reply);
}

void process::cancel() { call_->cancel(); }

namespace {

awaitable<void> feed(process& p, const std::string& data) {
  // Large inputs go in pieces, so credit is asked for gradually.
  constexpr std::size_t piece = 256 * 1024;
  try {
    for (std::size_t off = 0; off < data.size(); off += piece)
      co_await p.write(std::string_view(data).substr(off, piece));
  } catch (const error&) {
    // The call ended before taking all the input (the command exited
    // without reading it, as `true` does, or failed): like a shell's pipe,
    // not an error of its own; collect() and wait() report the outcome.
    co_return;
  }
  p.close_stdin();
}

awaitable<void> collect(process& p, captured& c, std::size_t limit) {
  while (auto chunk = co_await p.read()) {
    auto& dst = chunk->which == stream_id::err ? c.err : c.out;
    auto& truncated = chunk->which == stream_id::err ? c.err_truncated : c.out_truncated;
    const std::size_t room = dst.size() < limit ? limit - dst.size() : 0;
    if (chunk->bytes.size() > room) truncated = true;
    dst.append(chunk->bytes, 0, std::min(room, chunk->bytes.size()));
  }
}

}  // namespace

awaitable<captured> run(client& guest, options opts, run_options run, call_options call) {
  if (run.input) opts.stdin = true;
  auto p = co_await process::start(guest, std::move(opts), call);
  captured c;
  if (run.input) {
    co_await (feed(p, *run.input) && collect(p, c, run.output_limit));
  } else {
    co_await collect(p, c, run.output_limit);
  }
  c.result = co_await p.wait();
  co_return c;
}

}  // namespace tether::exec
