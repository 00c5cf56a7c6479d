#include <cerrno>

#include "tether/agent/service.hpp"

namespace tether::agent {

v1::ErrorCode error_code_from_errno(int err) {
  switch (err) {
    case ENOENT: case ENOTDIR: case ESRCH: return v1::ERROR_CODE_NOT_FOUND;
    case EACCES: case EPERM: case EROFS: return v1::ERROR_CODE_PERMISSION_DENIED;
    case EEXIST: case ENOTEMPTY: return v1::ERROR_CODE_ALREADY_EXISTS;
    case ENOSPC: case EDQUOT: case EMFILE: case ENFILE: case ENOMEM: case EAGAIN:
      return v1::ERROR_CODE_RESOURCE_EXHAUSTED;
    case EINVAL: case ENAMETOOLONG: case EISDIR: case ELOOP: case E2BIG:
      return v1::ERROR_CODE_INVALID_ARGUMENT;
    case ETIMEDOUT: return v1::ERROR_CODE_DEADLINE_EXCEEDED;
    case ECANCELED: return v1::ERROR_CODE_CANCELLED;
    case EBUSY: case EXDEV: return v1::ERROR_CODE_FAILED_PRECONDITION;
    // Nothing serves the socket (forward.Open): its server is gone.
    case ECONNREFUSED: return v1::ERROR_CODE_UNAVAILABLE;
    default: return v1::ERROR_CODE_IO_ERROR;
  }
}

void service_registry::add(std::shared_ptr<service> svc, bool enabled) {
  if (!enabled) return add_disabled(svc->name(), {});
  svc->add_methods(*this);
  services_.push_back(std::move(svc));
}

void service_registry::add_disabled(std::string_view name, std::string reason) {
  disabled_.insert_or_assign(std::string(name) + ".", std::move(reason));
}

void service_registry::add_method(std::string method, method_handler handler, audit_summary summary) {
  methods_.insert_or_assign(std::move(method), method_entry{std::move(handler), std::move(summary)});
}

service_registry::lookup service_registry::find(std::string_view method) const {
  if (auto it = methods_.find(method); it != methods_.end()) return {&it->second.handler, &it->second.summary, false, {}};
  const auto dot = method.find('.');
  if (dot == std::string_view::npos) return {};
  if (auto it = disabled_.find(method.substr(0, dot + 1)); it != disabled_.end()) return {nullptr, nullptr, true, it->second};
  return {};
}

std::vector<std::string> service_registry::enabled_services() const {
  std::vector<std::string> out;
  for (const auto& s : services_) out.emplace_back(s->name());
  return out;
}

void service_registry::stop_all() {
  for (const auto& s : services_) s->stop();
}

}  // namespace tether::agent
