// tetherctl's one JSON writer (Boost.JSON) for every --json output.
//
// Encoding rule for bytes from the guest (command output, file names, paths,
// udev properties): a JSON string when the bytes are valid UTF-8, otherwise
// an object {"base64": "<RFC 4648 base64 of the bytes>"}. So the output is
// always valid JSON and decodes back to exactly the bytes (README, "--json").
#pragma once

#include <google/protobuf/message.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace tetherctl::json {

namespace bj = boost::json;

// Bytes by the rule above.
bj::value text(std::string_view bytes);
// A number; not finite (NaN, infinity) → null, which JSON can carry.
bj::value number(double v);
// A protobuf message as an object with the .proto field names: scalars
// without presence always, optional scalars and messages when set, enums by
// name, 64-bit integers as numbers, string and bytes fields by the rule above.
bj::object from_proto(const google::protobuf::Message& m);

// One JSON document on one stdout line, flushed (consumers read line by line).
void print(const bj::value& v);

bool valid_utf8(std::string_view s);
std::string base64(std::string_view bytes);

}  // namespace tetherctl::json
