// guest-fstrim (FITRIM on the filesystems fsfreeze considers) and
// guest-ssh-get-authorized-keys (read through the files service's policy),
// with qemu-ga 7.2's replies and messages.
#include <fcntl.h>
#include <linux/fs.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>

#include "qga/file_handles.hpp"
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

std::string authorized_keys_path(const std::string& user) {
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw qga_error("failed to lookup user '" + user + "': " + std::strerror(errno));
  return std::string(pw->pw_dir) + "/.ssh/authorized_keys";
}

json::value authorized_keys(file_handles& files, const std::string& user) {
  const auto path = authorized_keys_path(user);
  const auto fd = files.policy().open(
      path, O_RDONLY, "failed to read '" + path + "': Failed to open file \u201C" + path + "\u201D");
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw qga_error("failed to read '" + path + "': " + std::strerror(errno));
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (4u << 20)) throw qga_error("'" + path + "' is larger than 4 MiB");
  }
  json::array keys;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') keys.push_back(json::string(line));
  return json::object{{"keys", std::move(keys)}};
}

}  // namespace

void add_maintenance_commands(std::vector<command_def>& t) {
  t.push_back({"guest-ssh-get-authorized-keys", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto user = c.a.string("username");
                 c.a.done();
                 co_return authorized_keys(c.agent.files(), user);
               }});
  t.push_back({"guest-fstrim", "", [](command_call& c) -> awaitable<json::value> {
                 const auto minimum = c.a.opt_integer("minimum").value_or(0);
                 c.a.done();
                 co_return fstrim(static_cast<std::uint64_t>(minimum));
               }});
}

}  // namespace tether::agent::qga
