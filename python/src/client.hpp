// tether._tether.Client: one libtether client on the module's loop, with a
// blocking method per call (GIL released while waiting, Ctrl-C and the
// timeout cancel the call in the agent). The Pythonic layer is tether/*.py.
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_client(pybind11::module_& m);

}  // namespace tether::py
