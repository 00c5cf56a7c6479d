#include "devices.hpp"

#include <pybind11/stl.h>

#include "calls.hpp"
#include "client.hpp"
#include "stream.hpp"
#include "tether/devices.hpp"

namespace tether::py {
namespace pyb = pybind11;

namespace {

using str_map = std::map<std::string, std::string>;

// The next device event; a reported loss ends the stream with DATA_LOSS
// (never silent: the caller's view of the devices may be stale).
// GCC 12: the same false -Wmismatched-new-delete as in host-lib/src/stats.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
boost::asio::awaitable<std::optional<devices::device>> next_event(devices::subscription& sub) {
  auto e = co_await sub.next();
  if (!e) co_return std::nullopt;
  switch (e->what) {
    case devices::event::kind::device:
      co_return std::move(e->device);
    case devices::event::kind::lost:
      throw error(errc::data_loss, "udev events were lost in the guest (" +
                                       (e->lost.count_unknown ? std::string("how many is unknown")
                                                              : std::to_string(e->lost.count)) +
                                       "): " + e->lost.reason);
    case devices::event::kind::replay_gap:
      throw error(errc::data_loss, "the device monitor could not replay every event after " +
                                       std::to_string(e->gap.resume_after_seqnum) + ", events may be missing: " +
                                       e->gap.reason);
  }
  co_return std::nullopt;
}
#pragma GCC diagnostic pop

using device_monitor = py_stream<devices::subscription, devices::device, &next_event>;

std::optional<std::string> unless_empty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

devices::filter filter_of(std::string subsystem, std::string device_type, std::string sys_name, str_map properties,
                          std::vector<std::string> tags, str_map attributes) {
  return {std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
          std::move(tags), std::move(attributes)};
}

}  // namespace

pyb::object to_py(std::shared_ptr<stream_state<devices::subscription>>&& s) {
  return pyb::cast(new device_monitor(std::move(s)), pyb::return_value_policy::take_ownership);
}

void bind_devices(pyb::module_& m) {
  using d = devices::device;
  pyb::class_<d>(m, "Device")
      .def_readonly("action", &d::action)
      .def_readonly("sequence_number", &d::seqnum)
      .def_readonly("subsystem", &d::subsystem)
      .def_property_readonly("device_type", [](const d& x) { return unless_empty(x.devtype); })
      .def_readonly("device_path", &d::device_path)
      .def_property_readonly("sys_path", &d::sys_path)
      .def_readonly("sys_name", &d::sys_name)
      .def_property_readonly("device_node", [](const d& x) { return unless_empty(x.devnode); })
      .def_readonly("device_links", &d::devlinks)
      .def_readonly("properties", &d::properties)
      .def_readonly("tags", &d::tags)
      .def_property_readonly("driver", [](const d& x) { return unless_empty(x.driver); })
      .def_readonly("attributes", &d::attributes)
      .def_readonly("usec_initialized", &d::usec_initialized)
      .def("__repr__", [](const d& x) { return "tether.Device('" + x.sys_path() + "')"; });

  // The filter's arguments, first in each method (tether/devices.py names them).
  const pyb::arg a1("subsystem"), a2("device_type"), a3("sys_name"), a4("properties"), a5("tags"),
      a6("attributes");
  auto cls = pyb::reinterpret_borrow<pyb::class_<py_client>>(m.attr("Client"));
  def_call(cls, "devices_list", [](std::string subsystem, std::string device_type, std::string sys_name,
                                   str_map properties, std::vector<std::string> tags, str_map attributes,
                                   std::optional<double> timeout) {
    auto f = filter_of(std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
                       std::move(tags), std::move(attributes));
    return spec<std::vector<d>>(timeout, [f = std::move(f), o = py_client::opts(timeout)](client& c) {
      return devices::list(c, f, o);
    });
  }, a1, a2, a3, a4, a5, a6, pyb::arg("timeout") = pyb::none());
  // Waits in the agent for `timeout` seconds (its DEADLINE_EXCEEDED says
  // what was waited for); None if gone and nothing matched at the start.
  def_call(cls, "devices_wait", [](std::string subsystem, std::string device_type, std::string sys_name,
                                   str_map properties, std::vector<std::string> tags, str_map attributes, bool gone,
                                   double timeout) {
    auto f = filter_of(std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
                       std::move(tags), std::move(attributes));
    devices::wait_options w{.gone = gone, .timeout = to_ms(timeout)};
    return spec<std::optional<d>>(std::nullopt, [f = std::move(f), w](client& c)
                                                    -> boost::asio::awaitable<std::optional<d>> {
      co_return (co_await devices::wait(c, f, w)).device;
    });
  }, a1, a2, a3, a4, a5, a6, pyb::arg("gone"), pyb::arg("timeout"));

  bind_stream<device_monitor>(m, "DeviceMonitor")
      .def_property_readonly("resumes", [](device_monitor& s) {
        return s.read([](devices::subscription& sub) { return sub.resumes(); });
      })
      .def_property_readonly("last_sequence_number", [](device_monitor& s) {
        return s.read([](devices::subscription& sub) { return sub.last_seqnum(); });
      })
      .def_property_readonly("start_sequence_number", [](device_monitor& s) {
        return s.read([](devices::subscription& sub) { return sub.started().current_seqnum; });
      });
  // Opens a subscription: returns once the agent registered it (no event
  // from then on is missed). resume_after: a sequence number to replay after.
  def_call(cls, "devices_monitor", [](py_client& self, std::string subsystem, std::string device_type,
                                      std::string sys_name, str_map properties, std::vector<std::string> tags,
                                      str_map attributes, std::optional<std::uint64_t> resume_after,
                                      std::optional<double> timeout) {
    auto f = filter_of(std::move(subsystem), std::move(device_type), std::move(sys_name), std::move(properties),
                       std::move(tags), std::move(attributes));
    devices::subscribe_options so{.resume_after_seqnum = resume_after};
    return spec<std::shared_ptr<stream_state<devices::subscription>>>(
        timeout, [l = &self.owner_loop(), owner = self.handle(), f = std::move(f), so,
                  o = py_client::opts(timeout)](client&) {
          return open_stream<devices::subscription>(*l, owner, [&](client& c) { return devices::subscribe(c, f, so, o); });
        });
  }, a1, a2, a3, a4, a5, a6, pyb::arg("resume_after"), pyb::arg("timeout") = pyb::none());
}

}  // namespace tether::py
