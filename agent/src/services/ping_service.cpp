#include "services/ping_service.hpp"

#include <ctime>

#include "tether/v1/info.pb.h"

namespace tether::agent {

void ping_service::add_methods(service_registry& registry) {
  registry.add_method("ping.Ping", [](call_context& call) -> awaitable<std::string> {
    auto req = call.request<v1::PingRequest>();
    v1::PingReply reply;
    reply.set_payload(std::move(*req.mutable_payload()));
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    reply.set_guest_time_ns(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
    co_return reply.SerializeAsString();
  });
}

}  // namespace tether::agent
