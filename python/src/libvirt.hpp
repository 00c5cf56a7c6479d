// tether._tether.find_libvirt_domain: libvirt domains by name (tether/libvirt.hpp).
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_libvirt(pybind11::module_& m);

}  // namespace tether::py
