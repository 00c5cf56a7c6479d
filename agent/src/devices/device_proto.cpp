#include "devices/device_proto.hpp"

namespace tether::agent::devices {

device_filter from_proto(const v1::DeviceFilter& f) {
  device_filter out;
  out.subsystem = f.subsystem();
  out.devtype = f.devtype();
  out.sysname = f.sysname();
  out.properties.insert(f.properties().begin(), f.properties().end());
  out.tags.assign(f.tags().begin(), f.tags().end());
  out.sysattrs.insert(f.sysattrs().begin(), f.sysattrs().end());
  return out;
}

void to_proto(const device_info& d, bool out_of_order, v1::Device& out) {
  out.set_action(d.action);
  out.set_seqnum(d.seqnum);
  out.set_subsystem(d.subsystem);
  out.set_devtype(d.devtype);
  out.set_devpath(d.devpath);
  out.set_sysname(d.sysname);
  out.set_devnode(d.devnode);
  for (const auto& l : d.devlinks) out.add_devlinks(l);
  out.mutable_properties()->insert(d.properties.begin(), d.properties.end());
  for (const auto& t : d.tags) out.add_tags(t);
  out.set_driver(d.driver);
  out.set_usec_initialized(d.usec_initialized);
  out.set_received_time_ns(d.received_time_ns);
  out.set_received_monotonic_usec(d.received_monotonic_usec);
  out.mutable_sysattrs()->insert(d.sysattrs.begin(), d.sysattrs.end());
  out.set_out_of_order(out_of_order);
}

std::string device_event_payload(const device_info& d, bool out_of_order) {
  v1::DeviceEvent ev;
  to_proto(d, out_of_order, *ev.mutable_device());
  return ev.SerializeAsString();
}

}  // namespace tether::agent::devices
