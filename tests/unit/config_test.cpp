#include "config/config_file.hpp"
#include "config/settings.hpp"

#include <gtest/gtest.h>

#include "support/build_paths.hpp"
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace tether::agent {
namespace {

using namespace std::string_literals;

agent_options parse(std::string_view text) {
  agent_options o;
  apply_config(text, "test.conf", o);
  return o;
}

// The config_error message for `text`, or "" if it parsed.
std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// A file in a fresh temp dir, removed at the end of the test.
class temp_file {
 public:
  explicit temp_file(const std::string& text) {
    char tmpl[] = "/tmp/tether-config-test-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ + "/agent.conf";
    std::ofstream(path_) << text;
  }
  ~temp_file() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

parse_result parse_argv(std::vector<std::string> args) {
  args.insert(args.begin(), "tether-agent");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_args(static_cast<int>(args.size()), argv.data());
}

TEST(ConfigFile, AppliesEveryKeyOfAGoodFile) {
  const auto o = parse(R"(# a comment
  # an indented comment

[services]
allow = ping, info, stats, devices, exec
deny = devices

[files]
roots = /srv/data, /var//lib/../tmp/

[exec]
enabled = no
users = root, tester, 1000

[limits]
max_frame_size = 65536
max_concurrent_calls = 7
stream_window = 8192
event_window = 16

[devices]
udev_ring_size = 32
udev_reorder_ms = 0

[power]
host_halt_dir = /etc/halt-hooks
method = kernel

[log]
level = debug
audit = off
)");
  EXPECT_EQ(o.config.source, "test.conf");
  ASSERT_TRUE(o.config.services_allow.has_value());
  EXPECT_EQ(*o.config.services_allow, (std::set<std::string>{"ping", "info", "stats", "devices", "exec"}));
  EXPECT_EQ(o.config.services_deny, std::set<std::string>{"devices"});
  EXPECT_EQ(o.config.files_roots, (std::vector<std::string>{"/srv/data", "/var/tmp"}));
  EXPECT_FALSE(o.config.exec_enabled);
  EXPECT_EQ(o.config.exec_users, (std::vector<std::string>{"root", "tester", "1000"}));
  EXPECT_EQ(o.limits.max_frame_size, 65536u);
  EXPECT_EQ(o.limits.max_concurrent_calls, 7u);
  EXPECT_EQ(o.limits.initial_stream_window, 8192u);
  EXPECT_EQ(o.limits.initial_event_window, 16u);
  EXPECT_EQ(o.devices.ring_capacity, 32u);
  EXPECT_EQ(o.devices.reorder_window, std::chrono::milliseconds(0));
  EXPECT_EQ(o.power.host_halt_dir, "/etc/halt-hooks");
  EXPECT_EQ(o.power.method, power::method_choice::kernel);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_FALSE(o.audit);
}

TEST(ConfigFile, AcceptsBlankValuesCrlfLineEndsAndSpacesAroundEverything) {
  const auto o = parse("[ files ]\r\n  roots   =   \r\n[exec]\r\nusers=\r\n\t enabled=yes \r\n");
  EXPECT_TRUE(o.config.files_roots.empty());
  EXPECT_TRUE(o.config.exec_users.empty());
  EXPECT_TRUE(o.config.exec_enabled);
}

TEST(ConfigFile, TreatsAHashAfterTheStartOfALineAsPartOfTheValue) {
  EXPECT_EQ(parse("[files]\nroots = /srv/#data\n").config.files_roots, std::vector<std::string>{"/srv/#data"});
}

TEST(ConfigFile, AnEmptyFileKeepsTheDefaults) {
  const agent_options defaults;
  const auto o = parse("");
  EXPECT_EQ(o.limits.max_concurrent_calls, defaults.limits.max_concurrent_calls);
  EXPECT_FALSE(o.config.services_allow.has_value());
  EXPECT_TRUE(o.config.files_roots.empty());
  EXPECT_TRUE(o.config.exec_enabled);
  for (auto name : known_services)
    if (name != "forward") EXPECT_TRUE(o.config.service_enabled(name)) << name;
  // forward is off until forward.sockets lists sockets.
  EXPECT_FALSE(o.config.service_enabled("forward"));
  EXPECT_NE(o.config.disabled_reason("forward").find("forward.sockets is empty"), std::string::npos);
}

TEST(ConfigFile, ReportsFileAndLineOfEachError) {
  struct bad {
    std::string text, message;
  };
  const bad cases[] = {
      {"[limits]\n\nmax_calls = 3\n",
       "test.conf:3: unknown key 'max_calls' in [limits] (known: event_window, max_buffered_bytes, max_concurrent_calls, "
       "max_frame_size, stream_window)"},
      {"# c\n[limit]\n", "test.conf:2: unknown section [limit] (known: [devices], [exec], [files], [forward], "
                         "[limits], [log], [power], [qga], [services])"},
      {"max_frame_size = 4096\n", "test.conf:1: 'max_frame_size' is outside a section; put it under [limits]"},
      {"[limits\n", "test.conf:1: a section header needs a closing ']'"},
      {"[exec]\nenabled\n", "test.conf:2: expected 'key = value', a [section] header or a # comment"},
      {"[exec]\n= true\n", "test.conf:2: missing key before '='"},
      {"[limits]\nmax_frame_size = 1k\n",
       "test.conf:2: limits.max_frame_size needs a number from 4096 to 67108864, got '1k'"},
      {"[limits]\nmax_concurrent_calls = 0\n",
       "test.conf:2: limits.max_concurrent_calls needs a number from 1 to 1048576, got '0'"},
      {"[limits]\nevent_window =\n", "test.conf:2: limits.event_window needs a number from 1 to 1048576, got ''"},
      {"[limits]\nmax_concurrent_calls = -1\n",
       "test.conf:2: limits.max_concurrent_calls needs a number from 1 to 1048576, got '-1'"},
      {"[exec]\nenabled = maybe\n", "test.conf:2: exec.enabled needs true or false, got 'maybe'"},
      {"[exec]\nusers = root, -rf\n", "test.conf:2: exec.users has an invalid user name '-rf'"},
      {"[exec]\nusers = root,,tester\n",
       "test.conf:2: exec.users has an empty list item (items are separated by commas)"},
      {"[services]\ndeny = stats, exce\n",
       "test.conf:2: services.deny names unknown service 'exce' (known: ping, info, stats, devices, exec, files, "
       "power, forward, fsfreeze)"},
      {"[forward]\nsockets = run/*.sock\n", "test.conf:2: forward.sockets needs absolute patterns, got 'run/*.sock'"},
      {"[services]\nallow =\n",
       "test.conf:2: services.allow is empty; list the services to serve, or remove the key to serve all"},
      {"[files]\nroots = /srv, data\n", "test.conf:2: files.roots needs absolute paths, got 'data'"},
      {"[power]\nmethod = acpi\n",
       "test.conf:2: power.method needs auto, logind, systemd or kernel, got 'acpi'"},
      {"[power]\nhost_halt_dir = hooks\n", "test.conf:2: power.host_halt_dir needs an absolute directory, got 'hooks'"},
      {"[log]\nlevel = loud\n",
       "test.conf:2: log.level needs error, warning, notice, info or debug, got 'loud'"},
      {"[limits]\nevent_window = 1\n[exec]\n[limits]\nevent_window = 2\n",
       "test.conf:5: limits.event_window is set twice (first on line 2)"},
      {"[exec]\nusers = a\0b\n"s, "test.conf:2: contains a control character"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.text), c.message) << c.text;
}

TEST(ConfigFile, ABadFileChangesNothing) {
  agent_options o;
  EXPECT_THROW(apply_config("[limits]\nmax_concurrent_calls = 5\nbogus = 1\n", "x.conf", o), config_error);
  EXPECT_EQ(o.limits.max_concurrent_calls, agent_options{}.limits.max_concurrent_calls);
  EXPECT_TRUE(o.config.source.empty());
}

TEST(ConfigFile, DenyWinsOverAllowAndEachReasonNamesTheKeyAndTheFile) {
  const auto o = parse("[services]\nallow = ping, stats\ndeny = stats\n[exec]\nenabled = false\n");
  EXPECT_TRUE(o.config.service_enabled("ping"));
  EXPECT_FALSE(o.config.service_enabled("stats"));
  EXPECT_FALSE(o.config.service_enabled("info"));
  EXPECT_EQ(o.config.disabled_reason("ping"), "");
  EXPECT_EQ(o.config.disabled_reason("stats"),
            "'stats' is listed in services.deny in test.conf; remove it there to enable it");
  EXPECT_EQ(o.config.disabled_reason("info"),
            "'info' is not listed in services.allow in test.conf; add it there to enable it");

  const auto e = parse("[exec]\nenabled = off\n");
  EXPECT_FALSE(e.config.service_enabled("exec"));
  EXPECT_EQ(e.config.disabled_reason("exec"), "exec.enabled is false in test.conf; set it to true to enable exec");
  EXPECT_TRUE(e.config.service_enabled("files"));
}

TEST(ConfigFile, ReadsAFileAndTellsAMissingOptionalFileFromAMissingRequiredOne) {
  temp_file f("[limits]\nmax_concurrent_calls = 9\n");
  agent_options o;
  EXPECT_TRUE(load_config_file(f.path(), true, o));
  EXPECT_EQ(o.limits.max_concurrent_calls, 9u);
  EXPECT_EQ(o.config.source, f.path());

  const std::string missing = f.path() + ".missing";
  agent_options untouched;
  EXPECT_FALSE(load_config_file(missing, false, untouched));
  EXPECT_TRUE(untouched.config.source.empty());
  try {
    load_config_file(missing, true, untouched);
    ADD_FAILURE() << "a missing required file must fail";
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open config file: No such file or directory");
  }
  EXPECT_THROW(load_config_file("/tmp", true, untouched), config_error);
  EXPECT_THROW(load_config_file("/dev/zero", true, untouched), config_error);
  // /dev/null is an empty config (tests use it to ignore /etc).
  EXPECT_TRUE(load_config_file("/dev/null", true, untouched));
  EXPECT_EQ(untouched.config.source, "/dev/null");
}

TEST(ConfigFile, RefusesAFileLargerThanOneMebibyte) {
  temp_file f("# " + std::string(1u << 20, 'x') + "\n");
  agent_options o;
  EXPECT_THROW(load_config_file(f.path(), true, o), config_error);
}

TEST(AgentFlags, OverrideValuesFromTheConfigFile) {
  temp_file f("[limits]\nmax_concurrent_calls = 3\nevent_window = 5\n[log]\nlevel = debug\n");
  const auto r = parse_argv({"--config", f.path(), "--max-calls", "7", "--log-level=error"});
  EXPECT_EQ(r.options.limits.max_concurrent_calls, 7u);  // flag wins
  EXPECT_EQ(r.options.limits.initial_event_window, 5u);  // file value kept
  EXPECT_EQ(r.options.log_level, "error");
  EXPECT_EQ(r.options.config.source, f.path());

  // The order on the command line does not matter: the file is read first.
  const auto r2 = parse_argv({"--max-calls=7", "--config=" + f.path()});
  EXPECT_EQ(r2.options.limits.max_concurrent_calls, 7u);
}

TEST(AgentFlags, FilesRootAndExecUserReplaceTheListsOfTheConfigFile) {
  temp_file f("[files]\nroots = /srv, /var\n[exec]\nusers = root\n");
  const auto r = parse_argv({"--config", f.path(), "--files-root", "/tmp", "--files-root=/opt"});
  EXPECT_EQ(r.options.config.files_roots, (std::vector<std::string>{"/tmp", "/opt"}));
  EXPECT_EQ(r.options.config.exec_users, std::vector<std::string>{"root"});
  const auto r2 = parse_argv({"--config", f.path(), "--exec-user", "tester"});
  EXPECT_EQ(r2.options.config.exec_users, std::vector<std::string>{"tester"});
  EXPECT_EQ(r2.options.config.files_roots, (std::vector<std::string>{"/srv", "/var"}));
}

TEST(AgentFlags, AuditIsOnByDefaultAndTheFlagOverridesTheFile) {
  EXPECT_TRUE(agent_options{}.audit);
  temp_file f("[log]\naudit = off\n");
  EXPECT_FALSE(parse_argv({"--config", f.path()}).options.audit);
  EXPECT_TRUE(parse_argv({"--config", f.path(), "--audit", "on"}).options.audit);
  EXPECT_THROW(parse_argv({"--audit", "maybe"}), usage_error);
}

TEST(AgentFlags, PowerFlagsOverrideThePowerSection) {
  temp_file f("[power]\nmethod = logind\nhost_halt_dir = /etc/a\n");
  const auto r = parse_argv({"--config", f.path(), "--power-method=kernel", "--power-simulate"});
  EXPECT_EQ(r.options.power.method, power::method_choice::kernel);
  EXPECT_EQ(r.options.power.host_halt_dir, "/etc/a");
  EXPECT_TRUE(r.options.power.simulate);
  EXPECT_THROW(parse_argv({"--power-method", "acpi"}), usage_error);
  EXPECT_EQ(parse_argv({"--host-halt-dir", "/x"}).options.power.host_halt_dir, "/x");
}

TEST(AgentFlags, AnExplicitConfigThatIsMissingOrBadIsAnError) {
  EXPECT_THROW(parse_argv({"--config", "/nonexistent/tether/agent.conf"}), config_error);
  temp_file f("[limits]\nmax_calls = 3\n");
  EXPECT_THROW(parse_argv({"--config", f.path()}), config_error);
  EXPECT_THROW(parse_argv({"--max-calls", "0"}), usage_error);
  EXPECT_THROW(parse_argv({"--no-such-flag"}), usage_error);
  EXPECT_THROW(parse_argv({"--config"}), usage_error);
}

TEST(AgentFlags, CheckConfigValidatesAndAsksToExit) {
  temp_file f("[exec]\nenabled = false\n");
  const auto r = parse_argv({"--config", f.path(), "--check-config"});
  EXPECT_TRUE(r.exit_now);
  EXPECT_FALSE(r.options.config.exec_enabled);
}

// What a flag or a key refuses, with the name in front cut off: both paths
// go through the one setting, so the rest of the message is the same.
std::string flag_error(const std::string& flag, const std::string& value) {
  try {
    parse_argv({"--config", "/dev/null", flag, value});
  } catch (const usage_error& e) {
    const std::string what = e.what();
    return what.starts_with(flag + " ") ? what.substr(flag.size() + 1) : "unexpected: " + what;
  }
  return "";
}

std::string key_error(const setting& s, const std::string& value) {
  const std::string e = error_of("[" + std::string(s.section) + "]\n" + std::string(s.key) + " = " + value + "\n");
  const std::string head = "test.conf:2: " + s.dotted() + " ";
  return e.starts_with(head) ? e.substr(head.size()) : "unexpected: " + e;
}

TEST(AgentSettings, AFlagRefusesWhatItsConfigKeyRefusesWithTheSameWords) {
  const std::map<std::string, std::string> bad = {
      {"--files-root", "data"},        {"--exec-user", "-rf"},      {"--host-halt-dir", "hooks"},
      {"--max-frame-size", "1k"},      {"--max-calls", "0"},        {"--stream-window", "4095"},
      {"--event-window", "-1"},        {"--max-buffered", "65535"}, {"--udev-ring-size", "15"},
      {"--udev-reorder-ms", "60001"},  {"--power-method", "acpi"},  {"--log-level", "loud"},
      {"--audit", "maybe"},            {"--forward-socket", "x.sock"},   {"--qga-port", "dev/x"},
      {"--qga-allow", "guest-nope"},   {"--qga-block", "guest-nope"},   {"--qga-fsfreeze-hook", "hook"},
      {"--qga-freeze-limit-ms", "999"}, {"--qga-freeze-host-gone-ms", "0"},
  };
  std::size_t both = 0;
  for (const auto& s : settings()) {
    if (s.flag.empty() || !s.has_key()) continue;
    ++both;
    const auto it = bad.find(std::string(s.flag));
    ASSERT_NE(it, bad.end()) << s.flag << " has a config key: add a bad value for it here";
    const auto from_flag = flag_error(it->first, it->second);
    EXPECT_NE(from_flag, "") << it->first << " accepted '" << it->second << "'";
    EXPECT_EQ(from_flag, key_error(s, it->second)) << it->first;
  }
  EXPECT_EQ(both, bad.size());
}

TEST(AgentSettings, RelativeFilesRootsBadExecUsersAndRelativeHookDirsAreRefusedOnBothPaths) {
  EXPECT_EQ(flag_error("--files-root", "data"), "needs absolute paths, got 'data'");
  EXPECT_EQ(error_of("[files]\nroots = data\n"), "test.conf:2: files.roots needs absolute paths, got 'data'");
  EXPECT_EQ(flag_error("--exec-user", "a b"), "has an invalid user name 'a b'");
  EXPECT_EQ(flag_error("--exec-user", ""), "has an invalid user name ''");
  EXPECT_EQ(flag_error("--host-halt-dir", "hooks"), "needs an absolute directory, got 'hooks'");
  EXPECT_EQ(flag_error("--host-halt-dir", ""), "needs an absolute directory, got ''");
}

TEST(AgentSettings, AFilesRootFlagIsNormalisedLikeTheKey) {
  EXPECT_EQ(parse_argv({"--config", "/dev/null", "--files-root", "/var//lib/../tmp/"}).options.config.files_roots,
            parse("[files]\nroots = /var//lib/../tmp/\n").config.files_roots);
  EXPECT_EQ(parse("[files]\nroots = /var//lib/../tmp/\n").config.files_roots, std::vector<std::string>{"/var/tmp"});
}

TEST(AgentSettings, ASwitchTakesNoValueAndAValueFlagNeedsOne) {
  EXPECT_THROW(parse_argv({"--power-simulate=yes"}), usage_error);
  EXPECT_THROW(parse_argv({"--config", "/dev/null", "--log-level"}), usage_error);
}

TEST(AgentHelp, ListsEveryFlagWithItsConfigKeyAndTheDefaultsTheCodeUses) {
  const std::string help = usage_text();
  for (const auto& s : settings()) {
    if (s.flag.empty()) continue;
    EXPECT_NE(help.find("  " + std::string(s.flag)), std::string::npos) << s.flag;
  }
  // Wrapped and padded: compare with each run of blanks as one space.
  const std::string flat = std::regex_replace(help, std::regex("\\s+"), " ");
  for (const auto& s : settings()) {
    if (!s.flag.empty() && s.has_key()) {
      EXPECT_NE(flat.find("config: " + s.dotted()), std::string::npos) << s.flag;
    }
  }
  EXPECT_NE(flat.find("(default 1024); config: limits.max_concurrent_calls"), std::string::npos) << flat;
  EXPECT_NE(flat.find("--config PATH agent config file (default " + default_config_path()), std::string::npos);
  for (const auto& line : {std::string("--help"), std::string("--version")})
    EXPECT_NE(help.find(line), std::string::npos);
}

// The shipped /etc/tether/agent.conf documents each key as a commented-out
// `#key = value` line. Uncommented, every such line must be a valid key, and
// the limits it shows must be the defaults the code really uses.
TEST(ShippedConfig, DocumentsOnlyValidKeysAndTheRealDefaults) {
  std::ifstream in(std::string(tether::test::source_dir) + "/config/agent.conf");
  ASSERT_TRUE(in) << "config/agent.conf not found";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string shipped = ss.str();

  const auto as_is = parse(shipped);  // all defaults: nothing is set
  EXPECT_FALSE(as_is.config.services_allow.has_value());
  EXPECT_TRUE(as_is.config.services_deny.empty());

  const std::string uncommented = std::regex_replace(shipped, std::regex("^#([a-z_]+ =)", std::regex::multiline), "$1");
  ASSERT_NE(uncommented, shipped);
  const auto all = parse(uncommented);
  const agent_options defaults;
  EXPECT_EQ(all.limits.max_frame_size, defaults.limits.max_frame_size);
  EXPECT_EQ(all.limits.max_concurrent_calls, defaults.limits.max_concurrent_calls);
  EXPECT_EQ(all.limits.initial_stream_window, defaults.limits.initial_stream_window);
  EXPECT_EQ(all.limits.initial_event_window, defaults.limits.initial_event_window);
  EXPECT_EQ(all.devices.ring_capacity, defaults.devices.ring_capacity);
  EXPECT_EQ(all.devices.reorder_window, defaults.devices.reorder_window);
  EXPECT_EQ(all.log_level, defaults.log_level);
  EXPECT_EQ(all.audit, defaults.audit);
  EXPECT_EQ(all.config.exec_enabled, defaults.config.exec_enabled);
  EXPECT_EQ(all.power.host_halt_dir, defaults.power.host_halt_dir);
  EXPECT_EQ(all.power.method, defaults.power.method);
  EXPECT_EQ(all.qga.mode, defaults.qga.mode);
}

// Every key of the settings table is documented in the shipped file, as a
// commented-out `#key = ` line under its section.
TEST(ShippedConfig, DocumentsEveryKeyOfTheSettingsTable) {
  std::ifstream in(std::string(tether::test::source_dir) + "/config/agent.conf");
  ASSERT_TRUE(in) << "config/agent.conf not found";
  std::string line, section;
  std::set<std::string> documented;
  while (std::getline(in, line)) {
    if (line.starts_with("[")) section = line.substr(1, line.find(']') - 1);
    std::smatch m;
    if (std::regex_search(line, m, std::regex("^#([a-z_]+) =")) && !section.empty())
      documented.insert(section + "." + m[1].str());
  }
  for (const auto& s : settings()) {
    if (s.has_key()) {
      EXPECT_TRUE(documented.contains(s.dotted())) << s.dotted() << " is not in config/agent.conf";
    }
  }
}

// [qga] enabled = auto (the default): QGA's standard port is tether's only
// where qemu-ga is not installed, so the two never race for the port.
TEST(QgaServing, AutoTakesTheStandardPortOnlyWhereQemuGaIsNotInstalled) {
  temp_file qemu_ga("#!/bin/sh\n");
  std::filesystem::permissions(qemu_ga.path(), std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  auto o = parse("");
  ASSERT_EQ(o.qga.mode, qga::serve_mode::unless_qemu_ga);
  o.qga.qemu_ga_binaries = {"/nonexistent/qemu-ga", qemu_ga.path()};
  resolve_qga(o.qga);
  EXPECT_FALSE(o.qga.enabled);
  EXPECT_TRUE(o.qga.ports.empty());
  EXPECT_EQ(o.qga.qemu_ga_found, qemu_ga.path());

  auto without = parse("[qga]\nenabled = auto\n");
  without.qga.qemu_ga_binaries = {"/nonexistent/qemu-ga"};
  resolve_qga(without.qga);
  EXPECT_TRUE(without.qga.enabled);
  EXPECT_EQ(without.qga.ports, std::vector<std::string>{qga::default_port});
  EXPECT_EQ(without.qga.qemu_ga_found, "");
}

TEST(QgaServing, TrueServesBesideQemuGaFalseNeverAndExplicitPortsAlways) {
  temp_file qemu_ga("#!/bin/sh\n");
  std::filesystem::permissions(qemu_ga.path(), std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  const auto resolved = [&](std::string_view text) {
    auto o = parse(text);
    o.qga.qemu_ga_binaries = {qemu_ga.path()};
    resolve_qga(o.qga);
    return o.qga;
  };
  EXPECT_EQ(resolved("[qga]\nenabled = true\n").ports, std::vector<std::string>{qga::default_port});
  EXPECT_FALSE(resolved("[qga]\nenabled = off\n").enabled);
  const auto explicit_port = resolved("[qga]\nenabled = false\nports = org.example.qga.1\n");
  EXPECT_TRUE(explicit_port.enabled);
  EXPECT_EQ(explicit_port.ports, std::vector<std::string>{"org.example.qga.1"});
  EXPECT_EQ(error_of("[qga]\nenabled = maybe\n"),
            "test.conf:2: qga.enabled needs true, false or auto, got 'maybe'");
}

}  // namespace
}  // namespace tether::agent
