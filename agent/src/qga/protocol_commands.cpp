// The protocol's own commands: guest-sync, guest-sync-delimited, guest-ping,
// guest-info. Allowed while frozen, as in qemu-ga.
#include "qga/qga_agent.hpp"
#include "qga/service_call.hpp"
#include "tether/v1/info.pb.h"

namespace tether::agent::qga {

void add_protocol_commands(std::vector<command_def>& t) {
  t.push_back({"guest-sync", "", [](command_call& c) -> awaitable<json::value> {
                 const auto id = c.a.integer("id");
                 c.a.done();
                 co_return json::value(id);
               }, true, true});
  t.push_back({"guest-sync-delimited", "", [](command_call& c) -> awaitable<json::value> {
                 const auto id = c.a.integer("id");
                 c.a.done();
                 c.delimit = true;
                 co_return json::value(id);
               }, true, true});
  t.push_back({"guest-ping", "ping", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 // The ping service's code, so [services] and the audit of
                 // both protocols stay one.
                 co_await call_service(c.agent.registry(), c.agent.session(), "ping.Ping",
                                       v1::PingRequest().SerializeAsString(), "guest-ping");
                 co_return json::object{};
               }, true, true});
  t.push_back({"guest-info", "", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 json::array list;
                 for (const auto& cmd : commands())
                   list.push_back(json::object{{"enabled", c.agent.enabled(cmd)},
                                               {"name", cmd.name},
                                               {"success-response", cmd.success_response}});
                 co_return json::object{{"version", c.agent.version()}, {"supported_commands", std::move(list)}};
               }, true, true});
}

}  // namespace tether::agent::qga
