#include "errors.hpp"

#include <optional>

#include <pybind11/pybind11.h>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "tether/error.hpp"

namespace tether::py {
namespace {

// Stable names of the local conditions (tether.errors maps them to classes).
const char* local_name(std::error_code ec) {
  if (ec.category() != tether::category()) return "INTERNAL";
  switch (static_cast<errc>(ec.value())) {
    case errc::connection_failed: return "CONNECTION_FAILED";
    case errc::handshake_failed: return "HANDSHAKE_FAILED";
    case errc::timeout: return "TIMEOUT";
    case errc::cancelled: return "CANCELLED";
    case errc::connection_lost: return "CONNECTION_LOST";
    case errc::protocol_error: return "PROTOCOL_ERROR";
    case errc::limit_exceeded: return "LIMIT_EXCEEDED";
    case errc::closed: return "CLOSED";
    case errc::invalid_argument: return "INVALID_ARGUMENT";
    case errc::data_loss: return "DATA_LOSS";
    case errc::local_io: return "LOCAL_IO";
    case errc::libvirt_failed: return "LIBVIRT_FAILED";
    case errc::no_such_domain: return "NO_SUCH_DOMAIN";
    case errc::domain_not_running: return "DOMAIN_NOT_RUNNING";
    case errc::no_agent_channel: return "NO_AGENT_CHANNEL";
  }
  return "INTERNAL";
}

pybind11::object make(bool remote, const char* code, const char* message) {
  return pybind11::module_::import("tether.errors").attr("_from_native")(remote, code, message);
}

// The exception object of a libtether failure; none for other exceptions.
std::optional<pybind11::object> tether_exception(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const tether::error& e) {
    if (e.is_remote()) return make(true, remote_errc_name(e.remote_code()).c_str(), e.what());
    return make(false, local_name(e.code()), e.what());
  } catch (const boost::system::system_error& e) {
    // Asio's own conditions inside the library (e.g. operation_aborted).
    return make(false, e.code() == boost::asio::error::operation_aborted ? "CANCELLED" : "INTERNAL", e.what());
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

void register_error_translator() {
  pybind11::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    if (auto exc = tether_exception(p))
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc->ptr())), exc->ptr());
    else
      std::rethrow_exception(p);  // pybind11's own translators take it from here
  });
}

pybind11::object exception_object(std::exception_ptr p) {
  if (auto exc = tether_exception(p)) return *exc;
  try {
    std::rethrow_exception(p);
  } catch (const pybind11::error_already_set& e) {
    return e.value();
  } catch (const std::exception& e) {
    return make(false, "INTERNAL", e.what());
  } catch (...) {
    return make(false, "INTERNAL", "unknown C++ exception");
  }
}

}  // namespace tether::py
