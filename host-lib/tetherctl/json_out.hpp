// tetherctl's one JSON writer (Boost.JSON) for every --json output.
//
// Commands build a boost::json::value with the bytes they got as strings;
// print() applies the encoding rule to every string in it on the way out:
// a JSON string when the bytes are valid UTF-8, otherwise an object
// {"base64": "<RFC 4648 base64 of the bytes>"}. So the output is always
// valid JSON and decodes back to exactly the bytes (README, "--json").
// Numbers that JSON cannot carry (NaN, infinities) become null.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace tetherctl::json {

namespace bj = boost::json;

// One JSON document on one stdout line, by the rule above, flushed
// (consumers read line by line).
void print(bj::value v);

bool valid_utf8(std::string_view s);
std::string base64(std::string_view bytes);

}  // namespace tetherctl::json
