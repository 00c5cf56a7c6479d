// tether-agent's QGA and the real qemu-ga (Debian 12's 7.2) in ONE guest,
// each on its own virtio-serial port (qga_vm_fixture.hpp): every command
// that is safe to repeat sent to both, the replies compared (same keys, same
// JSON types, same error classes and messages; values equal except where
// volatile: support/qga_compare.hpp). Commands that change the guest run on
// both in turn and leave the same state (ssh keys, passwords, CPUs online).
// Not sent to qemu-ga: freeze (qga_vm_test.cpp covers tether's), set-time,
// shutdown and suspend (qemu-ga would really try to hibernate here).
#include <crypt.h>

#include <set>

#include "qga_vm_fixture.hpp"
#include "support/qga_compare.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class GuestQgaCompare : public test::GuestQga {
 protected:
  void SetUp() override {
    GuestQga::SetUp();
    if (HasFatalFailure()) return;
    qemu_ga = std::make_unique<test::qga_client>(qemu_ga_socket(), 120s);
    tether_qga = std::make_unique<test::qga_client>(tether_qga_socket(), 120s);
    compare = std::make_unique<test::qga_pair>(*qemu_ga, *tether_qga);
  }
  std::unique_ptr<test::qga_client> qemu_ga, tether_qga;
  std::unique_ptr<test::qga_pair> compare;

  test::qga_pair::replies same(const std::string& req, const std::set<std::string>& loose = {}) {
    return compare->expect_same(req, loose);
  }
};

TEST_F(GuestQgaCompare, ProtocolAndFactsAreTheSame) {
  for (const char* req : {
           "{\"execute\":\"guest-ping\",\"id\":5}",
           "{\"execute\":\"guest-no-such-command\",\"id\":3}",
           "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1}}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":123}}",
           "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"a\"}}",
           "[1,2]",
           "{\"execute\":\"guest-get-host-name\"}",
           "{\"execute\":\"guest-get-osinfo\"}",
           "{\"execute\":\"guest-get-timezone\"}",
           "{\"execute\":\"guest-get-vcpus\"}",
           "{\"execute\":\"guest-fsfreeze-status\"}",
           "{\"execute\":\"guest-get-disks\"}",
           "{\"execute\":\"guest-get-memory-block-info\"}",
           "{\"execute\":\"guest-get-memory-blocks\"}",
           "{\"execute\":\"guest-get-users\"}",
       })
    same(req);
  same("{\"execute\":\"guest-get-time\"}", {".return"});
  same("{\"execute\":\"guest-get-fsinfo\"}", {".return[].used-bytes", ".return[].total-bytes"});
  same("{\"execute\":\"guest-fstrim\"}", {".return.paths[].trimmed"});
  compare->expect_same_counters();
}

TEST_F(GuestQgaCompare, GuestInfoListsTheSameCommands) {
  const auto lists = compare->compare_guest_info();
  EXPECT_EQ(lists.only_tether, (std::set<std::string>{"guest-get-load", "guest-network-get-route"}));
  // Not served: guest-get-devices (Windows guests'; qemu-ga on Linux answers
  // it unsupported) and guest-set-memory-blocks (memory hot-unplug; libvirt
  // never sends it).
  EXPECT_EQ(lists.only_qemu_ga, (std::set<std::string>{"guest-get-devices", "guest-set-memory-blocks"}));
}

TEST_F(GuestQgaCompare, FilesAndExecAnswerTheSame) {
  sh("printf 'hello world\\n' > /tmp/cmp.txt");
  auto opened = same(R"({"execute":"guest-file-open","arguments":{"path":"/tmp/cmp.txt"}})", {".return"});
  for (const auto& [cmd, rest] : std::vector<std::pair<std::string, std::string>>{
           {"guest-file-read", ",\"count\":5"}, {"guest-file-read", ""}, {"guest-file-seek", ",\"offset\":2,\"whence\":\"set\""},
           {"guest-file-read", ""}, {"guest-file-write", ",\"buf-b64\":\"aGVsbG8=\""}, {"guest-file-close", ""},
           {"guest-file-close", ""}})
    compare->on_handles(opened, cmd, rest);
  same(R"({"execute":"guest-file-open","arguments":{"path":"/tmp/none/x"}})");
  compare->expect_same_exec(R"({"path":"/bin/sh","arg":["-c","echo out; echo err >&2; exit 3"],"capture-output":true})",
                            60s);
  compare->expect_same_exec(R"({"path":"cat","input-data":"aGVsbG8=","capture-output":true})", 60s);
  same(R"({"execute":"guest-exec","arguments":{"path":"/no/such/program"}})");
}

TEST_F(GuestQgaCompare, SshKeysEndTheSameOnBoth) {
  auto run = [&](test::qga_client& c) {
    sh("rm -rf /home/tester/.ssh");
    std::vector<std::string> replies;
    for (const char* req : {
             R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"tester"}})",
             R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"tester","keys":["a"]}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa A a","ssh-rsa B b"]}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa B b","ssh-rsa C c"]}})",
             R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa A a"]}})",
             R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"tester"}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa D d"],"reset":true}})",
             R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"tester"}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["#x"]}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["a\nb"]}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester"}})",
             R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"no-such-user","keys":["k"]}})",
             R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"no-such-user","keys":["k"]}})",
         })
      replies.push_back(c.request(req, 60s));
    replies.push_back(sh("stat -c '%a %U %G' /home/tester/.ssh /home/tester/.ssh/authorized_keys"));
    return replies;
  };
  const auto a = run(*qemu_ga);
  const auto b = run(*tether_qga);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    const auto d = test::qga_diff(json::parse(a[i]), json::parse(b[i]));
    EXPECT_TRUE(d.empty()) << "step " << i << "\n qemu-ga: " << a[i] << "\n tether:  " << b[i];
  }
  EXPECT_EQ(a.back(), b.back());  // modes and owners
  EXPECT_EQ(b.back(), "700 tester tester\n600 tester tester\n");
}

TEST_F(GuestQgaCompare, PasswordsAreSetAlikeAndErrorsWordedAlike) {
  auto req = [](const std::string& user, const std::string& pw, const std::string& crypted) {
    return R"({"execute":"guest-set-user-password","arguments":{"username":)" + test::json_quote(user) +
           R"(,"password":)" + test::json_quote(pw) + (crypted.empty() ? "" : ",\"crypted\":" + crypted) + "}}";
  };
  same(req("tes:ter", test::base64_encode("x"), "false"));
  same(req("tester", test::base64_encode("a\nb"), "false"));
  same(req("tester", "!!!", "false"));
  same(req("tester", test::base64_encode("x"), ""));
  same(req("no-such-user", test::base64_encode("x"), "false"));
  crypt_data cd{};
  const std::string hash = crypt_r("same on both", "$6$cmpsalt$", &cd);
  auto stored = [&] { return sh("grep '^tester:' /etc/shadow | cut -d: -f2"); };
  EXPECT_EQ(json::parse(qemu_ga->request(req("tester", test::base64_encode(hash), "true"), 60s)).at("return"),
            json::object{});
  const auto by_qemu_ga = stored();
  sh("sed -i 's/^tester:[^:]*:/tester:*:/' /etc/shadow");
  EXPECT_EQ(json::parse(tether_qga->request(req("tester", test::base64_encode(hash), "true"), 60s)).at("return"),
            json::object{});
  EXPECT_EQ(stored(), by_qemu_ga);
  EXPECT_EQ(by_qemu_ga, hash + "\n");
}

TEST_F(GuestQgaCompare, VcpusGoOfflineAndBackAlike) {
  // The fast guest has two CPUs; cpu0 cannot go offline.
  const std::string off = R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":false}]}})";
  const std::string on = R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":true}]}})";
  EXPECT_EQ(json::parse(qemu_ga->request(off, 60s)).at("return"), 1);
  same("{\"execute\":\"guest-get-vcpus\"}");
  EXPECT_EQ(sh("cat /sys/devices/system/cpu/cpu1/online"), "0\n");
  same(off);  // already offline: nothing to do, counted
  EXPECT_EQ(json::parse(tether_qga->request(on, 60s)).at("return"), 1);
  EXPECT_EQ(sh("cat /sys/devices/system/cpu/cpu1/online"), "1\n");
  same("{\"execute\":\"guest-get-vcpus\"}");
  EXPECT_EQ(json::parse(tether_qga->request(off, 60s)).at("return"), 1);
  same("{\"execute\":\"guest-get-vcpus\"}");
  EXPECT_EQ(json::parse(qemu_ga->request(on, 60s)).at("return"), 1);
  for (const char* req : {
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":7,"online":true}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":0,"online":false}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":true},{"logical-id":7,"online":true}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":0,"online":true,"can-offline":false}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":"yes"}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":true,"x":1}]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":[5]}})",
           R"({"execute":"guest-set-vcpus","arguments":{"vcpus":{}}})",
           R"({"execute":"guest-set-vcpus"})",
       })
    same(req);
  EXPECT_EQ(sh("cat /sys/devices/system/cpu/cpu1/online"), "1\n");
}

}  // namespace
}  // namespace tether
