#include "qga/protocol.hpp"

#include <cstdio>
#include <utility>

namespace tether::agent::qga {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns U+FFFD (advancing one byte)
// for anything invalid, overlong or a surrogate.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  int len = 0;
  char32_t cp = 0, min = 0;
  if (c < 0x80) { ++i; return c; }
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
  else { ++i; return 0xFFFD; }
  if (i + len > s.size()) { ++i; return 0xFFFD; }
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) { ++i; return 0xFFFD; }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { ++i; return 0xFFFD; }
  i += len;
  return cp;
}

void append_u16(std::string& out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04X", v);
  out += buf;
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      append_u16(out, static_cast<unsigned>(cp));
    } else {
      const char32_t v = cp - 0x10000;
      append_u16(out, 0xD800 + static_cast<unsigned>(v >> 10));
      append_u16(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
    }
  }
  out += '"';
}

void append_value(std::string& out, const json::value& v);

// Items of an object or array between `open` and `close`, ", " apart.
template <class Range, class Item>
void append_items(std::string& out, char open, const Range& items, char close, Item item) {
  out += open;
  const char* sep = "";
  for (const auto& i : items) {
    out += std::exchange(sep, ", ");
    item(i);
  }
  out += close;
}

void append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      append_items(out, '{', v.get_object(), '}', [&](const json::key_value_pair& kv) {
        append_string(out, kv.key());
        out += ": ";
        append_value(out, kv.value());
      });
      return;
    case json::kind::array:
      append_items(out, '[', v.get_array(), ']', [&](const json::value& e) { append_value(out, e); });
      return;
    case json::kind::string: append_string(out, v.get_string()); return;
    default: out += json::serialize(v); return;
  }
}

}  // namespace

std::string to_text(const json::value& v) {
  std::string out;
  append_value(out, v);
  return out;
}

void parse_request(std::string_view text, request& r) {
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 1100;  // json_stream enforces qemu's 1024 first
  json::value v = json::parse(text, ec, {}, po);
  if (ec) throw qga_error("JSON parse error, " + ec.message());
  if (!v.is_object()) throw qga_error("QMP input must be a JSON object");
  auto& o = v.get_object();
  // The id first: qemu-ga echoes it even when the rest is wrong.
  if (auto* id = o.if_contains("id")) r.id = *id;
  for (const auto& kv : o) {
    const std::string key(kv.key());
    if (key == "execute") {
      if (!kv.value().is_string()) throw qga_error("QMP input member 'execute' must be a string");
      r.execute = std::string(kv.value().get_string());
    } else if (key == "arguments") {
      if (!kv.value().is_object()) throw qga_error("QMP input member 'arguments' must be an object");
      r.arguments = kv.value().get_object();
    } else if (key != "id") {
      throw qga_error("QMP input member '" + key + "' is unexpected");
    }
  }
  if (!o.contains("execute")) throw qga_error("QMP input lacks member 'execute'");
}

std::string reply_return(const json::value& value, const std::optional<json::value>& id) {
  json::object o;
  o["return"] = value;
  if (id) o["id"] = *id;
  return to_text(o);
}

std::string reply_error(const std::string& cls, const std::string& desc, const std::optional<json::value>& id) {
  json::object o;
  o["error"] = json::object{{"class", cls}, {"desc", desc}};
  if (id) o["id"] = *id;
  return to_text(o);
}

}  // namespace tether::agent::qga
