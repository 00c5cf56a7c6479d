#include "tether/error.hpp"

#include "tether/wire/error.hpp"

namespace tether {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::connection_failed: return "cannot connect to the guest's socket";
      case errc::handshake_failed: return "no tether agent answered";
      case errc::timeout: return "timed out";
      case errc::cancelled: return "cancelled";
      case errc::connection_lost: return "connection to the agent lost";
      case errc::protocol_error: return "protocol error";
      case errc::limit_exceeded: return "limit exceeded";
      case errc::closed: return "client closed";
      case errc::invalid_argument: return "invalid argument";
      case errc::data_loss: return "data integrity check failed";
      case errc::local_io: return "local file error";
      case errc::libvirt_failed: return "libvirt failed";
      case errc::no_such_domain: return "no such libvirt domain";
      case errc::domain_not_running: return "libvirt domain not running";
      case errc::no_agent_channel: return "libvirt domain has no tether channel";
    }
    return "unknown tether error";
  }
};

}  // namespace

// remote_errc carries the wire's ErrorCode values unchanged, so a remote
// error_code made by the session (wire::make_error_code) compares equal to
// make_error_code(remote_errc::...).
#define TETHER_SAME_CODE(ours, wire) static_assert(static_cast<int>(remote_errc::ours) == v1::ERROR_CODE_##wire)
TETHER_SAME_CODE(ok, OK);
TETHER_SAME_CODE(unknown_method, UNKNOWN_METHOD);
TETHER_SAME_CODE(invalid_argument, INVALID_ARGUMENT);
TETHER_SAME_CODE(not_found, NOT_FOUND);
TETHER_SAME_CODE(permission_denied, PERMISSION_DENIED);
TETHER_SAME_CODE(already_exists, ALREADY_EXISTS);
TETHER_SAME_CODE(resource_exhausted, RESOURCE_EXHAUSTED);
TETHER_SAME_CODE(deadline_exceeded, DEADLINE_EXCEEDED);
TETHER_SAME_CODE(cancelled, CANCELLED);
TETHER_SAME_CODE(unavailable, UNAVAILABLE);
TETHER_SAME_CODE(disabled_by_config, DISABLED_BY_CONFIG);
TETHER_SAME_CODE(protocol_error, PROTOCOL_ERROR);
TETHER_SAME_CODE(frame_too_large, FRAME_TOO_LARGE);
TETHER_SAME_CODE(internal, INTERNAL);
TETHER_SAME_CODE(io_error, IO_ERROR);
TETHER_SAME_CODE(failed_precondition, FAILED_PRECONDITION);
TETHER_SAME_CODE(duplicate_call_id, DUPLICATE_CALL_ID);
TETHER_SAME_CODE(data_loss, DATA_LOSS);
static_assert(v1::ErrorCode_MAX == v1::ERROR_CODE_DATA_LOSS, "a new wire ErrorCode needs a remote_errc");
#undef TETHER_SAME_CODE

const std::error_category& remote_category() noexcept { return wire::remote_category(); }

std::string remote_errc_name(remote_errc e) { return wire::error_code_name(static_cast<v1::ErrorCode>(e)); }

const std::error_category& category() noexcept {
  static const category_impl c;
  return c;
}

bool error::is_connectivity() const noexcept {
  if (code().category() != category()) return false;
  switch (static_cast<errc>(code().value())) {
    case errc::connection_failed:
    case errc::handshake_failed:
    case errc::timeout:
    case errc::connection_lost:
    case errc::domain_not_running:  // it may be started
      return true;
    default:
      return false;
  }
}

}  // namespace tether
