// Text that goes into a protobuf `string` field must be valid UTF-8: the
// peer's parser rejects the whole frame otherwise (and with it the
// connection). Error messages quote what the peer sent (paths, names), so
// they are made valid here before they go out.
#pragma once

#include <string>
#include <string_view>

namespace tether {

// `s` with every byte that does not belong to a valid UTF-8 sequence
// replaced by U+FFFD; valid text is returned unchanged.
std::string valid_utf8(std::string_view s);

}  // namespace tether
