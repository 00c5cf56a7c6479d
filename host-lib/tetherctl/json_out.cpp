#include "json_out.hpp"

#include <google/protobuf/descriptor.h>

#include <cmath>
#include <iostream>
#include <map>

namespace tetherctl::json {

namespace pb = google::protobuf;

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    char32_t cp, min;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return false;
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond Unicode are
    // not UTF-8 (RFC 3629).
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string base64(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    for (int shift : {18, 12, 6, 0}) out += digits[(v >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i) {
    const std::uint32_t v = (p[i] << 16) | (rest == 2 ? p[i + 1] << 8 : 0);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += rest == 2 ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

// The rule, applied to a whole document in place.
void encode(bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      if (!valid_utf8(v.get_string())) v = bj::object{{"base64", base64(v.get_string())}};
      break;
    case bj::kind::double_:
      if (!std::isfinite(v.get_double())) v = nullptr;
      break;
    case bj::kind::array:
      for (auto& e : v.get_array()) encode(e);
      break;
    case bj::kind::object: {
      auto& o = v.get_object();
      // Keys cannot be objects: one that is not UTF-8 (udev and os-release
      // keys are ASCII; protobuf map keys are UTF-8) is marked and encoded.
      bool keys_ok = true;
      for (auto& [k, e] : o) {
        keys_ok = keys_ok && valid_utf8(k);
        encode(e);
      }
      if (!keys_ok) {
        bj::object fixed;
        for (auto& [k, e] : o) fixed.emplace(valid_utf8(k) ? std::string(k) : "base64:" + base64(k), std::move(e));
        o = std::move(fixed);
      }
      break;
    }
    default:
      break;
  }
}

bj::value scalar(const pb::Message& m, const pb::FieldDescriptor* f, int index) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  using F = pb::FieldDescriptor;
  switch (f->cpp_type()) {
    case F::CPPTYPE_INT32: return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case F::CPPTYPE_INT64: return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case F::CPPTYPE_UINT32: return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case F::CPPTYPE_UINT64: return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case F::CPPTYPE_DOUBLE: return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case F::CPPTYPE_FLOAT: return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case F::CPPTYPE_BOOL: return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case F::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      // A value this build does not know (a newer agent): its number.
      if (const auto* e = f->enum_type()->FindValueByNumber(v)) return bj::string(e->name());
      return v;
    }
    case F::CPPTYPE_STRING: {
      std::string scratch;
      return bj::string(rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                            : r->GetStringReference(m, f, &scratch));
    }
    case F::CPPTYPE_MESSAGE:
      return from_proto(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

// map<K, V> fields: an object, keys sorted.
bj::object map_field(const pb::Message& m, const pb::FieldDescriptor* f) {
  const pb::Reflection* r = m.GetReflection();
  const auto* key = f->message_type()->map_key();
  const auto* value = f->message_type()->map_value();
  std::map<std::string, bj::value> sorted;
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const pb::Message& entry = r->GetRepeatedMessage(m, f, i);
    const std::string name = key->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING
                                 ? entry.GetReflection()->GetString(entry, key)
                                 : bj::serialize(scalar(entry, key, -1));
    sorted.insert_or_assign(name, scalar(entry, value, -1));
  }
  bj::object o;
  for (auto& [k, v] : sorted) o.emplace(k, std::move(v));
  return o;
}

}  // namespace

bj::object from_proto(const pb::Message& m) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  bj::object o;
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_map()) {
      o.emplace(f->name(), map_field(m, f));
    } else if (f->is_repeated()) {
      bj::array a;
      for (int k = 0; k < r->FieldSize(m, f); ++k) a.push_back(scalar(m, f, k));
      o.emplace(f->name(), std::move(a));
    } else if (!f->has_presence() || r->HasField(m, f)) {
      o.emplace(f->name(), scalar(m, f, -1));
    }
  }
  return o;
}

void print(bj::value v) {
  encode(v);
  std::cout << bj::serialize(v) << std::endl;
}

}  // namespace tetherctl::json
