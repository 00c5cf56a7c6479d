// libtether's result structs as read-only Python classes (bytes fields as
// bytes, everything else as plain values).
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_types(pybind11::module_& m);

}  // namespace tether::py
