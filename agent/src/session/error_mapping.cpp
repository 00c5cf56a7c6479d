#include "session/error_mapping.hpp"

#include "tether/agent/service.hpp"
#include "tether/common/asio.hpp"
#include "tether/common/utf8.hpp"
#include "tether/wire/error.hpp"

namespace tether::agent {

v1::ErrorCode error_code_for(const std::error_code& ec) {
  const auto& cat = ec.category();
  if (cat == std::generic_category() || cat == std::system_category()) return error_code_from_errno(ec.value());
  if (cat == wire::codec_category())
    return static_cast<wire::codec_error>(ec.value()) == wire::codec_error::frame_too_large
               ? v1::ERROR_CODE_FRAME_TOO_LARGE
               : v1::ERROR_CODE_PROTOCOL_ERROR;
  if (cat == wire::remote_category() && v1::ErrorCode_IsValid(ec.value()) && ec.value() != v1::ERROR_CODE_OK)
    return static_cast<v1::ErrorCode>(ec.value());
  return v1::ERROR_CODE_IO_ERROR;
}

v1::ErrorCode error_code_for(const boost::system::error_code& ec) {
  // Boost's system and generic categories convert to std's, so errno values
  // take the same path; other Boost categories (Asio's misc, netdb) do not
  // match any above and give IO_ERROR.
  return error_code_for(static_cast<std::error_code>(ec));
}

namespace {

// Why the session cut a call short, in the words the host sees.
std::string cancel_message(v1::ErrorCode reason) {
  switch (reason) {
    case v1::ERROR_CODE_CANCELLED: return "call cancelled";
    case v1::ERROR_CODE_DEADLINE_EXCEEDED: return "call exceeded its deadline";
    case v1::ERROR_CODE_PROTOCOL_ERROR: return "call ended: the host broke the stream protocol (credit or stream number)";
    case v1::ERROR_CODE_RESOURCE_EXHAUSTED:
      return "call ended: the host sent more data than the agent holds unread (limits.max_buffered_bytes)";
    default: return "call ended by the agent";
  }
}

}  // namespace

v1::Status status_for(std::exception_ptr e, v1::ErrorCode cancel_reason) {
  v1::Status st;
  try {
    std::rethrow_exception(e);
  } catch (const call_error& x) {
    st.set_code(x.code());
    st.set_message(x.what());
  } catch (const boost::system::system_error& x) {
    if (x.code() == asio::error::operation_aborted) {
      const auto reason = cancel_reason != v1::ERROR_CODE_OK ? cancel_reason : v1::ERROR_CODE_CANCELLED;
      st.set_code(reason);
      st.set_message(cancel_message(reason));
    } else {
      st.set_code(error_code_for(x.code()));
      st.set_message(x.what());
    }
  } catch (const std::system_error& x) {
    st.set_code(error_code_for(x.code()));
    st.set_message(x.what());
  } catch (const std::exception& x) {
    st.set_code(v1::ERROR_CODE_INTERNAL);
    st.set_message(std::string("internal error: ") + x.what());
  } catch (...) {
    st.set_code(v1::ERROR_CODE_INTERNAL);
    st.set_message("internal error: an exception of unknown type");
  }
  // Messages quote what the host sent (paths, names): a byte that is not
  // UTF-8 would make the host reject the whole frame.
  st.set_message(valid_utf8(st.message()));
  return st;
}

}  // namespace tether::agent
