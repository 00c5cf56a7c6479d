#include "qga/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <cctype>

#include "qga/protocol.hpp"

namespace tether::agent::qga {

namespace b64 = boost::beast::detail::base64;

std::string encode_base64(std::string_view bytes) {
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

std::string decode_base64(std::string_view text) {
  for (const char ch : text)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '/' || ch == '='))
      throw qga_error("Base64 data contains invalid characters");
  std::string out(b64::decoded_size(text.size()), '\0');
  out.resize(b64::decode(out.data(), text.data(), text.size()).first);
  return out;
}

}  // namespace tether::agent::qga
