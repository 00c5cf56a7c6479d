#include "tether/common/frames.hpp"

#include "tether/common/utf8.hpp"
#include "tether/wire/codec.hpp"

namespace tether::frames {

v1::Frame hello(v1::Hello::Role role, std::string software_version) {
  v1::Frame f;
  auto* h = f.mutable_hello();
  h->set_protocol_version(wire::protocol_version);
  h->set_role(role);
  h->set_software_version(std::move(software_version));
  return f;
}

std::string with_preamble(const v1::Frame& frame) {
  std::string out;
  wire::append_preamble(out);
  wire::append_frame(out, frame);
  return out;
}

v1::Frame credit(std::uint64_t call_id, std::uint32_t stream, std::uint64_t bytes) {
  v1::Frame f;
  auto* c = f.mutable_credit();
  c->set_call_id(call_id);
  c->set_stream(stream);
  c->set_bytes(bytes);
  return f;
}

v1::Frame end_of_stream(std::uint64_t call_id, std::uint32_t stream) {
  v1::Frame f;
  auto* d = f.mutable_data();
  d->set_call_id(call_id);
  d->set_stream(stream);
  d->set_eof(true);
  return f;
}

v1::Frame cancel(std::uint64_t call_id) {
  v1::Frame f;
  f.mutable_cancel()->set_call_id(call_id);
  return f;
}

v1::Frame error(v1::ErrorCode code, std::string message, std::uint64_t call_id) {
  v1::Frame f;
  auto* e = f.mutable_error();
  e->mutable_status()->set_code(code);
  e->mutable_status()->set_message(valid_utf8(message));
  e->set_call_id(call_id);
  return f;
}

v1::Frame error_response(std::uint64_t call_id, v1::ErrorCode code, std::string message) {
  v1::Frame f;
  auto* r = f.mutable_response();
  r->set_call_id(call_id);
  r->mutable_status()->set_code(code);
  r->mutable_status()->set_message(valid_utf8(message));
  return f;
}

}  // namespace tether::frames
