#include "devices.hpp"

#include <pybind11/stl.h>

#include "client.hpp"
#include "tether/devices.hpp"

namespace tether::py {
namespace pyb = pybind11;

namespace {

using str_map = std::map<std::string, std::string>;

std::optional<std::string> unless_empty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

devices::filter filter_of(std::string subsystem, std::string device_type, std::string sys_name, str_map properties,
                          std::vector<std::string> tags, str_map attributes) {
  return {std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
          std::move(tags), std::move(attributes)};
}

}  // namespace

void bind_devices(pyb::module_& m) {
  using d = devices::device;
  pyb::class_<d>(m, "Device")
      .def_readonly("action", &d::action)
      .def_readonly("sequence_number", &d::seqnum)
      .def_readonly("subsystem", &d::subsystem)
      .def_property_readonly("device_type", [](const d& x) { return unless_empty(x.devtype); })
      .def_readonly("device_path", &d::device_path)
      .def_property_readonly("sys_path", &d::sys_path)
      .def_readonly("sys_name", &d::sys_name)
      .def_property_readonly("device_node", [](const d& x) { return unless_empty(x.devnode); })
      .def_readonly("device_links", &d::devlinks)
      .def_readonly("properties", &d::properties)
      .def_readonly("tags", &d::tags)
      .def_property_readonly("driver", [](const d& x) { return unless_empty(x.driver); })
      .def_readonly("attributes", &d::attributes)
      .def_readonly("usec_initialized", &d::usec_initialized)
      .def("__repr__", [](const d& x) { return "tether.Device('" + x.sys_path() + "')"; });

  // The filter's arguments, first in both methods (tether/devices.py names them).
  const pyb::arg a1("subsystem"), a2("device_type"), a3("sys_name"), a4("properties"), a5("tags"),
      a6("attributes");
  pyb::reinterpret_borrow<pyb::class_<py_client>>(m.attr("Client"))
      .def("devices_list", [](py_client& s, std::string subsystem, std::string device_type, std::string sys_name,
                              str_map properties, std::vector<std::string> tags, str_map attributes,
                              std::optional<double> timeout) {
        auto f = filter_of(std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
                           std::move(tags), std::move(attributes));
        return s.call<std::vector<d>>(timeout, [f = std::move(f), o = py_client::opts(timeout)](client& c) {
          return devices::list(c, f, o);
        });
      }, a1, a2, a3, a4, a5, a6, pyb::arg("timeout") = pyb::none())
      // Waits in the agent for `timeout` seconds (its DEADLINE_EXCEEDED says
      // what was waited for); None if gone and nothing matched at the start.
      .def("devices_wait", [](py_client& s, std::string subsystem, std::string device_type, std::string sys_name,
                              str_map properties, std::vector<std::string> tags, str_map attributes, bool gone,
                              double timeout) {
        auto f = filter_of(std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
                           std::move(tags), std::move(attributes));
        devices::wait_options w{.gone = gone, .timeout = to_ms(timeout)};
        auto r = s.call<devices::wait_result>(std::nullopt, [f = std::move(f), w](client& c) {
          return devices::wait(c, f, w);
        });
        return r.device;
      }, a1, a2, a3, a4, a5, a6, pyb::arg("gone"), pyb::arg("timeout"));
}

}  // namespace tether::py
