// A command's "arguments" as QAPI visits them: each parameter is taken by
// name and type, and what no one took is an error. The messages are
// qemu-ga's (qapi/qobject-input-visitor.c), which scripts match on:
// "Parameter 'id' is missing", "Invalid parameter type for 'id', expected:
// integer", "Parameter 'x' is unexpected".
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "qga/protocol.hpp"

namespace tether::agent::qga {

class args {
 public:
  // `prefix` names the object in messages: "vcpus[0]." for a list's element.
  explicit args(const json::object& o, std::string prefix = {}) : o_(o), prefix_(std::move(prefix)) {}

  std::int64_t integer(std::string_view name);
  std::optional<std::int64_t> opt_integer(std::string_view name);
  std::string string(std::string_view name);
  std::optional<std::string> opt_string(std::string_view name);
  bool boolean(std::string_view name);
  std::optional<bool> opt_boolean(std::string_view name);
  std::vector<std::string> strings(std::string_view name);
  std::optional<std::vector<std::string>> opt_strings(std::string_view name);
  // The raw value (alternates: "bool or enum"), marked as taken.
  const json::value* opt_value(std::string_view name);
  const json::value& value(std::string_view name) { return need(name); }

  // After the last parameter: fails on any the command does not take.
  void done() const;

 private:
  const json::value* take(std::string_view name);
  const json::value& need(std::string_view name);

  std::string full(std::string_view name) const { return prefix_ + std::string(name); }

  const json::object& o_;
  std::string prefix_;
  std::set<std::string, std::less<>> taken_;
};

[[noreturn]] void wrong_type(std::string_view name, std::string_view expected);
// "Parameter 'NAME' does not accept value 'V'" (an enum's unknown value).
[[noreturn]] void bad_enum(std::string_view name, std::string_view value);

}  // namespace tether::agent::qga
