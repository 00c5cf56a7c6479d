#include "tether/error.hpp"

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
    }
    return "unknown tether error";
  }
};

}  // namespace

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
      return true;
    default:
      return false;
  }
}

}  // namespace tether
