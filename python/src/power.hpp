// tether._tether's power requests: Client.power (power::request) and its
// PowerReply / PowerOutcome (tether/guest.py's g.power).
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_power(pybind11::module_& m);

}  // namespace tether::py
