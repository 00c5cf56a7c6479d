// tether._tether.Client: one libtether client on the module's loop, with a
// blocking method per call (GIL released while waiting, Ctrl-C and the
// timeout cancel the call in the agent). The Pythonic layer is tether/*.py.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>

#include "loop.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"

namespace tether::py {

inline std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
}

// The options Client.run and Client.start share; `timeout` (seconds) is the
// command's: the agent kills its process group after it.
inline exec::options exec_options(std::vector<std::string> argv, std::vector<std::string> env, bool clear_env,
                                  std::string cwd, std::string user, bool merge_stderr,
                                  std::optional<double> timeout) {
  exec::options eo;
  eo.argv = std::move(argv);
  eo.env = std::move(env);
  eo.clear_env = clear_env;
  eo.cwd = std::move(cwd);
  eo.user = std::move(user);
  eo.merge_stderr = merge_stderr;
  if (timeout) eo.timeout = std::max(to_ms(*timeout), std::chrono::milliseconds(1));
  return eo;
}

// Owns the client; every libtether call on it runs on the loop.
class py_client {
 public:
  // `domain` (with `libvirt_uri`): a libvirt domain instead of socket_path.
  py_client(std::string socket_path, std::optional<double> call_timeout, std::vector<std::string> via = {},
            std::string domain = {}, std::string libvirt_uri = {}) {
    client_options o;
    if (domain.empty()) o.socket_path = std::move(socket_path);
    o.via = std::move(via);
    o.domain = std::move(domain);
    o.libvirt_uri = std::move(libvirt_uri);
    if (call_timeout) o.call_timeout = to_ms(*call_timeout);
    client_ = loop_->invoke([&] { return std::make_shared<client>(loop_->context().get_executor(), std::move(o)); });
  }
  ~py_client() { close(); }
  py_client(const py_client&) = delete;
  py_client& operator=(const py_client&) = delete;

  // Running calls fail with CLOSED; the client itself goes when they end.
  // In a forked child, the parent's client is left untouched (leaked).
  void close() { close_on_loop(*loop_, client_); }

  // The call made by make(client&), awaited with the GIL released; `timeout`
  // (seconds) is the call's deadline in libtether and on the waiting side.
  template <class T, class Make>
  T call(std::optional<double> timeout, Make make) {
    if (!client_) throw error(errc::closed, "the guest connection is closed");
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + to_ms(*timeout);
    return call_on_loop<T>(*loop_, client_, deadline, std::move(make),
                           "the call did not finish within " + std::to_string(timeout.value_or(0)) + " s");
  }

  static call_options opts(std::optional<double> timeout) {
    call_options o;
    if (timeout) o.timeout = std::max(to_ms(*timeout), std::chrono::milliseconds(1));
    return o;
  }

  // The libtether client (e.g. for objects that outlive one call).
  std::shared_ptr<client> handle() const {
    if (!client_) throw error(errc::closed, "the guest connection is closed");
    return client_;
  }

  loop& owner_loop() const noexcept { return *loop_; }

  std::optional<hello_info> agent_hello() {
    if (!client_) return std::nullopt;
    return loop_->invoke([c = client_] { return c->agent_hello(); });
  }

 private:
  loop* loop_ = &loop::get();  // the loop this client lives on
  std::shared_ptr<client> client_;
};

void bind_client(pybind11::module_& m);

}  // namespace tether::py
