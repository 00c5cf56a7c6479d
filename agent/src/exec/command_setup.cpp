#include "exec/command_setup.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "tether/agent/service.hpp"

extern char** environ;

namespace tether::agent::exec {
namespace {

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void invalid(const std::string& msg) {
  throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, msg);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string key_of(std::string_view entry) {
  return std::string(entry.substr(0, entry.find('=')));
}

struct user_entry {
  uid_t uid;
  gid_t gid;
  std::string name, home, shell;
};

// NSS lookups may in theory be slow (LDAP); guests use files, and they run
// once per exec, so they stay on the loop.
user_entry lookup_user(const std::string& user) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc;
  if (all_digits(user)) {
    uid_t uid = 0;
    std::from_chars(user.data(), user.data() + user.size(), uid);
    rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    if (rc == 0 && !found) return {uid, static_cast<gid_t>(uid), user, "/", "/bin/sh"};
  } else {
    rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  }
  if (rc != 0 || !found)
    throw call_error(v1::ERROR_CODE_NOT_FOUND, "user '" + user + "' does not exist in the guest" +
                                                   (rc ? std::string(": ") + std::strerror(rc) : ""));
  return {found->pw_uid, found->pw_gid, found->pw_name, found->pw_dir ? found->pw_dir : "/",
          found->pw_shell && *found->pw_shell ? found->pw_shell : "/bin/sh"};
}

gid_t lookup_group(const std::string& group) {
  if (all_digits(group)) {
    gid_t gid = 0;
    std::from_chars(group.data(), group.data() + group.size(), gid);
    return gid;
  }
  struct group g{};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  const int rc = ::getgrnam_r(group.c_str(), &g, buf.data(), buf.size(), &found);
  if (rc != 0 || !found)
    throw call_error(v1::ERROR_CODE_NOT_FOUND, "group '" + group + "' does not exist in the guest");
  return found->gr_gid;
}

std::vector<gid_t> groups_of(const std::string& name, gid_t gid) {
  int n = 64;
  std::vector<gid_t> groups(n);
  while (::getgrouplist(name.c_str(), gid, groups.data(), &n) < 0) groups.resize(n);
  groups.resize(n);
  return groups;
}

std::string agent_user_name() {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
  return std::to_string(::geteuid());
}

}  // namespace

std::vector<std::string> inherited_environment() {
  static constexpr std::string_view agent_only[] = {
      "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC"};
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const auto key = key_of(entry);
    if (std::find(std::begin(agent_only), std::end(agent_only), key) == std::end(agent_only))
      env.push_back(entry);
  }
  return env;
}

void apply_env_edits(std::vector<std::string>& env, const std::vector<std::string>& edits) {
  for (const auto& edit : edits) {
    const auto key = key_of(edit);
    std::erase_if(env, [&](const std::string& e) { return key_of(e) == key; });
    if (edit.find('=') != std::string::npos) env.push_back(edit);
  }
}

const std::string* find_env(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e[key.size()] == '=' && e.compare(0, key.size(), key) == 0) return &e;
  return nullptr;
}

std::string find_executable(const std::string& name, const std::string& path_var) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view rest = path_var;
  for (;;) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";  // an empty PATH element means the cwd
    std::string candidate = dir + "/" + name;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

spawn_spec prepare(const v1::ExecRequest& req, const exec_policy& policy) {
  if (req.argv().empty() || req.argv(0).empty()) invalid("exec needs a command (argv is empty)");
  for (const auto& a : req.argv())
    if (a.find('\0') != std::string::npos) invalid("an argument contains a NUL byte");
  for (const auto& e : req.env())
    if (e.empty() || e.front() == '=' || e.find('\0') != std::string::npos)
      invalid("environment entry '" + e + "' is not KEY=VALUE or KEY");
  if (req.cwd().find('\0') != std::string::npos) invalid("the working directory contains a NUL byte");
  if (req.tty() && (req.tty_rows() > 0xFFFF || req.tty_cols() > 0xFFFF)) invalid("terminal size out of range");

  spawn_spec spec;
  spec.argv.assign(req.argv().begin(), req.argv().end());
  spec.env = req.clear_env() ? std::vector<std::string>{} : inherited_environment();

  // The user database is read only when a policy needs the name: it is
  // several system calls per exec.
  if (!policy.allowed_users.empty()) {
    const std::string effective_user = req.user().empty() ? agent_user_name() : req.user();
    if (std::find(policy.allowed_users.begin(), policy.allowed_users.end(), effective_user) ==
        policy.allowed_users.end())
      throw call_error(v1::ERROR_CODE_DISABLED_BY_CONFIG,
                       "running commands as '" + effective_user +
                           "' is not allowed by the agent's configuration (exec.users)");
  }

  std::string home;
  if (!req.user().empty() || !req.group().empty()) {
    credentials c;
    if (!req.user().empty()) {
      const auto u = lookup_user(req.user());
      c.uid = u.uid;
      c.gid = u.gid;
      c.groups = groups_of(u.name, u.gid);
      home = u.home;
      std::vector<std::string> user_vars = {"HOME=" + u.home, "USER=" + u.name,
                                            "LOGNAME=" + u.name, "SHELL=" + u.shell};
      apply_env_edits(spec.env, user_vars);
    } else {
      c.uid = ::geteuid();
      c.gid = ::getegid();
      c.groups = {};
    }
    if (!req.group().empty()) {
      c.gid = lookup_group(req.group());
      if (req.user().empty()) c.groups = {c.gid};
    }
    spec.creds = std::move(c);
  }
  std::vector<std::string> edits(req.env().begin(), req.env().end());
  apply_env_edits(spec.env, edits);

  const auto* path = find_env(spec.env, "PATH");
  const std::string path_var = path ? path->substr(5) : default_path;
  spec.path = find_executable(spec.argv[0], path_var);
  if (spec.path.empty())
    throw call_error(v1::ERROR_CODE_NOT_FOUND,
                     "command '" + spec.argv[0] + "' not found in the guest (PATH=" + path_var + ")");

  if (!req.cwd().empty()) spec.cwd = req.cwd();
  else if (!home.empty() && ::access(home.c_str(), X_OK) == 0) spec.cwd = home;
  else spec.cwd = "/";

  spec.stdin_pipe = req.stdin();
  spec.merge_stderr = req.merge_stderr();
  spec.tty = req.tty();
  spec.tty_rows = req.tty_rows() ? static_cast<unsigned short>(req.tty_rows()) : 24;
  spec.tty_cols = req.tty_cols() ? static_cast<unsigned short>(req.tty_cols()) : 80;
  spec.die_with_agent = !req.keep_running();
  return spec;
}

}  // namespace tether::agent::exec
