// Conversions between the wire messages of the devices service and the
// agent's plain device data.
#pragma once

#include <string>

#include "devices/device_filter.hpp"
#include "tether/v1/devices.pb.h"

namespace tether::agent::devices {

device_filter from_proto(const v1::DeviceFilter& f);
void to_proto(const device_info& d, bool out_of_order, v1::Device& out);
// A serialized DeviceEvent carrying one device.
std::string device_event_payload(const device_info& d, bool out_of_order = false);

}  // namespace tether::agent::devices
