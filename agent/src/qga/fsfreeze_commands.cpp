// guest-fsfreeze-status/-freeze/-freeze-list/-thaw (qga/fsfreeze.hpp).
// Status and thaw run while frozen; the others are disabled then, as in
// qemu-ga ("Command guest-fsfreeze-freeze has been disabled: the agent is
// in frozen state").
#include "qga/fsfreeze.hpp"
#include "qga/qga_agent.hpp"

namespace tether::agent::qga {

void add_fsfreeze_commands(std::vector<command_def>& t) {
  t.push_back({"guest-fsfreeze-thaw", "fsfreeze", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return json::value(co_await c.agent.fsfreeze().thaw());
               }, true, true});
  t.push_back({"guest-fsfreeze-freeze-list", "fsfreeze", [](command_call& c) -> awaitable<json::value> {
                 const auto mountpoints = c.a.opt_strings("mountpoints");
                 c.a.done();
                 co_return json::value(co_await c.agent.fsfreeze().freeze(mountpoints));
               }});
  t.push_back({"guest-fsfreeze-freeze", "fsfreeze", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return json::value(co_await c.agent.fsfreeze().freeze(std::nullopt));
               }});
  t.push_back({"guest-fsfreeze-status", "fsfreeze", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 co_return json::value(c.agent.fsfreeze().frozen() ? "frozen" : "thawed");
               }, true, true});
}

}  // namespace tether::agent::qga
