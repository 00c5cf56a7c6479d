#include "process.hpp"

#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pybind11/stl.h>

#include "calls.hpp"
#include "client.hpp"
#include "loop.hpp"
#include "tether/exec.hpp"

namespace tether::py {
namespace pyb = pybind11;
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

constexpr int sink_queue = -1, sink_discard = -2;
constexpr std::size_t queue_limit = 4u << 20;

struct process_state {
  process_state(loop& l, std::shared_ptr<client> c, exec::process p)
      : lp(&l), owner(std::move(c)), proc(std::move(p)), space(l.context()),
        arrived(l.context(), steady_clock::time_point::max()) {}

  loop* lp;  // the loop everything below lives on

  // Shared with Python threads, under `m`.
  std::mutex m;
  std::condition_variable cv;
  struct chunk {
    int which;
    std::string bytes;
  };
  std::deque<chunk> chunks;
  std::size_t queued = 0;
  bool output_ended = false;  // every chunk is in the queue
  bool done = false;          // result or error is set
  std::optional<exec::exit_result> result;
  std::exception_ptr error;
  int sink[3] = {0, sink_queue, sink_queue};  // per stream id (1 out, 2 err)

  // Loop thread only. The process refers to its client: kept alive here.
  std::shared_ptr<client> owner;
  exec::process proc;
  asio::steady_timer space;  // wakes the pump when the queue drained
  // Wakes async readers and waiters (cancel(); never re-armed, so that one
  // waiter cannot cancel another's wait) when output or the end arrived.
  asio::steady_timer arrived;
};

// Takes up to n bytes of stream `which` from the queue (`m` held).
std::string take(process_state& s, int which, std::size_t n) {
  std::string out;
  for (auto it = s.chunks.begin(); it != s.chunks.end(); ++it) {
    if (it->which != which) continue;
    if (it->bytes.size() <= n) {
      out = std::move(it->bytes);
      s.chunks.erase(it);
    } else {
      out = it->bytes.substr(0, n);
      it->bytes.erase(0, n);
    }
    s.queued -= out.size();
    break;
  }
  return out;
}

bool has_chunk(const process_state& s, int which) {
  for (auto& c : s.chunks)
    if (c.which == which) return true;
  return false;
}

// On the loop thread: waits until ready() (checked under `m`); the caller's
// cancellation (tether.aio) ends the wait with operation_aborted.
template <class Ready>
asio::awaitable<void> until(process_state& s, Ready ready) {
  for (;;) {
    {
      std::lock_guard lock(s.m);
      if (ready()) co_return;
    }
    co_await s.arrived.async_wait(asio::as_tuple(asio::use_awaitable));
    asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
  }
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the host's descriptor is gone: the output has nowhere to go
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

asio::awaitable<void> pump(std::shared_ptr<process_state> s) {
  try {
    while (auto c = co_await s->proc.read()) {
      const int which = static_cast<int>(c->which);
      const int sink = s->sink[which == 2 ? 2 : 1];
      if (sink == sink_discard) continue;
      if (sink >= 0) {
        write_all(sink, c->bytes);
        continue;
      }
      {
        std::lock_guard lock(s->m);
        s->queued += c->bytes.size();
        s->chunks.push_back({which, std::move(c->bytes)});
      }
      s->cv.notify_all();
      s->arrived.cancel();
      for (;;) {
        {
          std::lock_guard lock(s->m);
          if (s->queued < queue_limit) break;
        }
        s->space.expires_at(steady_clock::time_point::max());
        co_await s->space.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    {
      std::lock_guard lock(s->m);
      s->output_ended = true;
    }
    s->cv.notify_all();
    s->arrived.cancel();
    auto r = co_await s->proc.wait();
    std::lock_guard lock(s->m);
    s->result = r;
    s->done = true;
  } catch (...) {
    std::lock_guard lock(s->m);
    s->error = std::current_exception();
    s->output_ended = s->done = true;
  }
  s->cv.notify_all();
  s->arrived.cancel();
}

// Waits until ready() (under the lock) in slices that check for signals;
// false when the deadline passed first. Called without the GIL and with
// `lock` held; the GIL is only taken with the lock released (a thread
// holding the GIL may be waiting for the lock). A pending KeyboardInterrupt
// propagates; the command keeps running (as with subprocess.Popen.wait)
// until the Process is closed.
template <class Ready>
bool wait_for(process_state& s, std::unique_lock<std::mutex>& lock, Ready ready, std::optional<double> timeout) {
  using namespace std::chrono_literals;
  const auto deadline = timeout ? std::optional(steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(
                                                                          std::chrono::duration<double>(*timeout)))
                                 : std::nullopt;
  while (!ready()) {
    if (deadline && steady_clock::now() >= *deadline) return false;
    s.cv.wait_for(lock, 50ms);
    if (ready()) break;
    lock.unlock();
    {
      pyb::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
    }
    lock.lock();
  }
  return true;
}

class py_process {
 public:
  explicit py_process(std::shared_ptr<process_state> s) : s_(std::move(s)) {}
  ~py_process() { close(); }
  py_process(const py_process&) = delete;
  py_process& operator=(const py_process&) = delete;

  // Cancels the command if it still runs (the agent kills its group).
  void close() {
    if (!s_) return;
    auto s = std::move(s_);
    if (s->lp->forked_away()) {  // the parent's: leave it alone
      new std::shared_ptr<process_state>(std::move(s));
      return;
    }
    asio::post(s->lp->context(), [s] {
      s->proc.cancel();
      s->space.cancel();
    });
  }

  // Up to n bytes of stream `which` (1 stdout, 2 stderr); b"" at its end.
  pyb::bytes read(int which, std::size_t n) {
    auto& s = state();
    std::string out;
    {
      pyb::gil_scoped_release nogil;
      std::unique_lock lock(s.m);
      wait_for(s, lock, [&] { return has_chunk(s, which) || s.output_ended; }, std::nullopt);
      out = take(s, which, n);
    }
    wake_pump();
    return pyb::bytes(out);
  }

  // Everything queued now, as (stdout bytes, stderr bytes, output ended);
  // waits (up to `timeout`) until there is something or the output ended.
  pyb::tuple take_all(std::optional<double> timeout) {
    auto& s = state();
    std::string out, err;
    bool ended;
    {
      pyb::gil_scoped_release nogil;
      std::unique_lock lock(s.m);
      wait_for(s, lock, [&] { return !s.chunks.empty() || s.output_ended; }, timeout);
      for (auto& c : s.chunks) (c.which == 2 ? err : out) += c.bytes;
      s.chunks.clear();
      s.queued = 0;
      ended = s.output_ended;
    }
    wake_pump();
    return pyb::make_tuple(pyb::bytes(out), pyb::bytes(err), ended);
  }

  // The result once the command ended, None if `timeout` passed first
  // (0: poll). Output not read stays queued (and may hold the command up).
  std::optional<exec::exit_result> wait(std::optional<double> timeout) {
    auto& s = state();
    std::exception_ptr failure;
    std::optional<exec::exit_result> result;
    {
      pyb::gil_scoped_release nogil;
      std::unique_lock lock(s.m);
      if (!wait_for(s, lock, [&] { return s.done; }, timeout)) return std::nullopt;
      failure = s.error;
      result = s.result;
    }
    if (failure) std::rethrow_exception(failure);
    return result;
  }

  void write(std::string data) {
    auto s = live();
    await_call<void>(*s->lp, [s, data = std::move(data)] { return s->proc.write(data); }, std::nullopt, [] {});
  }

  // The same, for tether.aio: the result goes to deliver (calls.hpp).
  pending read_async(pyb::object deliver, int which, std::size_t n) {
    auto s = live();
    return start_async<raw_bytes>(*s->lp, [s, which, n]() -> asio::awaitable<raw_bytes> {
      co_await until(*s, [&] { return has_chunk(*s, which) || s->output_ended; });
      raw_bytes r;
      {
        std::lock_guard lock(s->m);
        r.data = take(*s, which, n);
      }
      s->space.cancel();  // the pump may go on
      co_return r;
    }, std::move(deliver));
  }

  pending wait_async(pyb::object deliver) {
    auto s = live();
    return start_async<exec::exit_result>(*s->lp, [s]() -> asio::awaitable<exec::exit_result> {
      co_await until(*s, [&] { return s->done; });
      std::lock_guard lock(s->m);
      if (s->error) std::rethrow_exception(s->error);
      co_return *s->result;
    }, std::move(deliver));
  }

  pending write_async(pyb::object deliver, std::string data) {
    auto s = live();
    return start_async<void>(*s->lp, [s, data = std::move(data)] { return s->proc.write(data); }, std::move(deliver));
  }

  void close_stdin() {
    auto s = s_;
    if (s) asio::post(s->lp->context(), [s] { s->proc.close_stdin(); });
  }

  void signal(int sig, bool group) {
    auto s = live();
    await_call<void>(*s->lp, [s, sig, group] { return s->proc.signal(sig, {.group = group}); }, std::nullopt, [] {});
  }

 private:
  std::shared_ptr<process_state> live() {
    if (!s_) throw error(errc::closed, "the process is closed");
    return s_;
  }
  process_state& state() {
    if (!s_) throw error(errc::closed, "the process is closed");
    return *s_;
  }
  void wake_pump() {
    asio::post(s_->lp->context(), [s = s_] { s->space.cancel(); });
  }

  std::shared_ptr<process_state> s_;
};

asio::awaitable<std::shared_ptr<process_state>> start(loop& l, std::shared_ptr<client> c, exec::options opts, call_options call,
                                                      int out_sink, int err_sink) {
  auto p = co_await exec::process::start(*c, std::move(opts), call);
  auto s = make_on_loop<process_state>(l, l, std::move(c), std::move(p));
  s->sink[1] = out_sink;
  s->sink[2] = err_sink;
  asio::co_spawn(co_await asio::this_coro::executor, pump(s), asio::detached);
  co_return s;
}

// Client.start's result: the Process object.
pyb::object to_py(std::shared_ptr<process_state>&& s) {
  return pyb::cast(new py_process(std::move(s)), pyb::return_value_policy::take_ownership);
}

}  // namespace

void bind_process(pyb::module_& m) {
  // Client.start: sinks are -1 (queue for read/take_all), -2 (discard) or a
  // file descriptor of this process.
  auto cls = pyb::reinterpret_borrow<pyb::class_<py_client>>(m.attr("Client"));
  def_call(cls, "start", [](py_client& self, std::vector<std::string> argv, std::vector<std::string> env,
                            bool clear_env, std::string cwd, std::string user, bool stdin, bool merge_stderr, bool tty,
                            std::optional<double> timeout, std::optional<double> call_timeout, int out_sink,
                            int err_sink) {
    auto eo = exec_options(std::move(argv), std::move(env), clear_env, std::move(cwd), std::move(user), merge_stderr,
                           timeout);
    eo.stdin = stdin;
    eo.tty = tty;
    return spec<std::shared_ptr<process_state>>(
        std::nullopt, [l = &self.owner_loop(), c = self.handle(), eo = std::move(eo), o = py_client::opts(call_timeout),
                       out_sink, err_sink](client&) { return start(*l, c, eo, o, out_sink, err_sink); });
  }, pyb::arg("argv"), pyb::arg("env"), pyb::arg("clear_env"), pyb::arg("cwd"), pyb::arg("user"), pyb::arg("stdin"),
     pyb::arg("merge_stderr"), pyb::arg("tty"), pyb::arg("timeout"), pyb::arg("call_timeout"), pyb::arg("out_sink"),
     pyb::arg("err_sink"));

  pyb::class_<py_process>(m, "Process")
      .def("close", &py_process::close)
      .def("read", &py_process::read, pyb::arg("which"), pyb::arg("n"))
      .def("take_all", &py_process::take_all, pyb::arg("timeout") = pyb::none())
      .def("wait", &py_process::wait, pyb::arg("timeout") = pyb::none())
      .def("write", &py_process::write, pyb::arg("data"))
      .def("read_async", &py_process::read_async, pyb::arg("deliver"), pyb::arg("which"), pyb::arg("n"))
      .def("wait_async", &py_process::wait_async, pyb::arg("deliver"))
      .def("write_async", &py_process::write_async, pyb::arg("deliver"), pyb::arg("data"))
      .def("close_stdin", &py_process::close_stdin)
      .def("signal", &py_process::signal, pyb::arg("sig"), pyb::arg("group") = false);
}

}  // namespace tether::py
