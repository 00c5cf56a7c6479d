#include "qga/exec_table.hpp"

#include "exec/launch.hpp"
#include "qga/base64.hpp"
#include "tether/common/race.hpp"

namespace tether::agent::qga {

using stream_descriptor = asio::posix::stream_descriptor;

namespace {

// After the command exits, how long its output may take to reach EOF (as
// exec.Run's linger): a process it left behind may hold the pipe forever.
constexpr auto output_linger = std::chrono::seconds(1);

struct captured {
  std::string data;
  bool truncated = false;
};

}  // namespace

struct exec_table::entry {
  explicit entry(const asio::any_io_executor& ex) : in(ex), out(ex), err(ex), drained(ex) {}
  std::shared_ptr<exec::child_process> proc;
  stream_descriptor in, out, err;
  captured out_data, err_data;
  int readers = 0;
  async_event drained;
  bool done = false;  // exited, and the output was read (or lingered)
};

namespace {

// `into` null: read and drop (output qemu-ga would send to /dev/null).
awaitable<void> read_all(std::shared_ptr<exec_table::entry> e, stream_descriptor& d, captured* into) {
  std::string buf(64 * 1024, '\0');
  for (;;) {
    boost::system::error_code ec;
    const auto n = co_await d.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // EOF, or closed after the linger
    if (!into) continue;
    const auto room = exec_table::max_output - std::min(exec_table::max_output, into->data.size());
    into->data.append(buf.data(), std::min<std::size_t>(n, room));
    if (n > room) into->truncated = true;  // read on, so the command never blocks
  }
  if (--e->readers == 0) e->drained.notify_all();
}

awaitable<void> feed(std::shared_ptr<exec_table::entry> e, std::string input) {
  boost::system::error_code ec;
  co_await asio::async_write(e->in, asio::buffer(input), asio::redirect_error(use_awaitable, ec));
  e->in.close(ec);  // EPIPE when the command did not read it all: fine
}

awaitable<void> supervise(std::shared_ptr<exec_table::entry> e) {
  co_await e->proc->wait_exit();
  const auto until = deadline_clock::now() + output_linger;
  while (e->readers > 0)
    if (!co_await wait_until(e->drained, until)) break;
  boost::system::error_code ignored;
  e->out.close(ignored);
  e->err.close(ignored);
  e->in.close(ignored);
  e->done = true;
}

}  // namespace

exec_table::~exec_table() {
  for (auto& [pid, e] : entries_) {
    boost::system::error_code ignored;
    e->out.close(ignored);
    e->err.close(ignored);
    e->in.close(ignored);
  }
}

std::int64_t exec_table::start(const v1::ExecRequest& req, const exec::exec_policy& policy,
                               std::optional<std::string> input, exec_capture capture) {
  if (entries_.size() >= max_entries)
    throw qga_error("too many commands whose end was not collected with guest-exec-status (" +
                    std::to_string(max_entries) + ")");
  auto l = exec::launch(req, policy, ex_);
  auto e = std::make_shared<entry>(ex_);
  e->proc = std::move(l.proc);
  // The request asked for pipes; those qemu-ga would not capture are read
  // and dropped rather than left to fill.
  if (l.in) e->in.assign(l.in.release());
  if (l.out) e->out.assign(l.out.release());
  if (l.err) e->err.assign(l.err.release());
  const auto pid = static_cast<std::int64_t>(e->proc->pid());
  auto pump = [&](stream_descriptor& d, captured* into) {
    if (!d.is_open()) return;
    ++e->readers;
    asio::co_spawn(ex_, read_all(e, d, into), asio::detached);
  };
  pump(e->out, capture.out ? &e->out_data : nullptr);
  pump(e->err, capture.err ? &e->err_data : nullptr);
  if (e->in.is_open()) asio::co_spawn(ex_, feed(e, input.value_or("")), asio::detached);
  asio::co_spawn(ex_, supervise(e), asio::detached);
  entries_[pid] = e;
  return pid;
}

json::value exec_table::status(std::int64_t pid) {
  auto it = entries_.find(pid);
  if (it == entries_.end()) throw qga_error("Invalid parameter 'pid'");
  auto e = it->second;
  json::object o;
  o["exited"] = e->done;
  if (!e->done) return o;
  const auto& st = e->proc->status();
  if (st.signal) o["signal"] = st.signal;
  else o["exitcode"] = st.code;
  if (!e->out_data.data.empty()) {
    o["out-data"] = encode_base64(e->out_data.data);
    o["out-truncated"] = e->out_data.truncated;
  }
  if (!e->err_data.data.empty()) {
    o["err-data"] = encode_base64(e->err_data.data);
    o["err-truncated"] = e->err_data.truncated;
  }
  entries_.erase(it);
  return o;
}

}  // namespace tether::agent::qga
