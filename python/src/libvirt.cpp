#include "libvirt.hpp"

#include <pybind11/stl.h>

#include "tether/libvirt.hpp"

namespace tether::py {
namespace pyb = pybind11;

void bind_libvirt(pyb::module_& m) {
  pyb::class_<libvirt::domain>(m, "LibvirtDomain")
      .def_readonly("name", &libvirt::domain::name)
      .def_readonly("uuid", &libvirt::domain::uuid)
      .def_readonly("socket_path", &libvirt::domain::socket_path)
      .def("__repr__", [](const libvirt::domain& d) {
        return "LibvirtDomain(name='" + d.name + "', socket_path='" + d.socket_path + "')";
      });
  // libvirt's RPC blocks: on the calling thread, without the GIL (never on
  // the loop thread, which other calls share).
  m.def("find_libvirt_domain", &libvirt::find_domain, pyb::arg("name"), pyb::arg("uri") = std::string(),
        pyb::call_guard<pyb::gil_scoped_release>());
  m.def("running_libvirt_domains", &libvirt::running_domains, pyb::arg("uri") = std::string(),
        pyb::call_guard<pyb::gil_scoped_release>());
}

}  // namespace tether::py
