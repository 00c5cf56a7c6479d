// A libtether subscription (stats samples, udev events) read from Python
// one item at a time: next() blocks (GIL released, Ctrl-C cancels the
// read), next_async(deliver) hands the item to asyncio as calls.hpp does,
// close() ends the call in the agent; None marks the end. The subscription
// lives on the loop thread and is only touched there.
#pragma once

#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <pybind11/pybind11.h>

#include "calls.hpp"
#include "loop.hpp"
#include "tether/client.hpp"

namespace tether::py {

template <class Sub>
struct stream_state {
  stream_state(loop& l, std::shared_ptr<client> c, Sub s) : lp(&l), owner(std::move(c)), sub(std::move(s)) {}
  loop* lp;                       // the loop the subscription lives on
  std::shared_ptr<client> owner;  // the subscription refers to it
  Sub sub;
};

// Opens a subscription: `open(client&)` is libtether's subscribe().
template <class Sub, class Open>
boost::asio::awaitable<std::shared_ptr<stream_state<Sub>>> open_stream(loop& l, std::shared_ptr<client> c, Open open) {
  auto sub = co_await open(*c);
  co_return make_on_loop<stream_state<Sub>>(l, l, std::move(c), std::move(sub));
}

// Next(sub) reads the next Item (it may turn some items into errors).
template <class Sub, class Item, boost::asio::awaitable<std::optional<Item>> (*Next)(Sub&)>
class py_stream {
 public:
  explicit py_stream(std::shared_ptr<stream_state<Sub>> s) : loop_(s->lp), s_(std::move(s)) {}
  ~py_stream() { close(); }
  py_stream(const py_stream&) = delete;
  py_stream& operator=(const py_stream&) = delete;

  // The next item, None once the stream ended (closed, or a sample limit).
  pybind11::object next() {
    auto s = state();
    auto item = await_call<std::optional<Item>>(*loop_, [s] { return Next(s->sub); }, std::nullopt, [] {});
    return item ? to_py(std::move(*item)) : pybind11::none();
  }

  pending next_async(pybind11::object deliver) {
    auto s = state();
    return start_async<std::optional<Item>>(*loop_, [s] { return Next(s->sub); }, std::move(deliver));
  }

  // Ends the call in the agent: a waiting next() returns None. The state
  // goes on the loop thread, where it lives.
  void close() {
    if (!s_) return;
    auto s = std::move(s_);
    if (loop_->forked_away() || !loop_->running()) {
      new std::shared_ptr<stream_state<Sub>>(std::move(s));  // another thread's objects: leave them alone
      return;
    }
    boost::asio::post(loop_->context(), [s = std::move(s)] { s->sub.cancel(); });
  }

  // A property of the subscription, read on the loop thread.
  template <class Fn>
  auto read(Fn fn) {
    auto s = state();
    return loop_->invoke([s, fn] { return fn(s->sub); });
  }

 private:
  std::shared_ptr<stream_state<Sub>> state() {
    if (!s_) throw error(errc::closed, "the stream is closed");
    return s_;
  }
  loop* loop_;
  std::shared_ptr<stream_state<Sub>> s_;
};

// The Python class of a py_stream; the caller adds its properties.
template <class Stream>
pybind11::class_<Stream> bind_stream(pybind11::module_& m, const char* name) {
  return pybind11::class_<Stream>(m, name)
      .def("next", &Stream::next)
      .def("next_async", &Stream::next_async, pybind11::arg("deliver"))
      .def("close", &Stream::close);
}

}  // namespace tether::py
