// tether-agent's QGA front end on its own (the side-by-side comparison with
// qemu-ga is qga_compare_test.cpp): one policy with the protobuf services,
// exec's capture modes and truncation, state across host connections,
// guest-shutdown through the power service (simulated: it stops the agent).
#include <arpa/inet.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/agent_process.hpp"
#include "support/qga_client.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;

struct qga_agent_rig {
  temp_dir dir;
  std::string sock = dir.path() + "/qga.sock";
  agent_process agent;

  explicit qga_agent_rig(std::vector<std::string> args = {})
      : agent([&] {
          args.insert(args.end(), {"--qga-listen-unix", sock, "--audit", "off"});
          return args;
        }()) {}

  std::string config(const std::string& text) {
    const std::string path = dir.path() + "/agent.conf";
    std::ofstream(path) << text;
    return path;
  }
};

json::value ask(qga_client& c, const std::string& req) { return json::parse(c.request(req)); }

json::value exec_to_end(qga_client& c, const std::string& args) {
  const auto started = ask(c, "{\"execute\":\"guest-exec\",\"arguments\":" + args + "}");
  const auto pid = started.at("return").at("pid").as_int64();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto st = ask(c, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" + std::to_string(pid) + "}}");
    if (st.at("return").at("exited").as_bool()) return st.at("return");
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("command did not end: " + args);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll pacing
  }
}

TEST(QgaPolicy, AServiceDeniedInTheConfigIsDisabledThroughQgaToo) {
  temp_dir cfg_dir;
  const std::string cfg = cfg_dir.path() + "/agent.conf";
  std::ofstream(cfg) << "[services]\ndeny = exec, power\n[qga]\nblock = guest-get-time\n";
  qga_agent_rig rig({"--config", cfg});
  qga_client c(rig.sock, std::chrono::seconds(20));
  for (const char* cmd : {"guest-exec-status", "guest-shutdown", "guest-get-time"}) {
    const auto r = ask(c, std::string("{\"execute\":\"") + cmd + "\",\"arguments\":{\"pid\":1}}");
    EXPECT_EQ(r.at("error").at("class"), "CommandNotFound") << r;
    EXPECT_EQ(r.at("error").at("desc").as_string(), std::string("Command ") + cmd + " has been disabled") << r;
  }
  const auto info = ask(c, "{\"execute\":\"guest-info\"}");
  for (const auto& cmd : info.at("return").at("supported_commands").as_array()) {
    const auto& name = cmd.at("name").as_string();
    const bool off = name == "guest-exec" || name == "guest-exec-status" || name == "guest-shutdown" ||
                     name == "guest-suspend-ram" || name == "guest-suspend-disk" ||
                     name == "guest-suspend-hybrid" || name == "guest-get-time";
    EXPECT_EQ(cmd.at("enabled").as_bool(), !off) << name;
  }
  EXPECT_EQ(ask(c, "{\"execute\":\"guest-ping\"}"), json::parse("{\"return\":{}}"));
}

TEST(QgaPolicy, FileCommandsStayInsideTheFilesRoots) {
  qga_agent_rig rig({"--files-root", "/proc/self"});
  qga_client c(rig.sock, std::chrono::seconds(20));
  const auto outside = ask(c, "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/etc/hostname\"}}");
  EXPECT_EQ(outside.at("error").at("class"), "GenericError") << outside;
  const auto inside = ask(c, "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/proc/self/status\"}}");
  EXPECT_TRUE(inside.at("return").is_int64()) << inside;
}

TEST(QgaExec, CaptureModesOfNewerQemuGaAreServed) {
  qga_agent_rig rig;
  qga_client c(rig.sock, std::chrono::seconds(20));
  const std::string cmd = R"("path":"/bin/sh","arg":["-c","echo out; echo err >&2"])";
  const auto merged = exec_to_end(c, "{" + cmd + ",\"capture-output\":\"merged\"}");
  EXPECT_EQ(base64_decode(std::string(merged.at("out-data").as_string())), "out\nerr\n");
  EXPECT_FALSE(merged.as_object().contains("err-data"));
  const auto err_only = exec_to_end(c, "{" + cmd + ",\"capture-output\":\"stderr\"}");
  EXPECT_FALSE(err_only.as_object().contains("out-data"));
  EXPECT_EQ(base64_decode(std::string(err_only.at("err-data").as_string())), "err\n");
  const auto bad = ask(c, "{\"execute\":\"guest-exec\",\"arguments\":{" + cmd + ",\"capture-output\":\"both\"}}");
  EXPECT_EQ(bad.at("error").at("desc"), "Parameter 'capture-output' does not accept value 'both'");
}

TEST(QgaExec, OutputBeyond16MiBIsDroppedAndReportedAsTruncated) {
  qga_agent_rig rig;
  qga_client c(rig.sock, std::chrono::seconds(20));
  const auto r = exec_to_end(c, R"({"path":"/bin/sh","arg":["-c","head -c 17000000 /dev/zero; echo done >&2"],"capture-output":true})");
  EXPECT_EQ(base64_decode(std::string(r.at("out-data").as_string())).size(), 16u << 20);
  EXPECT_TRUE(r.at("out-truncated").as_bool());
  EXPECT_EQ(base64_decode(std::string(r.at("err-data").as_string())), "done\n");  // the command was not blocked
  EXPECT_EQ(r.at("exitcode"), 0);
}

TEST(QgaState, OpenFilesAndStartedCommandsOutliveTheHostConnection) {
  qga_agent_rig rig;
  std::int64_t handle = 0, pid = 0;
  {
    qga_client c(rig.sock, std::chrono::seconds(20));
    handle = ask(c, "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/proc/self/cmdline\"}}")
                 .at("return").as_int64();
    pid = ask(c, R"({"execute":"guest-exec","arguments":{"path":"/bin/echo","arg":["later"],"capture-output":true}})")
              .at("return").at("pid").as_int64();
  }
  qga_client again(rig.sock, std::chrono::seconds(20));
  const auto read = ask(again, "{\"execute\":\"guest-file-read\",\"arguments\":{\"handle\":" + std::to_string(handle) + "}}");
  EXPECT_GT(read.at("return").at("count").as_int64(), 0) << read;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  json::value st;
  do {
    st = ask(again, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" + std::to_string(pid) + "}}");
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
  } while (!st.at("return").at("exited").as_bool());
  EXPECT_EQ(base64_decode(std::string(st.at("return").at("out-data").as_string())), "later\n");
}

TEST(QgaSystem, LoadAsNewerQemuGaReportsIt) {
  qga_agent_rig rig;
  qga_client c(rig.sock, std::chrono::seconds(20));
  const auto r = ask(c, "{\"execute\":\"guest-get-load\"}").at("return");
  for (const char* k : {"load1", "load5", "load15"}) EXPECT_TRUE(r.at(k).is_double()) << r;
}

TEST(QgaPower, GuestShutdownGoesThroughThePowerServiceAndSendsNoReply) {
  temp_dir hooks;
  qga_agent_rig rig({"--power-simulate", "--power-method", "kernel", "--host-halt-dir", hooks.path()});
  qga_client c(rig.sock, std::chrono::seconds(20));
  const auto bad = ask(c, "{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"sleep\"}}");
  EXPECT_EQ(bad.at("error").at("desc"), "Parameter 'mode' expects 'halt', 'powerdown', or 'reboot'");
  // No reply: the next line on the socket would be the sync's answer, but
  // the simulated power-off stops the agent first.
  EXPECT_THROW(c.request("{\"execute\":\"guest-shutdown\"}", std::chrono::seconds(20)), std::runtime_error);
  const int st = rig.agent.stop(0, std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(st)) << "agent did not stop by itself (status " << st << ")";
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(QgaPower, SuspendToDiskIsRefusedWhereThereIsNoWayToHibernate) {
  // Simulated, and the kernel method has no sleep states: nothing happens here.
  qga_agent_rig rig({"--power-simulate", "--power-method", "kernel"});
  qga_client c(rig.sock, std::chrono::seconds(20));
  for (const char* cmd : {"guest-suspend-disk", "guest-suspend-hybrid"}) {
    const auto e = ask(c, std::string("{\"execute\":\"") + cmd + "\"}");
    EXPECT_EQ(e.at("error").at("class"), "GenericError") << e;
    EXPECT_NE(e.at("error").at("desc").as_string().find("is not supported without systemd"), std::string::npos) << e;
  }
  EXPECT_EQ(ask(c, "{\"execute\":\"guest-ping\"}").at("return"), json::object{});
}

TEST(QgaSsh, KeysOutsideTheFilesRootsAreNeitherReadNorWritten) {
  // Confined to a temp dir: root's home is outside, so nothing of this host
  // is touched; the checks before the lookup answer as qemu-ga's do.
  temp_dir root;
  qga_agent_rig rig({"--files-root", root.path()});
  qga_client c(rig.sock, std::chrono::seconds(20));
  for (const char* req : {
           R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"root","keys":["ssh-rsa X x"]}})",
           R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"root","keys":["ssh-rsa X x"],"reset":true}})",
           R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"root","keys":["ssh-rsa X x"]}})",
       }) {
    const auto e = ask(c, req);
    EXPECT_EQ(e.at("error").at("class"), "GenericError") << req << " " << e;
  }
  const auto bad = ask(c, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"root","keys":["ok","#x"]}})");
  EXPECT_EQ(bad.at("error").at("desc"), "invalid OpenSSH public key: '#x'");
  const auto missing = ask(c, R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"root"}})");
  EXPECT_EQ(missing.at("error").at("desc"), "Parameter 'keys' is missing");
  const auto typed = ask(c, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"root","keys":[1]}})");
  EXPECT_EQ(typed.at("error").at("desc"), "Invalid parameter type for 'keys[0]', expected: string");
  const auto user = ask(c, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"no-such-user-x","keys":["k"]}})");
  EXPECT_EQ(user.at("error").at("desc"), "failed to lookup user 'no-such-user-x': Success");
}

TEST(QgaSystem, RoutesAreTheKernelsTables) {
  qga_agent_rig rig;
  qga_client c(rig.sock, std::chrono::seconds(20));
  const auto r = ask(c, "{\"execute\":\"guest-network-get-route\"}").at("return").as_array();
  // Our own reading of the tables: interface and destination of each route.
  std::vector<std::string> want;
  std::ifstream v4("/proc/net/route");
  std::string line;
  std::getline(v4, line);  // the header
  while (std::getline(v4, line)) {
    std::istringstream f(line);
    std::string iface, hex;
    f >> iface >> hex;
    const auto d = static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
    want.push_back(iface + " " + std::to_string(d & 0xff) + "." + std::to_string(d >> 8 & 0xff) + "." +
                   std::to_string(d >> 16 & 0xff) + "." + std::to_string(d >> 24) + " 4");
  }
  std::ifstream v6("/proc/net/ipv6_route");
  while (std::getline(v6, line)) {
    std::istringstream f(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(f), {}};
    ASSERT_EQ(w.size(), 10u) << line;
    in6_addr a{};
    for (int i = 0; i < 16; ++i) a.s6_addr[i] = static_cast<std::uint8_t>(std::stoul(w[0].substr(2 * i, 2), nullptr, 16));
    char text[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, &a, text, sizeof text);
    want.push_back(w[9] + " " + text + " 6");
  }
  std::vector<std::string> got;
  for (const auto& e : r)
    got.push_back(std::string(e.at("iface").as_string()) + " " + std::string(e.at("destination").as_string()) + " " +
                  std::to_string(e.at("version").as_int64()));
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace tether::test
