// One guests.d file (host-lib/src/guests_dir.cpp parse_guest): any text
// gives a usable guest or at least one error naming the file.
#include <cstdint>
#include <cstdlib>

#include "check.hpp"
#include "tether/power.hpp"

namespace {

using tether::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string file = "/etc/tether/guests.d/fuzz.conf";
  std::vector<std::string> errors;
  const auto guest = tether::power::parse_guest(text, file, errors);
  if (guest) {
    check(errors.empty());
    check(!guest->name.empty());
    check(!guest->socket.empty() && guest->socket[0] == '/');
    check(guest->qmp.empty() || guest->qmp[0] == '/');
    check(guest->file == file);
  } else {
    check(!errors.empty());
    for (const auto& e : errors) check(e.rfind(file, 0) == 0);
  }
  return 0;
}
