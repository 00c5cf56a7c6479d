// tether._tether: the native half of the `tether` package (see tether/*.py).
#include <pybind11/pybind11.h>

#include "calls.hpp"
#include "client.hpp"
#include "devices.hpp"
#include "errors.hpp"
#include "libvirt.hpp"
#include "loop.hpp"
#include "power.hpp"
#include "process.hpp"
#include "stats.hpp"
#include "qmp.hpp"
#include "types.hpp"

PYBIND11_MODULE(_tether, m) {
  m.doc() = "libtether bindings; use the `tether` package, not this module";
  tether::py::register_error_translator();
  tether::py::bind_types(m);
  tether::py::bind_pending(m);
  tether::py::bind_client(m);
  tether::py::bind_process(m);  // after Client: adds Client.start
  tether::py::bind_devices(m);  // likewise Client.devices_*
  tether::py::bind_stats(m);    // Client.stats*
  tether::py::bind_power(m);    // Client.power
  tether::py::bind_qmp(m);
  tether::py::bind_libvirt(m);
  // Join the loop thread while the interpreter still runs.
  m.def("_stop_loop", [] { tether::py::loop::stop_current(); });
  pybind11::module_::import("atexit").attr("register")(m.attr("_stop_loop"));
  // A forked child has no loop thread: see loop::after_fork_in_child.
  m.def("_after_fork_in_child", [] { tether::py::loop::after_fork_in_child(); });
  pybind11::module_::import("os").attr("register_at_fork")(pybind11::arg("after_in_child") =
                                                              m.attr("_after_fork_in_child"));
}
