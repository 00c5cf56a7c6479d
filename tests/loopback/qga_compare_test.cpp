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
#include <thread>

#include "support/agent_process.hpp"
#include "support/qemu_ga_process.hpp"
#include "support/qga_client.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;

std::string type_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64: case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "?";
}

// Differences between qemu-ga's reply `a` and tether's `b`, by path
// ("return.statistics.rx-bytes"; array elements as "[]"). Paths in
// `loose` are compared by type only.
void diff(const json::value& a, const json::value& b, const std::string& path, const std::set<std::string>& loose,
          std::vector<std::string>& out) {
  if (type_of(a) != type_of(b)) {
    out.push_back(path + ": " + type_of(a) + " vs " + type_of(b));
    return;
  }
  if (a.is_object()) {
    for (const auto& kv : a.as_object())
      if (!b.as_object().contains(kv.key())) out.push_back(path + "." + std::string(kv.key()) + ": missing in tether");
    for (const auto& kv : b.as_object()) {
      const std::string p = path + "." + std::string(kv.key());
      if (const auto* av = a.as_object().if_contains(kv.key())) diff(*av, kv.value(), p, loose, out);
      else out.push_back(p + ": not in qemu-ga's reply");
    }
    return;
  }
  if (a.is_array()) {
    const auto &x = a.as_array(), &y = b.as_array();
    if (x.size() != y.size() && !loose.contains(path)) out.push_back(path + ": " + std::to_string(x.size()) +
                                                                     " vs " + std::to_string(y.size()) + " items");
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) diff(x[i], y[i], path + "[]", loose, out);
    return;
  }
  if (!loose.contains(path) && a != b) out.push_back(path + ": " + json::serialize(a) + " vs " + json::serialize(b));
}

class QgaCompare : public ::testing::Test {
 protected:
  temp_dir dir;
  qemu_ga_process reference{dir.path()};
  agent_process agent{{"--qga-listen-unix", dir.path() + "/tether-qga.sock", "--power-simulate", "--audit", "off"}};
  qga_client qemu_ga{reference.socket_path(), std::chrono::seconds(20)};
  qga_client tether{dir.path() + "/tether-qga.sock", std::chrono::seconds(20)};

  struct pair {
    json::value qemu_ga, tether;
  };

  pair ask_both(const std::string& a_text, const std::string& b_text) {
    const auto a = qemu_ga.request(a_text);
    const auto b = tether.request(b_text);
    return {json::parse(a), json::parse(b)};
  }

  // Sends the request to both and expects the same reply (see diff()).
  pair expect_same(const std::string& text, const std::set<std::string>& loose = {}) {
    return expect_same_replies(text, text, loose);
  }
  // The same request, worded for each agent (its own handle or pid).
  pair expect_same_replies(const std::string& a_text, const std::string& b_text,
                           const std::set<std::string>& loose = {}) {
    auto r = ask_both(a_text, b_text);
    std::vector<std::string> d;
    diff(r.qemu_ga, r.tether, "", loose, d);
    std::string all;
    for (const auto& x : d) all += "\n  " + x;
    EXPECT_TRUE(d.empty()) << "request " << b_text << all << "\n qemu-ga: " << json::serialize(r.qemu_ga)
                           << "\n tether:  " << json::serialize(r.tether);
    return r;
  }

  // `cmd` on the handle each agent returned in `opened`, with the further
  // arguments `rest` (",\"count\":5").
  void on_handles(const pair& opened, const std::string& cmd, const std::string& rest) {
    auto req = [&](const json::value& r) {
      return "{\"execute\":\"" + cmd + "\",\"arguments\":{\"handle\":" +
             std::to_string(r.at("return").as_int64()) + rest + "}}";
    };
    expect_same_replies(req(opened.qemu_ga), req(opened.tether));
  }

  // guest-exec on both, then guest-exec-status until both report the end;
  // the final replies compared.
  void expect_same_exec(const std::string& exec_args) {
    auto started = expect_same("{\"execute\":\"guest-exec\",\"arguments\":" + exec_args + "}", {".return.pid"});
    const auto status = [](const json::value& r) {
      return "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":" +
             std::to_string(r.at("return").at("pid").as_int64()) + "}}";
    };
    auto wait_end = [&](qga_client& c, const std::string& req) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      for (;;) {
        auto r = json::parse(c.request(req));
        if (r.at("return").at("exited").as_bool()) return r;
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no end: " + req);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll pacing, as qemu-ga users poll
      }
    };
    const auto a = wait_end(qemu_ga, status(started.qemu_ga));
    const auto b = wait_end(tether, status(started.tether));
    std::vector<std::string> d;
    diff(a, b, "", {}, d);
    EXPECT_TRUE(d.empty()) << exec_args << "\n qemu-ga: " << json::serialize(a) << "\n tether:  " << json::serialize(b);
    // Reported once: then the pid is unknown to both.
    expect_same_replies(status(started.qemu_ga), status(started.tether));
  }
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
  std::set<std::string> cpu;
  for (const char* k : {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestnice"})
    cpu.insert(std::string(".return[].") + k);
  expect_same("{\"execute\":\"guest-get-cpustats\"}", cpu);
  std::set<std::string> disk;
  for (const char* k : {"read-ios", "read-merges", "read-sectors", "read-ticks", "write-ios", "write-merges",
                        "write-sectors", "write-ticks", "ios-pgr", "total-ticks", "weight-ticks", "discard-ios",
                        "discard-merges", "discard-sectors", "discard-ticks", "flush-ios", "flush-ticks"})
    disk.insert(std::string(".return[].stats.") + k);
  expect_same("{\"execute\":\"guest-get-diskstats\"}", disk);
  expect_same("{\"execute\":\"guest-network-get-interfaces\"}",
              {".return[].statistics.rx-bytes", ".return[].statistics.rx-packets", ".return[].statistics.tx-bytes",
               ".return[].statistics.tx-packets", ".return[].statistics.rx-dropped",
               ".return[].statistics.tx-dropped", ".return[].statistics.rx-errs", ".return[].statistics.tx-errs"});
}

TEST_F(QgaCompare, GuestInfoListsTetherCommandsAsQemuGaDoes) {
  const auto r = ask_both("{\"execute\":\"guest-info\"}", "{\"execute\":\"guest-info\"}");
  EXPECT_TRUE(r.tether.at("return").at("version").is_string());
  std::map<std::string, json::value> reference;
  for (const auto& c : r.qemu_ga.at("return").at("supported_commands").as_array())
    reference[std::string(c.at("name").as_string())] = c;
  std::set<std::string> only_tether;
  for (const auto& c : r.tether.at("return").at("supported_commands").as_array()) {
    const std::string name(c.at("name").as_string());
    auto it = reference.find(name);
    if (it == reference.end()) {
      only_tether.insert(name);
      continue;
    }
    std::vector<std::string> d;
    diff(it->second, c, name, {}, d);
    EXPECT_TRUE(d.empty()) << name << ": " << json::serialize(it->second) << " vs " << json::serialize(c);
  }
  // Every command tether serves is qemu-ga 7.2's, but for newer qemu-ga's.
  EXPECT_EQ(only_tether, std::set<std::string>{"guest-get-load"});
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
