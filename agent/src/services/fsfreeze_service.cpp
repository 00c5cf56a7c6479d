#include "services/fsfreeze_service.hpp"

#include "qga/fsfreeze.hpp"
#include "qga/protocol.hpp"
#include "tether/v1/fsfreeze.pb.h"

namespace tether::agent {

void fsfreeze_service::add_methods(service_registry& registry) {
  registry.add_method("fsfreeze.Freeze", [this](call_context& call) -> awaitable<std::string> {
    const auto req = call.request<v1::FreezeRequest>();
    if (freezer_.frozen())
      throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION, "fsfreeze.Freeze: the filesystems are frozen already");
    std::optional<std::vector<std::string>> mountpoints;
    if (req.mountpoints_size() > 0) mountpoints.emplace(req.mountpoints().begin(), req.mountpoints().end());
    v1::FreezeReply reply;
    try {
      reply.set_frozen(static_cast<std::uint32_t>(co_await freezer_.freeze(mountpoints)));
    } catch (const qga::qga_error& e) {
      throw call_error(v1::ERROR_CODE_INTERNAL, std::string("fsfreeze.Freeze: ") + e.what());
    }
    reply.set_thaw_limit_ms(static_cast<std::uint32_t>(freezer_.limit().count()));
    co_return reply.SerializeAsString();
  });
  registry.add_method("fsfreeze.Thaw", [this](call_context& call) -> awaitable<std::string> {
    (void)call.request<v1::ThawRequest>();
    v1::ThawReply reply;
    try {
      reply.set_thawed(static_cast<std::uint32_t>(co_await freezer_.thaw()));
    } catch (const qga::qga_error& e) {  // the hook failed after the thaw
      throw call_error(v1::ERROR_CODE_INTERNAL, std::string("fsfreeze.Thaw: ") + e.what());
    }
    co_return reply.SerializeAsString();
  });
  registry.add_method("fsfreeze.Status", [this](call_context& call) -> awaitable<std::string> {
    (void)call.request<v1::FreezeStatusRequest>();
    v1::FreezeStatusReply reply;
    reply.set_frozen(freezer_.frozen());
    co_return reply.SerializeAsString();
  });
}

void fsfreeze_service::stop() { freezer_.stop(); }

}  // namespace tether::agent
