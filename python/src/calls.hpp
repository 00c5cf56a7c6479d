// One definition per Client method, two ways to call it: `name(...)` blocks
// the calling thread (await_call: GIL released, Ctrl-C and the deadline
// cancel the call), `name_async(deliver, ...)` starts the same call on the
// loop and returns at once; when the call ends, the loop thread takes the
// GIL once and calls deliver(exception or None, result) (tether/aio.py
// passes loop.call_soon_threadsafe bound to a future: no Python thread
// waits). The Pending it returns cancels the call (libtether then cancels it
// in the agent; for exec the agent kills the process group).
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "client.hpp"
#include "errors.hpp"
#include "loop.hpp"

namespace tether::py {

// A call's result that Python sees as bytes, not str.
struct raw_bytes {
  std::string data;
};

// A method's call: the waiting side's deadline (seconds; None: none) and
// the maker of the awaitable, given the client. T is the result type.
template <class T, class Make>
struct call_spec {
  using result_type = T;
  std::optional<double> deadline;
  Make make;
};

template <class T, class Make>
call_spec<T, Make> spec(std::optional<double> deadline, Make make) {
  return {deadline, std::move(make)};
}

// Results as Python objects (the GIL is held). A type that needs more than
// pybind11's cast adds an overload where it is defined.
template <class T>
pybind11::object to_py(T&& v) {
  return pybind11::cast(std::forward<T>(v), pybind11::return_value_policy::move);
}
inline pybind11::object to_py(raw_bytes&& v) { return pybind11::bytes(v.data); }

// A Python object owned from C++ on threads that may not hold the GIL: it
// is released under the GIL.
class py_ref {
 public:
  explicit py_ref(pybind11::object o) : o_(new pybind11::object(std::move(o)), [](pybind11::object* p) {
    pybind11::gil_scoped_acquire gil;
    delete p;
  }) {}
  const pybind11::object& get() const { return *o_; }

 private:
  std::shared_ptr<pybind11::object> o_;
};

// Calls deliver(exc, value) on the loop thread. An error inside deliver
// (e.g. the asyncio loop was closed meanwhile) has nowhere to go: it is
// reported as unraisable, as Python does for errors in callbacks.
void deliver_result(const py_ref& deliver, std::exception_ptr e, pybind11::object value);

template <class T>
struct async_completion {
  py_ref deliver;
  void operator()(std::exception_ptr e, T v) const {
    pybind11::gil_scoped_acquire gil;
    pybind11::object value = pybind11::none();
    if (!e) {
      try {
        value = to_py(std::move(v));
      } catch (...) {
        e = std::current_exception();
      }
    }
    deliver_result(deliver, e, std::move(value));
  }
};
template <>
struct async_completion<void> {
  py_ref deliver;
  void operator()(std::exception_ptr e) const {
    pybind11::gil_scoped_acquire gil;
    deliver_result(deliver, e, pybind11::none());
  }
};

// tether._tether.Pending: a call started by a *_async method.
class pending {
 public:
  pending(loop& l, std::shared_ptr<boost::asio::cancellation_signal> sig) : loop_(&l), sig_(std::move(sig)) {}
  // Cancels the call (terminal cancellation, as Ctrl-C does for a blocking
  // call); its end is still delivered, usually as tether.Cancelled.
  void cancel() {
    if (!loop_->running()) return;
    boost::asio::post(loop_->context(), [sig = sig_] { sig->emit(boost::asio::cancellation_type::terminal); });
  }

 private:
  loop* loop_;
  std::shared_ptr<boost::asio::cancellation_signal> sig_;
};

// Starts the awaitable made by make() on l's thread; the result goes to
// deliver.
template <class T, class Make>
pending start_async(loop& l, Make make, pybind11::object deliver) {
  l.check_running();
  auto sig = std::make_shared<boost::asio::cancellation_signal>();
  async_completion<T> done{py_ref(std::move(deliver))};
  boost::asio::post(l.context(), [&l, sig, make = std::move(make), done = std::move(done)]() mutable {
    boost::asio::co_spawn(l.context(), detail::owned<T>(std::move(make)),
                          boost::asio::bind_cancellation_slot(sig->slot(), std::move(done)));
  });
  return pending(l, std::move(sig));
}

namespace detail {

// g(py_client&, A...) -> call_spec.
template <class Spec, class... A, class G, class... Extra>
void def_both(pybind11::class_<py_client>& cls, const char* name, G g, const Extra&... extra) {
  using T = typename Spec::result_type;
  cls.def(name, [g](py_client& s, A... a) -> pybind11::object {
    auto sp = g(s, std::forward<A>(a)...);
    if constexpr (std::is_void_v<T>) {
      s.call<void>(sp.deadline, std::move(sp.make));
      return pybind11::none();
    } else {
      return to_py(s.call<T>(sp.deadline, std::move(sp.make)));
    }
  }, extra...);
  cls.def((std::string(name) + "_async").c_str(), [g](py_client& s, pybind11::object deliver, A... a) {
    auto sp = g(s, std::forward<A>(a)...);
    // The waiting side's deadline is asyncio's (tether/aio.py); libtether's
    // own call timeout is part of make.
    return start_async<T>(s.owner_loop(), [c = s.handle(), make = std::move(sp.make)] { return make(*c); },
                          std::move(deliver));
  }, pybind11::arg("deliver"), extra...);
}

template <class F, class Spec, class... A, class... Extra>
void def_call(pybind11::class_<py_client>& cls, const char* name, F f, Spec (F::*)(A...) const,
              const Extra&... extra) {
  def_both<Spec, A...>(cls, name, [f](py_client&, A&&... a) { return f(std::forward<A>(a)...); }, extra...);
}
// f takes the Client first (e.g. to keep its libtether client).
template <class F, class Spec, class... A, class... Extra>
void def_call(pybind11::class_<py_client>& cls, const char* name, F f, Spec (F::*)(py_client&, A...) const,
              const Extra&... extra) {
  def_both<Spec, A...>(cls, name, f, extra...);
}

}  // namespace detail

// Defines `name` (blocking) and `name_async` on Client from
// f([py_client&,] args...) -> call_spec; `extra` are the args' pybind11::arg()s.
template <class F, class... Extra>
void def_call(pybind11::class_<py_client>& cls, const char* name, F f, const Extra&... extra) {
  detail::def_call(cls, name, std::move(f), &F::operator(), extra...);
}

void bind_pending(pybind11::module_& m);

}  // namespace tether::py
