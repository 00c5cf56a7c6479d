// tether._tether.Device and Client.devices_list / devices_wait: the guest's
// udev devices with pyudev's names (tether/devices.py is the Python face).
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_devices(pybind11::module_& m);

}  // namespace tether::py
