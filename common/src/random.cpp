#include "tether/common/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace tether {

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(s.data() + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0 || errno != EINTR) {
      throw std::system_error(r == 0 ? EIO : errno, std::generic_category(), "getrandom");
    }
  }
  return s;
}

}  // namespace tether
