// guest-fstrim: FITRIM on the filesystems fsfreeze considers, with
// qemu-ga 7.2's reply.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "qga/fsfreeze.hpp"
#include "qga/qga_agent.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::qga {
namespace {

json::value fstrim(std::uint64_t minimum) {
  json::array paths;
  for (const auto& m : device_mounts()) {
    json::object r{{"path", m}};
    unique_fd fd(::open(m.c_str(), O_RDONLY | O_CLOEXEC));
    fstrim_range range{0, ULLONG_MAX, minimum};
    if (!fd) {
      r["error"] = std::string("failed to open: ") + std::strerror(errno);
    } else if (::ioctl(fd.get(), FITRIM, &range) != 0) {
      r["error"] = std::string("failed to trim: ") + std::strerror(errno);
    } else {
      r["trimmed"] = static_cast<std::int64_t>(range.len);
      r["minimum"] = static_cast<std::int64_t>(range.minlen);
    }
    paths.push_back(std::move(r));
  }
  return json::object{{"paths", std::move(paths)}};
}

}  // namespace

void add_fstrim_command(std::vector<command_def>& t) {
  t.push_back({"guest-fstrim", "", [](command_call& c) -> awaitable<json::value> {
                 const auto minimum = c.a.opt_integer("minimum").value_or(0);
                 c.a.done();
                 co_return fstrim(static_cast<std::uint64_t>(minimum));
               }});
}

}  // namespace tether::agent::qga
