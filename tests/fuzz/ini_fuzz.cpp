// The INI reader of agent.conf and guests.d (common/src/ini.cpp): any text
// gives lines, never an exception, and every line keeps the dialect's promises.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "check.hpp"
#include "tether/common/ini.hpp"

namespace {

using tether::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small limits too, so the too-long path is reached by short inputs.
  for (const auto& l : {tether::ini::limits{}, tether::ini::limits{.max_file_bytes = 64, .max_line_bytes = 16}}) {
    std::size_t last = 0;
    for (const auto& line : tether::ini::parse(text, l)) {
      check(line.number > last);  // file order, one entry per line
      last = line.number;
      if (line.what == tether::ini::line::kind::pair) {
        check(!line.key.empty());
        check(line.key.find('=') == std::string::npos);
        try {
          for (const auto& item : tether::ini::split_list(line.value)) check(!item.empty());
        } catch (const std::invalid_argument&) {
        }
      }
      if (line.what == tether::ini::line::kind::error) check(!line.message.empty());
    }
  }
  return 0;
}
