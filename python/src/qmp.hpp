// tether._tether.QmpClient: libtether's QMP client (tether/qmp.hpp) on the
// module's loop, JSON as text both ways (tether/qmp.py converts with the json
// module). Waits release the GIL; Ctrl-C and the timeout cancel them.
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_qmp(pybind11::module_& m);

}  // namespace tether::py
