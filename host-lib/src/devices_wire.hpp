// The wire form of a devices filter (tether.v1.DeviceFilter).
#pragma once

#include "tether/devices.hpp"
#include "tether/v1/devices.pb.h"

namespace tether::devices::detail {

v1::DeviceFilter to_proto(const filter& f);

}  // namespace tether::devices::detail
