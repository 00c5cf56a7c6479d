#include "qga/args.hpp"

namespace tether::agent::qga {

void wrong_type(std::string_view name, std::string_view expected) {
  throw qga_error("Invalid parameter type for '" + std::string(name) + "', expected: " + std::string(expected));
}

void bad_enum(std::string_view name, std::string_view value) {
  throw qga_error("Parameter '" + std::string(name) + "' does not accept value '" + std::string(value) + "'");
}

const json::value* args::take(std::string_view name) {
  taken_.emplace(name);
  return o_.if_contains(name);
}

const json::value& args::need(std::string_view name) {
  const auto* v = take(name);
  if (!v) throw qga_error("Parameter '" + full(name) + "' is missing");
  return *v;
}

namespace {

std::int64_t as_integer(const json::value& v, std::string_view name) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  wrong_type(name, "integer");
}

std::string as_string(const json::value& v, std::string_view name) {
  if (!v.is_string()) wrong_type(name, "string");
  return std::string(v.get_string());
}

}  // namespace

std::int64_t args::integer(std::string_view name) { return as_integer(need(name), full(name)); }

std::optional<std::int64_t> args::opt_integer(std::string_view name) {
  const auto* v = take(name);
  if (!v) return std::nullopt;
  return as_integer(*v, full(name));
}

std::string args::string(std::string_view name) { return as_string(need(name), full(name)); }

std::optional<std::string> args::opt_string(std::string_view name) {
  const auto* v = take(name);
  if (!v) return std::nullopt;
  return as_string(*v, full(name));
}

bool args::boolean(std::string_view name) {
  need(name);
  return *opt_boolean(name);
}

std::optional<bool> args::opt_boolean(std::string_view name) {
  const auto* v = take(name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) wrong_type(full(name), "boolean");
  return v->get_bool();
}

std::optional<std::vector<std::string>> args::opt_strings(std::string_view name) {
  const auto* v = take(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) wrong_type(full(name), "array");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->get_array().size(); ++i)
    out.push_back(as_string(v->get_array()[i], full(name) + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<std::string> args::strings(std::string_view name) {
  need(name);
  return *opt_strings(name);
}

const json::value* args::opt_value(std::string_view name) { return take(name); }

void args::done() const {
  for (const auto& kv : o_)
    if (!taken_.contains(std::string_view(kv.key())))
      throw qga_error("Parameter '" + full(kv.key()) + "' is unexpected");
}

}  // namespace tether::agent::qga
