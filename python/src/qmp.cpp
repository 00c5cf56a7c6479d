#include "qmp.hpp"

#include <memory>
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "client.hpp"  // to_ms, py_client::opts
#include "loop.hpp"
#include "tether/qmp.hpp"

namespace tether::py {
namespace pyb = pybind11;

namespace {

// Owns one qmp::client; every call on it runs on the loop.
class py_qmp {
 public:
  py_qmp(std::string socket_path, double command_timeout) {
    qmp::options o;
    o.socket_path = std::move(socket_path);
    o.command_timeout = to_ms(command_timeout);
    client_ = loop_->invoke([&] { return std::make_shared<qmp::client>(loop_->context().get_executor(), o); });
  }
  ~py_qmp() { close(); }
  py_qmp(const py_qmp&) = delete;
  py_qmp& operator=(const py_qmp&) = delete;

  void close() { close_on_loop(*loop_, client_); }

  // The awaitable made by make(qmp::client&), awaited with the GIL released;
  // `timeout` (seconds) bounds it in the library, and a second later on the
  // waiting side.
  template <class T, class Make>
  T call(std::optional<double> timeout, Make make) {
    if (!client_) throw error(errc::closed, "the QMP connection is closed");
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + to_ms(*timeout) + std::chrono::seconds(1);
    return call_on_loop<T>(*loop_, client_, deadline, std::move(make),
                           "the QMP call did not finish within " + std::to_string(timeout.value_or(0)) + " s");
  }

  template <class R>
  R read(R (*get)(const qmp::client&)) {
    if (!client_) throw error(errc::closed, "the QMP connection is closed");
    return loop_->invoke([c = client_, get] { return get(*c); });
  }

 private:
  loop* loop_ = &loop::get();
  std::shared_ptr<qmp::client> client_;
};

call_options opts(std::optional<double> timeout) { return py_client::opts(timeout); }

// QEMU's error replies as tether.QMPError (its class and desc); every other
// exception goes on to the module's translator (registered earlier, so
// tried after this one).
void register_qmp_error_translator() {
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      std::rethrow_exception(p);
    } catch (const tether::error& e) {
      if (qmp::error_class(e).empty()) throw;
      pyb::object exc = pyb::module_::import("tether.errors").attr("_from_qmp")(e.what());
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });
}

}  // namespace

void bind_qmp(pyb::module_& m) {
  register_qmp_error_translator();
  using opt_s = std::optional<double>;
  const auto t = pyb::arg("timeout") = pyb::none();

  pyb::class_<qmp::event>(m, "QmpEvent")
      .def_readonly("position", &qmp::event::position)
      .def_readonly("name", &qmp::event::name)
      .def_readonly("data", &qmp::event::data)
      .def_readonly("timestamp_us", &qmp::event::timestamp_us);

  pyb::class_<py_qmp>(m, "QmpClient")
      .def(pyb::init<std::string, double>(), pyb::arg("socket_path"), pyb::arg("command_timeout") = 10.0)
      .def("close", &py_qmp::close)
      .def("connect", [](py_qmp& s, opt_s timeout) {
        s.call<void>(timeout, [o = opts(timeout)](qmp::client& c) { return c.connect(o); });
      }, t)
      .def_property_readonly("connected", [](py_qmp& s) {
        return s.read(+[](const qmp::client& c) { return c.connected(); });
      })
      .def_property_readonly("greeting", [](py_qmp& s) {
        return s.read(+[](const qmp::client& c) { return c.greeting(); });
      })
      .def("execute", [](py_qmp& s, std::string command, std::string arguments, opt_s timeout) {
        return s.call<std::string>(timeout, [command = std::move(command), arguments = std::move(arguments),
                                             o = opts(timeout)](qmp::client& c) {
          return c.execute(command, arguments, o);
        });
      }, pyb::arg("command"), pyb::arg("arguments") = "{}", t)
      .def("event_mark", [](py_qmp& s) {
        return s.read(+[](const qmp::client& c) { return c.event_mark(); });
      })
      .def("wait_event", [](py_qmp& s, std::string name, std::optional<std::uint64_t> since, opt_s timeout) {
        return s.call<qmp::event>(timeout, [name = std::move(name), since, o = opts(timeout)](qmp::client& c) {
          return c.wait_event(name, {}, since, o);
        });
      }, pyb::arg("name"), pyb::arg("since") = pyb::none(), t)
      .def("add_disk", [](py_qmp& s, std::string id, std::string image_path, std::string serial, std::string format,
                          bool read_only, std::string driver, std::string bus, opt_s timeout) {
        qmp::disk_options d{std::move(id), std::move(image_path), std::move(serial), std::move(format), read_only,
                            std::move(driver), std::move(bus)};
        s.call<void>(timeout, [d = std::move(d), o = opts(timeout)](qmp::client& c) { return c.add_disk(d, o); });
      }, pyb::arg("id"), pyb::arg("image_path"), pyb::arg("serial"), pyb::arg("format"), pyb::arg("read_only"),
         pyb::arg("driver"), pyb::arg("bus"), t)
      .def("remove_device", [](py_qmp& s, std::string id, opt_s timeout) {
        s.call<void>(timeout, [id = std::move(id), o = opts(timeout)](qmp::client& c) {
          return c.remove_device(id, o);
        });
      }, pyb::arg("id"), t);
}

}  // namespace tether::py
