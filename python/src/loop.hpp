// The module's one io_context thread, and how a Python thread waits for a
// call on it: without the GIL, in slices, checking for signals (Ctrl-C) and
// a deadline between slices; an interrupted or late call is cancelled
// through Asio's cancellation (libtether then cancels it in the agent) and
// awaited before the exception propagates, so nothing is left running.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <pybind11/pybind11.h>

#include "tether/error.hpp"

namespace tether::py {

class loop {
 public:
  // The process-wide loop, started on first use.
  static loop& get();
  boost::asio::io_context& context() noexcept { return ctx_; }
  // False once stop() ran (interpreter exit) or in a forked child: calls
  // then fail with errc::closed saying which.
  bool running() const noexcept { return running_; }
  void stop();
  // In the child of os.fork(): the loop thread did not come along, so the
  // objects of the parent's loop are left alone (their calls fail) and the
  // next get() starts a new loop for new Guests.
  static void after_fork_in_child();
  // At interpreter exit: stops the loop if one was started.
  static void stop_current();
  bool forked_away() const noexcept { return forked_away_; }
  // Throws errc::closed unless running().
  void check_running() const;

  // Runs fn() on the loop thread and returns its result (GIL released).
  template <class Fn>
  auto invoke(Fn fn) -> decltype(fn());

 private:
  loop();
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::atomic<bool> running_{true};
  bool forked_away_ = false;
};

// How a wait ended when it did not end with the call's own outcome.
enum class wait_end { completed, deadline };

namespace detail {

template <class T>
struct completion {
  std::shared_ptr<std::promise<T>> promise;
  void operator()(std::exception_ptr e, T v) const {
    if (e) promise->set_exception(e); else promise->set_value(std::move(v));
  }
};
template <>
struct completion<void> {
  std::shared_ptr<std::promise<void>> promise;
  void operator()(std::exception_ptr e) const {
    if (e) promise->set_exception(e); else promise->set_value();
  }
};

// Keeps `make` (and so every argument it captured) in the coroutine's frame
// while the awaitable it makes runs: library coroutines take their string
// arguments by reference.
template <class T, class Make>
boost::asio::awaitable<T> owned(Make make) {
  if constexpr (std::is_void_v<T>) {
    co_await make();
  } else {
    co_return co_await make();
  }
}

// Waits for `fut` in slices with the GIL released. Returns when it is ready;
// on a pending Python exception (signal handler raised) or the deadline,
// cancels the call and waits for its end first. A second signal during
// that wait abandons it (the coroutine owns everything it uses).
template <class T>
wait_end wait(loop& l, std::future<T>& fut, const std::shared_ptr<boost::asio::cancellation_signal>& sig,
              std::optional<std::chrono::steady_clock::time_point> deadline) {
  using namespace std::chrono_literals;
  bool cancelled = false, interrupted = false, late = false;
  {
    pybind11::gil_scoped_release nogil;
    while (fut.wait_for(50ms) != std::future_status::ready) {
      if (deadline && std::chrono::steady_clock::now() >= *deadline) late = true;
      {
        pybind11::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
          if (interrupted) break;  // a second Ctrl-C: stop waiting for the cancel
          interrupted = true;
        }
      }
      if ((late || interrupted) && !cancelled) {
        cancelled = true;
        boost::asio::post(l.context(), [sig] { sig->emit(boost::asio::cancellation_type::terminal); });
      }
    }
  }
  if (interrupted) throw pybind11::error_already_set();
  return late ? wait_end::deadline : wait_end::completed;
}

}  // namespace detail

// Runs the awaitable made by make() on l's thread (make is kept alive until
// it ends) and waits for it as
// described above. deadline_passed() is thrown when `deadline` passes first.
template <class T, class Make, class OnDeadline>
T await_call(loop& l, Make make, std::optional<std::chrono::steady_clock::time_point> deadline, OnDeadline deadline_passed) {
  l.check_running();
  auto sig = std::make_shared<boost::asio::cancellation_signal>();
  auto promise = std::make_shared<std::promise<T>>();
  auto fut = promise->get_future();
  boost::asio::post(l.context(), [&l, sig, promise, make = std::move(make)]() mutable {
    boost::asio::co_spawn(l.context(), detail::owned<T>(std::move(make)),
                          boost::asio::bind_cancellation_slot(sig->slot(), detail::completion<T>{promise}));
  });
  if (detail::wait(l, fut, sig, deadline) == wait_end::deadline) {
    // The call ended after its cancel: report the deadline unless it
    // completed or failed on its own meanwhile.
    try {
      if constexpr (std::is_void_v<T>) { fut.get(); return; } else { return fut.get(); }
    } catch (const tether::error& e) {
      if (e.code() == tether::errc::cancelled) deadline_passed();
      throw;
    } catch (const boost::system::system_error& e) {
      if (e.code() == boost::asio::error::operation_aborted) deadline_passed();
      throw;
    }
  }
  return fut.get();
}

// A T that lives on l's thread (a libtether object, or one holding some):
// Python threads may hold the last reference, but it is destroyed on the
// loop thread, never concurrently with the loop's use of it. Leaked if the
// loop has stopped (interpreter exit, forked child).
template <class T, class... A>
std::shared_ptr<T> make_on_loop(loop& l, A&&... a) {
  return std::shared_ptr<T>(new T(std::forward<A>(a)...), [lp = &l](T* p) {
    if (lp->context().get_executor().running_in_this_thread()) {
      delete p;
    } else if (lp->running()) {
      boost::asio::post(lp->context(), [p] { delete p; });
    }
  });
}

// Closes `obj`, a libtether object that lives on `l`: its close() and its
// release run on the loop thread (calls still running fail with CLOSED; the
// object goes when they end). In a forked child the parent's loop is gone:
// the object is left untouched (leaked).
template <class C>
void close_on_loop(loop& l, std::shared_ptr<C>& obj) {
  if (!obj) return;
  if (l.forked_away()) {
    new std::shared_ptr<C>(std::move(obj));
    return;
  }
  l.invoke([c = std::move(obj)]() mutable {
    c->close();
    c.reset();
  });
}

// The awaitable made by make(*obj), awaited as await_call does; past
// `deadline`, errc::timeout with the message `late`.
template <class T, class C, class Make>
T call_on_loop(loop& l, const std::shared_ptr<C>& obj, std::optional<std::chrono::steady_clock::time_point> deadline,
               Make make, std::string late) {
  return await_call<T>(l, [c = obj, make = std::move(make)] { return make(*c); }, deadline,
                       [late = std::move(late)] { throw error(errc::timeout, late); });
}

template <class Fn>
auto loop::invoke(Fn fn) -> decltype(fn()) {
  using R = decltype(fn());
  if (forked_away_) check_running();
  if (!running_) return fn();
  std::packaged_task<R()> task(std::move(fn));
  auto fut = task.get_future();
  boost::asio::post(ctx_, [&task] { task(); });
  pybind11::gil_scoped_release nogil;
  return fut.get();
}

}  // namespace tether::py
