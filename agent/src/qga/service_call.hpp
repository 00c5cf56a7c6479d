// Calling a protobuf service's method from a QGA command, so both protocols
// run the same code (and the same [services] policy): the request goes to
// the service_registry as a call would, through a call_context without a
// host session behind it (no streams, no events).
#pragma once

#include <functional>
#include <string>

#include "tether/agent/service.hpp"

namespace tether::agent::qga {

struct service_reply {
  std::string payload;
  // What the service wants run once its answer reached the host
  // (call_context::after_reply), or empty.
  std::function<void(bool written)> after_reply;
};

// Throws qga_error("Command NAME has been disabled", "CommandNotFound") when
// the service is disabled, and call_error as the handler does.
awaitable<service_reply> call_service(const service_registry& registry, const session_info& session,
                                      const std::string& method, std::string payload,
                                      std::string_view command);

}  // namespace tether::agent::qga
