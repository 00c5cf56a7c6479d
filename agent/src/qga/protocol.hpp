// The QGA protocol (QAPI/QMP style) above the byte stream: requests
// {"execute": NAME, "arguments": {...}, "id": ANY}, replies {"return": V}
// or {"error": {"class": C, "desc": D}}, with the request's "id" echoed as
// qemu-ga does. Messages and classes follow Debian 12's qemu-ga 7.2
// (qapi/qmp-dispatch.c), checked against the binary.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace tether::agent::qga {

namespace json = boost::json;

// A command's failure as QAPI reports it.
class qga_error : public std::runtime_error {
 public:
  explicit qga_error(const std::string& desc, std::string cls = "GenericError")
      : std::runtime_error(desc), class_(std::move(cls)) {}
  const std::string& error_class() const { return class_; }

 private:
  std::string class_;
};

struct request {
  std::string execute;
  json::object arguments;
  std::optional<json::value> id;  // echoed in the reply
};

// Parses one value cut by json_stream into `out`. Throws qga_error with qemu-ga's
// texts: "QMP input must be a JSON object", "QMP input member 'x' is
// unexpected", "JSON parse error, ..." (the id is echoed only when the
// object itself was understood: `out.id` is set before a throw).
void parse_request(std::string_view text, request& out);

// {"return": value[, "id": id]}
std::string reply_return(const json::value& value, const std::optional<json::value>& id);
// {"error": {"class": cls, "desc": desc}[, "id": id]}
std::string reply_error(const std::string& cls, const std::string& desc, const std::optional<json::value>& id);

// JSON text as qemu-ga writes it: ", " and ": " separators, strings
// ASCII-only (\uXXXX escapes; invalid UTF-8 becomes U+FFFD), so a reply is
// valid JSON whatever bytes a guest file name or command output held.
std::string to_text(const json::value& v);

}  // namespace tether::agent::qga
