// guest-ssh-get/add/remove-authorized-keys: a user's ~/.ssh/authorized_keys,
// read and replaced through the files service's policy ([files] roots), with
// qemu-ga 7.2's replies, messages and file semantics (commands-posix-ssh.c):
// keys are whole lines; add appends the ones not there yet (reset: starts
// from none), remove drops every line equal to one of the keys; other lines
// (comments, options) stay; ~/.ssh is created 0700 and the file left 0600,
// both owned by the user; get lists the keys last line first, as 7.2 does.
//
// Better than qemu-ga: the file always ends with a newline (qemu-ga joins
// the lines without one, so a later `echo KEY >> authorized_keys` glues two
// keys), a file that exists but cannot be read is an error instead of being
// overwritten as empty, and the new file is written whole, fsynced and
// renamed into place (files::atomic_file).
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "files/atomic_file.hpp"
#include "qga/file_handles.hpp"
#include "qga/qga_agent.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent::qga {
namespace {

constexpr std::size_t max_file = 4u << 20;

struct user_files {
  std::string home, dir, path;
  uid_t uid = 0;
  gid_t gid = 0;
};

user_files lookup(const std::string& user) {
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw qga_error("failed to lookup user '" + user + "': " + std::strerror(errno));
  const std::string home = pw->pw_dir;
  return {home, home + "/.ssh", home + "/.ssh/authorized_keys", pw->pw_uid, pw->pw_gid};
}

// The file's lines as qemu-ga splits them, without the empty one after a
// final newline; nullopt when the file does not exist and `missing_ok`.
std::optional<std::vector<std::string>> read_lines(const files::path_policy& policy, const std::string& path,
                                                   bool missing_ok) {
  unique_fd fd;
  try {
    fd = policy.open(path, O_RDONLY, "failed to read '" + path + "': Failed to open file \u201C" + path + "\u201D");
  } catch (const call_error& e) {
    if (missing_ok && e.code() == v1::ERROR_CODE_NOT_FOUND) return std::nullopt;
    throw;
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw qga_error("failed to read '" + path + "': " + std::strerror(errno));
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_file) throw qga_error("failed to read '" + path + "': larger than 4 MiB");
  }
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto nl = text.find('\n', at);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(at));
      break;
    }
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

// qemu-ga's check_openssh_pub_key, and an empty key, which qemu-ga takes
// (as a blank line).
void check_keys(const std::vector<std::string>& keys) {
  for (const auto& k : keys)
    if (k.empty() || k[0] == '#' || k.find('\n') != std::string::npos)
      throw qga_error("invalid OpenSSH public key: '" + k + "'");
}

void make_ssh_dir(const files::path_policy& policy, const user_files& u) {
  const auto at = policy.locate(u.dir, "failed to create directory '" + u.dir + "'");
  if (::mkdirat(at.dir.get(), at.name.c_str(), 0700) != 0) {
    if (errno == EEXIST) return;  // qemu-ga leaves an existing directory as it is
    throw qga_error("failed to create directory '" + u.dir + "': " + std::strerror(errno));
  }
  if (::fchownat(at.dir.get(), at.name.c_str(), u.uid, u.gid, AT_SYMLINK_NOFOLLOW) != 0)
    throw qga_error("failed to set ownership of directory '" + u.dir + "': " + std::strerror(errno));
  if (::fchmodat(at.dir.get(), at.name.c_str(), 0700, 0) != 0)  // past the umask
    throw qga_error("failed to set permissions of directory '" + u.dir + "': " + std::strerror(errno));
}

void write_lines(const files::path_policy& policy, const user_files& u, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  try {
    files::atomic_file f(policy.locate(u.path, "failed to write to '" + u.path + "'"), u.path);
    for (std::size_t done = 0; done < text.size();) {
      const auto n = ::write(f.fd(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category());
      done += static_cast<std::size_t>(n);
    }
    f.set_attributes(0600, u.uid, u.gid, std::nullopt);
    if (::fsync(f.fd()) != 0) throw std::system_error(errno, std::generic_category());
    f.commit(true);
  } catch (const std::system_error& e) {
    throw qga_error("failed to write to '" + u.path + "': " + std::strerror(e.code().value()));
  }
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

json::value add_keys(const files::path_policy& policy, const std::string& user,
                     const std::vector<std::string>& keys, bool reset) {
  check_keys(keys);
  const auto u = lookup(user);
  std::optional<std::vector<std::string>> lines;
  if (!reset) lines = read_lines(policy, u.path, true);
  if (!lines) {
    make_ssh_dir(policy, u);
    lines.emplace();
  }
  for (const auto& k : keys)
    if (!contains(*lines, k)) lines->push_back(k);  // also once within the request
  write_lines(policy, u, *lines);
  return json::object{};
}

json::value remove_keys(const files::path_policy& policy, const std::string& user,
                        const std::vector<std::string>& keys) {
  check_keys(keys);
  const auto u = lookup(user);
  auto lines = read_lines(policy, u.path, true);
  if (!lines) return json::object{};  // nothing to remove, nothing created
  std::erase_if(*lines, [&](const std::string& l) { return contains(keys, l); });
  write_lines(policy, u, *lines);
  return json::object{};
}

json::value get_keys(const files::path_policy& policy, const std::string& user) {
  const auto u = lookup(user);
  const auto lines = read_lines(policy, u.path, false);
  json::array out;
  // Last line first, as qemu-ga 7.2 lists them (it prepends each key).
  for (auto it = lines->rbegin(); it != lines->rend(); ++it) {
    auto l = *it;
    // g_strstrip: ASCII whitespace at both ends.
    const auto first = l.find_first_not_of(" \t\n\v\f\r");
    if (first == std::string::npos || l[first] == '#') continue;
    l = l.substr(first, l.find_last_not_of(" \t\n\v\f\r") + 1 - first);
    out.push_back(json::string(l));
  }
  return json::object{{"keys", std::move(out)}};
}

}  // namespace

void add_ssh_commands(std::vector<command_def>& t) {
  t.push_back({"guest-ssh-remove-authorized-keys", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto user = c.a.string("username");
                 const auto keys = c.a.strings("keys");
                 c.a.done();
                 co_return remove_keys(c.agent.files().policy(), user, keys);
               }});
  t.push_back({"guest-ssh-add-authorized-keys", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto user = c.a.string("username");
                 const auto keys = c.a.strings("keys");
                 const bool reset = c.a.opt_boolean("reset").value_or(false);
                 c.a.done();
                 co_return add_keys(c.agent.files().policy(), user, keys, reset);
               }});
  t.push_back({"guest-ssh-get-authorized-keys", "files", [](command_call& c) -> awaitable<json::value> {
                 const auto user = c.a.string("username");
                 c.a.done();
                 co_return get_keys(c.agent.files().policy(), user);
               }});
}

}  // namespace tether::agent::qga
