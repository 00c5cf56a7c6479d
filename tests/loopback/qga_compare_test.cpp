// tether-agent's QGA front end side by side with the real qemu-ga (Debian
// 12's 7.2) on this machine: the same requests to both over unix sockets,
// and the replies compared: same keys, same JSON types, same error classes
// and messages, equal values except where they are volatile (a pid, a
// clock, traffic counters). Only commands that are safe to run on the test
// host: nothing that freezes, sets the time, suspends or powers off.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <set>

#include "support/agent_process.hpp"
#include "support/qemu_ga_process.hpp"
#include "support/qga_client.hpp"
#include "support/qga_compare.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;

class QgaCompare : public ::testing::Test {
 protected:
  temp_dir dir;
  qemu_ga_process reference{dir.path()};
  agent_process agent{{"--qga-listen-unix", dir.path() + "/tether-qga.sock", "--power-simulate", "--audit", "off"}};
  qga_client qemu_ga{reference.socket_path(), std::chrono::seconds(20)};
  qga_client tether{dir.path() + "/tether-qga.sock", std::chrono::seconds(20)};

  qga_pair compare{qemu_ga, tether};

  using pair = qga_pair::replies;
  pair ask_both(const std::string& a, const std::string& b) { return compare.ask_both(a, b); }
  pair expect_same(const std::string& text, const std::set<std::string>& loose = {}) {
    return compare.expect_same(text, loose);
  }
  pair expect_same_replies(const std::string& a, const std::string& b, const std::set<std::string>& loose = {}) {
    return compare.expect_same_replies(a, b, loose);
  }
  void on_handles(const pair& opened, const std::string& cmd, const std::string& rest) {
    compare.on_handles(opened, cmd, rest);
  }
  void expect_same_exec(const std::string& exec_args) { compare.expect_same_exec(exec_args); }
};

TEST_F(QgaCompare, ProtocolErrorsAndSyncAreTheSame) {
  for (const char* req : {
           "{\"execute\":\"guest-ping\"}",
           "{\"execute\":\"guest-ping\",\"id\":5}",
           "{\"execute\":\"guest-ping\",\"id\":{\"a\":[1,\"x\"]}}",
           "{\"execute\":\"guest-no-such-command\",\"id\":3}",
           "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1},\"id\":4}",
           "{\"execute\":\"guest-ping\",\"extra\":1,\"id\":2}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":123}}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-5}}",
           "{\"execute\":\"guest-sync\"}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"a\"}}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1.5}}",
           "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":77}}",
           "{\"exec\":\"guest-ping\"}",
           "{\"id\":1,\"arguments\":{}}",
           "[1,2]",
           "\"str\"",
           "{\"execute\":1}",
           "{\"execute\":\"guest-ping\",\"arguments\":[]}",
       })
    expect_same(req);
}

TEST_F(QgaCompare, ParseErrorsAreGenericErrorsAndTheNextRequestIsAnswered) {
  const auto r = ask_both("garbage", "garbage");
  EXPECT_EQ(r.qemu_ga.at("error").at("class"), "GenericError");
  EXPECT_EQ(r.tether.at("error").at("class"), "GenericError");
  expect_same("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":9}}");
}

TEST_F(QgaCompare, SystemFactsAreTheSame) {
  expect_same("{\"execute\":\"guest-get-host-name\"}");
  expect_same("{\"execute\":\"guest-get-osinfo\"}");
  expect_same("{\"execute\":\"guest-get-timezone\"}");
  expect_same("{\"execute\":\"guest-get-vcpus\"}");
  expect_same("{\"execute\":\"guest-get-users\"}", {".return", ".return[].login-time"});
  expect_same("{\"execute\":\"guest-get-time\"}", {".return"});
  expect_same("{\"execute\":\"guest-fsfreeze-status\"}");
  expect_same("{\"execute\":\"guest-get-fsinfo\"}", {".return[].used-bytes", ".return[].total-bytes"});
  expect_same("{\"execute\":\"guest-get-disks\"}");
  expect_same("{\"execute\":\"guest-get-memory-block-info\"}");
  // Read-only: an unknown user, and one whose home does not exist.
  expect_same(R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"no-such-user-x"}})");
  expect_same(R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"nobody"}})");
  expect_same("{\"execute\":\"guest-get-memory-blocks\"}");
  // Counters move between the two requests: compared by type and shape.
  compare.expect_same_counters();
}

TEST_F(QgaCompare, GuestInfoListsTetherCommandsAsQemuGaDoes) {
  const auto lists = compare.compare_guest_info();
  EXPECT_TRUE(json::parse(tether.request("{\"execute\":\"guest-info\"}")).at("return").at("version").is_string());
  // Every command tether serves is qemu-ga 7.2's, but for newer qemu-ga's.
  EXPECT_EQ(lists.only_tether, (std::set<std::string>{"guest-get-load", "guest-network-get-route"}));
}

TEST_F(QgaCompare, FileCallsAnswerTheSame) {
  {
    std::ofstream(dir.path() + "/f.txt") << "hello world\n";
  }
  const std::string path = dir.path() + "/f.txt";
  auto opened = expect_same("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + path + "\"}}", {".return"});
  auto both = [&](const std::string& cmd, const std::string& rest) { on_handles(opened, cmd, rest); };
  both("guest-file-read", ",\"count\":5");
  both("guest-file-read", "");
  both("guest-file-read", "");
  both("guest-file-seek", ",\"offset\":2,\"whence\":\"set\"");
  both("guest-file-seek", ",\"offset\":-1,\"whence\":2");
  both("guest-file-seek", ",\"offset\":0,\"whence\":\"bogus\"");
  both("guest-file-seek", ",\"offset\":0,\"whence\":7");
  both("guest-file-read", ",\"count\":-1");
  both("guest-file-read", ",\"count\":100000000");
  both("guest-file-write", ",\"buf-b64\":\"aGVsbG8=\"");  // opened read-only
  both("guest-file-flush", "");
  both("guest-file-close", "");
  both("guest-file-close", "");

  expect_same("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + path + "\",\"mode\":\"zz\"}}");
  expect_same("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + dir.path() + "/none/x\"}}");
  expect_same("{\"execute\":\"guest-file-read\",\"arguments\":{\"handle\":123456}}");

  // Writing: each agent its own file, then both read back.
  auto w = ask_both("{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + dir.path() + "/a.out\",\"mode\":\"w+\"}}",
                    "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"" + dir.path() + "/b.out\",\"mode\":\"w+\"}}");
  auto both_w = [&](const std::string& cmd, const std::string& rest) { on_handles(w, cmd, rest); };
  both_w("guest-file-write", ",\"buf-b64\":\"aGVsbG8=\",\"count\":3");
  both_w("guest-file-write", ",\"buf-b64\":\"aGVsbG8=\",\"count\":30");
  both_w("guest-file-write", ",\"buf-b64\":\"!!!\"");
  both_w("guest-file-write", ",\"buf-b64\":\"IHdvcmxk\"");
  both_w("guest-file-seek", ",\"offset\":0,\"whence\":\"set\"");
  both_w("guest-file-read", "");
  both_w("guest-file-close", "");
}

TEST_F(QgaCompare, ExecReportsTheSameEnd) {
  expect_same_exec(R"({"path":"/bin/sh","arg":["-c","echo out; echo err >&2; exit 3"],"capture-output":true})");
  expect_same_exec(R"({"path":"/bin/sh","arg":["-c","echo out; exit 0"]})");
  expect_same_exec(R"({"path":"/bin/sh","arg":["-c","kill -9 $$"]})");
  expect_same_exec(R"({"path":"cat","input-data":"aGVsbG8=","capture-output":true})");
  expect_same_exec(R"({"path":"/usr/bin/env","env":["A=1","B=two"],"capture-output":true})");
  expect_same("{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/no/such/program\"}}");
  expect_same("{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"cat\",\"input-data\":\"!!\"}}");
  expect_same("{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":1}}");
}

}  // namespace
}  // namespace tether::test
