// Service "forward": forward.Open carries a byte stream between the host and
// a unix socket inside the guest (see proto/tether/v1/forward.proto). The
// host uses it as a route: an L2 guest's chardev socket in this (L1) guest,
// reached without any network.
//
// Which sockets: only paths matching one of forward.sockets (fnmatch with
// FNM_PATHNAME | FNM_PERIOD: `*` stays inside one path component). The
// pattern is matched on the path the host gave, which must be absolute and
// lexically plain (no "." / ".." / empty parts), and connect(2) uses that
// same path. The guest's administrator controls which sockets exist at the
// allowed paths (and symlinks on the way): allowing a directory the host
// can write to, or one holding symlinks to other sockets, allows those too.
#pragma once

#include <string>
#include <vector>

#include "tether/agent/service.hpp"

namespace tether::agent {

struct forward_policy {
  std::vector<std::string> patterns;  // forward.sockets
  std::string source;                 // config file named in refusals; may be empty
};

// Why the host may not open `path` under `policy` (naming the path and
// forward.sockets); empty if it may.
std::string forward_refusal(const forward_policy& policy, const std::string& path);

class forward_service final : public service {
 public:
  explicit forward_service(forward_policy policy) : policy_(std::move(policy)) {}

  std::string_view name() const override { return "forward"; }
  void add_methods(service_registry& registry) override;

 private:
  awaitable<std::string> open(call_context& call);

  forward_policy policy_;
};

}  // namespace tether::agent
