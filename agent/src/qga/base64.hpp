// Base64 as QGA carries bytes (guest-file-read/-write, guest-exec data).
#pragma once

#include <string>
#include <string_view>

namespace tether::agent::qga {

std::string encode_base64(std::string_view bytes);
// Throws qga_error "Base64 data contains invalid characters" (qemu-ga's
// words) for anything but the alphabet and padding.
std::string decode_base64(std::string_view text);

}  // namespace tether::agent::qga
