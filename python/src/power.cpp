#include "power.hpp"

#include <pybind11/stl.h>

#include "calls.hpp"
#include "tether/power.hpp"

namespace tether::py {
namespace pyb = pybind11;

void bind_power(pyb::module_& m) {
  using r = power::reply;
  pyb::class_<r>(m, "PowerReply")
      .def_property_readonly("method", [](const r& x) { return power::to_string(x.method); })
      .def_readonly("hooks", &r::hooks)
      .def_readonly("skipped", &r::skipped)
      .def_readonly("boot_id", &r::boot_id)
      .def_readonly("simulated", &r::simulated);
  using o = power::outcome;
  pyb::class_<o>(m, "PowerOutcome")
      .def_readonly("reply", &o::reply)
      .def_readonly("done", &o::done)
      .def_property_readonly("elapsed", [](const o& x) { return static_cast<double>(x.elapsed.count()) / 1e3; })
      .def_readonly("boot_id", &o::boot_id);

  // action: "poweroff", "reboot", "halt" or "suspend"; hook_timeout and
  // wait_timeout in seconds (see power::options); `timeout` bounds the
  // request call, wait_timeout the wait after it.
  auto cls = pyb::reinterpret_borrow<pyb::class_<py_client>>(m.attr("Client"));
  def_call(cls, "power",
           [](std::string action, bool host_halt, std::optional<double> hook_timeout, bool wait,
              double wait_timeout, std::optional<double> timeout) {
    const auto a = power::parse_action(action);
    if (!a) throw error(errc::invalid_argument, "unknown power action '" + action + "' (poweroff, reboot, halt, suspend)");
    power::options po;
    po.host_halt = host_halt;
    if (hook_timeout) po.hook_timeout = to_ms(*hook_timeout);
    po.wait = wait;
    po.wait_timeout = to_ms(wait_timeout);
    return spec<o>(std::nullopt, [a = *a, po = std::move(po), call = py_client::opts(timeout)](client& c) {
      return power::request(c, a, po, call);
    });
  }, pyb::arg("action"), pyb::arg("host_halt"), pyb::arg("hook_timeout"), pyb::arg("wait"), pyb::arg("wait_timeout"),
     pyb::arg("timeout") = pyb::none());
}

}  // namespace tether::py
