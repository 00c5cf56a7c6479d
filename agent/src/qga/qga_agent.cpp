#include "qga/qga_agent.hpp"

#include <algorithm>

#include "log.hpp"
#include "qga/exec_table.hpp"
#include "qga/file_handles.hpp"
#include "qga/fsfreeze.hpp"

namespace tether::agent::qga {
namespace {

std::vector<command_def> make_table() {
  // qemu-ga lists its commands newest first; the groups follow suit.
  std::vector<command_def> t;
  add_route_command(t);
  add_stats_commands(t);
  add_ssh_commands(t);
  add_fstrim_command(t);
  add_password_command(t);
  add_inventory_commands(t);
  add_system_commands(t);
  add_exec_commands(t);
  add_fsfreeze_commands(t);
  add_file_commands(t);
  add_power_commands(t);
  add_protocol_commands(t);
  return t;
}

}  // namespace

command_def simple_command(std::string_view name, std::string_view service, json::value (*fn)()) {
  return {name, service, [fn](command_call& c) -> awaitable<json::value> {
            c.a.done();
            co_return fn();
          }};
}

std::span<const command_def> commands() {
  static const std::vector<command_def> table = make_table();
  return table;
}

bool is_known_command(std::string_view name) {
  const auto t = commands();
  return std::any_of(t.begin(), t.end(), [&](const command_def& c) { return c.name == name; });
}

qga_agent::qga_agent(const asio::any_io_executor& ex, const qga_options& options, const agent_config& config,
                     const service_registry& registry, freezer& fsfreeze, std::string version)
    : ex_(ex), options_(options), config_(config), registry_(registry),
      files_(std::make_unique<file_handles>(config.files_roots)),
      execs_(std::make_unique<exec_table>(ex)),
      freezer_(fsfreeze) {
  session_.agent_version = std::move(version);
  session_.services = registry.enabled_services();
  session_.session_id = "qga";
}

qga_agent::~qga_agent() = default;

void qga_agent::stop() { freezer_.stop(); }

void qga_agent::connected() {
  ++connections_;
  freezer_.host_back();
}

void qga_agent::disconnected() {
  if (--connections_ == 0) freezer_.host_gone();
}

std::optional<std::string> qga_agent::disabled_reason(const command_def& c) const {
  const std::string name(c.name);
  if (options_.block.contains(name)) return "";
  if (options_.allow && !options_.allow->contains(name)) return "";
  if (!c.service.empty() && !config_.service_enabled(c.service)) return "";
  if (freezer_.frozen() && !c.while_frozen) return "the agent is in frozen state";
  return std::nullopt;
}

awaitable<qga_agent::reply> qga_agent::handle(const stream_item& item) {
  reply out;
  if (item.error) {
    out.text = reply_error("GenericError", item.text, std::nullopt);
    co_return out;
  }
  request req;
  std::string cls, desc;
  try {
    parse_request(item.text, req);
    const auto t = commands();
    const auto it = std::find_if(t.begin(), t.end(), [&](const command_def& c) { return c.name == req.execute; });
    if (it == t.end()) throw qga_error("The command " + req.execute + " has not been found", "CommandNotFound");
    if (const auto why = disabled_reason(*it))
      throw qga_error("Command " + req.execute + " has been disabled" + (why->empty() ? "" : ": " + *why),
                      "CommandNotFound");
    args a(req.arguments);
    command_call call{*this, a, {}, false};
    json::value v = co_await it->fn(call);
    out.delimit = call.delimit;
    out.after_reply = std::move(call.after_reply);
    if (it->success_response) out.text = reply_return(v, req.id);
    co_return out;
  } catch (const qga_error& e) {
    cls = e.error_class();
    desc = e.what();
  } catch (const std::exception& e) {
    // call_error of a service, system errors: qemu-ga reports every
    // command failure as a GenericError with its message.
    cls = "GenericError";
    desc = e.what();
  }
  log::debug("qga: {} failed: {}", req.execute.empty() ? "request" : req.execute, desc);
  out.text = reply_error(cls, desc, req.id);
  co_return out;
}

}  // namespace tether::agent::qga
