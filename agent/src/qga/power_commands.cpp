// guest-shutdown and guest-suspend-ram/-disk/-hybrid through the power service's
// power.Request: the same checks, events, hooks and --power-simulate. Like
// qemu-ga they send no reply on success (the guest is going away); the
// action starts once that was decided, as after the power service's answer.
#include "qga/qga_agent.hpp"
#include "qga/service_call.hpp"
#include "tether/v1/power.pb.h"

namespace tether::agent::qga {
namespace {

awaitable<json::value> request_power(command_call& c, v1::PowerAction action, std::string_view command) {
  v1::PowerRequest req;
  req.set_action(action);
  auto r = co_await call_service(c.agent.registry(), c.agent.session(), "power.Request", req.SerializeAsString(),
                                 command);
  c.after_reply = std::move(r.after_reply);
  co_return json::object{};
}

}  // namespace

void add_power_commands(std::vector<command_def>& t) {
  t.push_back({"guest-suspend-hybrid", "power", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return co_await request_power(c, v1::POWER_ACTION_HYBRID_SLEEP, "guest-suspend-hybrid");
               }, false});
  t.push_back({"guest-suspend-disk", "power", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return co_await request_power(c, v1::POWER_ACTION_HIBERNATE, "guest-suspend-disk");
               }, false});
  t.push_back({"guest-suspend-ram", "power", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return co_await request_power(c, v1::POWER_ACTION_SUSPEND, "guest-suspend-ram");
               }, false});
  t.push_back({"guest-shutdown", "power", [](command_call& c) -> awaitable<json::value> {
                 const auto mode = c.a.opt_string("mode").value_or("powerdown");
                 c.a.done();
                 v1::PowerAction action;
                 if (mode == "powerdown") action = v1::POWER_ACTION_POWEROFF;
                 else if (mode == "reboot") action = v1::POWER_ACTION_REBOOT;
                 else if (mode == "halt") action = v1::POWER_ACTION_HALT;
                 else throw qga_error("Parameter 'mode' expects 'halt', 'powerdown', or 'reboot'");
                 co_return co_await request_power(c, action, "guest-shutdown");
               }, false});
}

}  // namespace tether::agent::qga
