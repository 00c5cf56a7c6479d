// tether-agent serving QGA on the guest's real org.qemu.guest_agent.0 port
// (qga_vm_fixture.hpp), and fsfreeze on a real filesystem: a loop-mounted
// ext4, the guest's only freezable one. The frozen state allows only
// qemu-ga's few commands; a freeze that is never thawed is thawed by the
// agent's guard, and the write that waited on the frozen filesystem then
// completes. The commands that change the guest act on it for real: ssh
// keys, passwords (checked with crypt(3) here), routes read back.
#include <chrono>

#include <boost/json.hpp>

#include <crypt.h>

#include "qga_vm_fixture.hpp"
#include "tether/fsfreeze.hpp"

namespace tether {
namespace {

using test::run_for;
using namespace std::chrono_literals;
namespace json = boost::json;

using test::GuestQga;

TEST_F(GuestQga, TheVirtioPortIsServedByTether) {
  test::qga_client qga(guest.qga_socket(), 120s);
  // guest-get-load is not in qemu-ga 7.2: only tether answers it.
  const auto load = ask(qga, "{\"execute\":\"guest-get-load\"}");
  EXPECT_TRUE(load.at("return").at("load1").is_double()) << load;
  const auto host = ask(qga, "{\"execute\":\"guest-get-host-name\"}");
  EXPECT_EQ(host.at("return").at("host-name"), "tether-guest");
  const auto r = qga.exec({"/bin/sh", "-c", "echo via-qga"});
  EXPECT_EQ(r.out, "via-qga\n");
}

TEST_F(GuestQga, TrimsTheFilesystemsOnDevicesAndReadsAuthorizedKeys) {
  test::qga_client qga(guest.qga_socket(), 120s);
  const auto trim = ask(qga, "{\"execute\":\"guest-fstrim\"}");
  const auto& paths = trim.at("return").at("paths").as_array();
  ASSERT_EQ(paths.size(), 1u) << trim;  // /mnt/frz: the rest are tmpfs and the initramfs
  EXPECT_EQ(paths[0].at("path"), "/mnt/frz");
  EXPECT_TRUE(paths[0].at("trimmed").is_int64()) << trim;
  const auto setup = run_for(ctx, exec::run(guest_client, {.argv = {"sh", "-c",
      "mkdir -p /home/tester/.ssh && printf 'ssh-ed25519 AAAA one\\n# comment\\n\\nssh-rsa BBBB two\\n' "
      "> /home/tester/.ssh/authorized_keys"}}), 60s);
  ASSERT_EQ(setup.result.exit_code, 0) << setup.err;
  const auto keys = ask(qga, R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"tester"}})");
  // Last line first: qemu-ga 7.2's order (qga_compare_vm_test.cpp checks it against qemu-ga).
  EXPECT_EQ(keys.at("return").at("keys"), json::parse(R"(["ssh-rsa BBBB two","ssh-ed25519 AAAA one"])")) << keys;
}

TEST_F(GuestQga, AddsAndRemovesAuthorizedKeysAsTheUsersOwnFile) {
  test::qga_client qga(guest.qga_socket(), 120s);
  sh("rm -rf /home/tester/.ssh");
  auto keys = [&] {
    return ask(qga, R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"tester"}})")
        .at("return").at("keys");
  };
  const auto added = ask(qga, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester",
      "keys":["ssh-rsa CCCC three","ssh-rsa DDDD four","ssh-rsa CCCC three"],"reset":true}})");
  EXPECT_EQ(added.at("return"), json::object{}) << added;
  // Created by the agent: the user's, private.
  EXPECT_EQ(sh("stat -c '%a %U' /home/tester/.ssh /home/tester/.ssh/authorized_keys"), "700 tester\n600 tester\n");
  sh("echo '# kept' >> /home/tester/.ssh/authorized_keys");
  ask(qga, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa CCCC three","ssh-rsa EEEE five"]}})");
  EXPECT_EQ(keys(), json::parse(R"(["ssh-rsa EEEE five","ssh-rsa DDDD four","ssh-rsa CCCC three"])"));
  ask(qga, R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"tester","keys":["ssh-rsa CCCC three"]}})");
  EXPECT_EQ(sh("cat /home/tester/.ssh/authorized_keys"), "ssh-rsa DDDD four\n# kept\nssh-rsa EEEE five\n");
  EXPECT_EQ(sh("stat -c '%a %U' /home/tester/.ssh/authorized_keys"), "600 tester\n");
  const auto bad = ask(qga, R"({"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"tester","keys":["# no"]}})");
  EXPECT_EQ(bad.at("error").at("desc").as_string(), "invalid OpenSSH public key: '# no'") << bad;
  const auto none = ask(qga, R"({"execute":"guest-ssh-remove-authorized-keys","arguments":{"username":"root","keys":["k"]}})");
  EXPECT_EQ(none.at("return"), json::object{}) << none;  // root has no file: nothing to do, nothing made
  EXPECT_EQ(sh("ls -a /root | grep -c '^.ssh$' || true"), "0\n");
}

TEST_F(GuestQga, SetsAUsersPasswordThroughChpasswd) {
  test::qga_client qga(guest.qga_socket(), 120s);
  auto shadow_hash = [&](const std::string& user) {  // its /etc/shadow entry
    const auto line = sh("grep '^" + user + ":' /etc/shadow");
    const auto a = line.find(':'), b = line.find(':', a + 1);
    return line.substr(a + 1, b - a - 1);
  };
  auto set = [&](const std::string& user, const std::string& pw, bool crypted) {
    return ask(qga, R"({"execute":"guest-set-user-password","arguments":{"username":)" + test::json_quote(user) +
                        R"(,"password":")" + test::base64_encode(pw) + R"(","crypted":)" +
                        (crypted ? "true" : "false") + "}}");
  };
  EXPECT_EQ(set("tester", "plain pass 1", false).at("return"), json::object{});
  const auto stored = shadow_hash("tester");
  crypt_data cd{};
  ASSERT_NE(crypt_r("plain pass 1", stored.c_str(), &cd), nullptr) << stored;
  EXPECT_EQ(std::string(cd.output), stored);  // the password now verifies
  crypt_data cd2{};
  const std::string hash = crypt_r("crypted pass 2", "$6$tethersalt$", &cd2);
  EXPECT_EQ(set("tester", hash, true).at("return"), json::object{});
  EXPECT_EQ(shadow_hash("tester"), hash);
  const auto colon = set("tes:ter", "x", false);
  EXPECT_EQ(colon.at("error").at("desc").as_string(), "forbidden characters in username") << colon;
  const auto newline = set("tester", "a\nb", false);
  EXPECT_EQ(newline.at("error").at("desc").as_string(), "forbidden characters in raw password") << newline;
  const auto unknown = set("no-such-user", "x", false);
  EXPECT_EQ(unknown.at("error").at("desc").as_string(), "child process has failed to set user password") << unknown;
  EXPECT_EQ(shadow_hash("tester"), hash);
}

TEST_F(GuestQga, ListsTheRoutesOfBothFamilies) {
  sh("ip link set lo up && ip route replace 10.9.8.0/24 dev lo metric 7 && "
     "ip -6 route replace 2001:db8:7::/64 dev lo metric 9");
  test::qga_client qga(guest.qga_socket(), 120s);
  const auto r = ask(qga, "{\"execute\":\"guest-network-get-route\"}");
  bool v4 = false, v6 = false;
  for (const auto& e : r.at("return").as_array()) {
    if (e.at("destination") == "10.9.8.0") {
      v4 = true;
      EXPECT_EQ(e, json::parse(R"({"iface":"lo","destination":"10.9.8.0","metric":7,"gateway":"0.0.0.0",
          "mask":"255.255.255.0","irtt":0,"flags":1,"refcnt":0,"use":0,"window":0,"mtu":0,"version":4})")) << e;
    }
    if (e.at("destination") == "2001:db8:7::") {
      v6 = true;
      EXPECT_EQ(e.at("desprefixlen"), "64");
      EXPECT_EQ(e.at("metric"), 9);
      EXPECT_EQ(e.at("iface"), "lo");
      EXPECT_EQ(e.at("nexthop"), "::");
      EXPECT_EQ(e.at("version"), 6);
    }
  }
  EXPECT_TRUE(v4 && v6) << r;
  sh("ip route del 10.9.8.0/24 dev lo; ip -6 route del 2001:db8:7::/64 dev lo");
}

TEST_F(GuestQga, SuspendToDiskIsRefusedWhereTheGuestCannotHibernate) {
  test::qga_client qga(guest.qga_socket(), 120s);
  // No systemd in the fast guest: the power service has no way to hibernate
  // and says so (qemu-ga here would write "disk" to /sys/power/state).
  for (const char* cmd : {"guest-suspend-disk", "guest-suspend-hybrid"}) {
    const auto e = ask(qga, std::string("{\"execute\":\"") + cmd + "\"}");
    EXPECT_EQ(e.at("error").at("class"), "GenericError") << e;
    EXPECT_NE(e.at("error").at("desc").as_string().find("is not supported without systemd"), std::string::npos) << e;
  }
  EXPECT_EQ(ask(qga, "{\"execute\":\"guest-ping\"}").at("return"), json::object{});  // still up
}

TEST_F(GuestQga, FreezeAllowsOnlyQemuGasFrozenCommandsUntilThawed) {
  test::qga_client qga(guest.qga_socket(), 120s);
  ASSERT_EQ(status(qga), "thawed");
  EXPECT_EQ(ask(qga, R"({"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/mnt/frz"]}})")
                .at("return"), 1);
  EXPECT_EQ(status(qga), "frozen");
  for (const char* cmd : {"guest-get-time", "guest-fsfreeze-freeze", "guest-exec"}) {
    const auto e = ask(qga, std::string("{\"execute\":\"") + cmd + "\"}");
    EXPECT_EQ(e.at("error").at("class"), "CommandNotFound") << e;
    EXPECT_EQ(e.at("error").at("desc").as_string(),
              std::string("Command ") + cmd + " has been disabled: the agent is in frozen state");
  }
  EXPECT_EQ(ask(qga, "{\"execute\":\"guest-ping\"}").at("return"), json::object{});
  EXPECT_EQ(ask(qga, "{\"execute\":\"guest-fsfreeze-thaw\"}").at("return"), 1);
  EXPECT_EQ(status(qga), "thawed");
  EXPECT_EQ(ask(qga, "{\"execute\":\"guest-fsfreeze-thaw\"}").at("return"), 0);
}

TEST_F(GuestQga, AFreezeNeverThawedIsThawedByTheGuardAndWritesGoOn) {
  test::qga_client qga(guest.qga_socket(), 120s);
  ASSERT_EQ(status(qga), "thawed");
  EXPECT_EQ(ask(qga, "{\"execute\":\"guest-fsfreeze-freeze\"}").at("return"), 1);  // /mnt/frz only
  // A write into the frozen filesystem: it waits for the thaw.
  exec::options write{.argv = {"sh", "-c", "echo data > /mnt/frz/after && sync"}};
  auto writer = run_for(ctx, [&]() -> awaitable<std::unique_ptr<exec::process>> {
    co_return std::make_unique<exec::process>(co_await exec::process::start(guest_client, write));
  }());
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (status(qga) == "frozen") ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never thawed";
  const auto end = run_for(ctx, writer->wait(), 120s);
  EXPECT_EQ(end.exit_code, 0);
  EXPECT_NE(guest.console().find("no thaw within 5000 ms of the freeze: thawing now"), std::string::npos)
      << guest.console_tail();
  const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"cat", "/mnt/frz/after"}}), 60s);
  EXPECT_EQ(r.out, "data\n");
}

TEST_F(GuestQga, AFreezeIsThawedWhenTheHostStaysAway) {
  {
    test::qga_client qga(guest.qga_socket(), 120s);
    ASSERT_EQ(status(qga), "thawed");
    EXPECT_EQ(ask(qga, "{\"execute\":\"guest-fsfreeze-freeze\"}").at("return"), 1);
  }  // the host goes away, frozen
  const std::string line = "no host connected for 1000 ms while frozen: thawing now";
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (guest.console().find(line) == std::string::npos)
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << guest.console_tail();
  test::qga_client back(guest.qga_socket(), 120s);
  EXPECT_EQ(status(back), "thawed");
  const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"sh", "-c", "echo more > /mnt/frz/more && sync"}}), 60s);
  EXPECT_EQ(r.result.exit_code, 0);
}

TEST_F(GuestQga, TetherUsersFreezeAndThawThroughTheFsfreezeService) {
  // The guest's own tether-agent (the tether port's; tetherctl would need
  // the chardev this test's client holds: tests/loopback/qga_test.cpp runs it).
  const auto listed = run_for(ctx, fsfreeze::freeze(guest_client, {"/mnt/frz"}), 60s);
  EXPECT_EQ(listed.frozen, 1u);
  EXPECT_TRUE(run_for(ctx, fsfreeze::frozen(guest_client), 60s));
  const auto again = test::error_of(ctx, fsfreeze::freeze(guest_client), "a second freeze");
  EXPECT_NE(std::string(again.what()).find("frozen already"), std::string::npos) << again.what();
  // A write into the frozen filesystem waits for the thaw.
  exec::options write{.argv = {"sh", "-c", "echo svc > /mnt/frz/svc && sync"}};
  auto writer = run_for(ctx, [&]() -> awaitable<std::unique_ptr<exec::process>> {
    co_return std::make_unique<exec::process>(co_await exec::process::start(guest_client, write));
  }());
  EXPECT_EQ(run_for(ctx, fsfreeze::thaw(guest_client), 60s), 1u);
  EXPECT_EQ(run_for(ctx, writer->wait(), 120s).exit_code, 0);
  EXPECT_EQ(sh("cat /mnt/frz/svc"), "svc\n");
  // The library: every freezable filesystem (here only /mnt/frz).
  const auto r = run_for(ctx, fsfreeze::freeze(guest_client), 60s);
  EXPECT_EQ(r.frozen, 1u);
  EXPECT_GT(r.thaw_limit.count(), 0);
  EXPECT_TRUE(run_for(ctx, fsfreeze::frozen(guest_client), 60s));
  EXPECT_EQ(run_for(ctx, fsfreeze::thaw(guest_client), 60s), 1u);
  EXPECT_FALSE(run_for(ctx, fsfreeze::frozen(guest_client), 60s));
  EXPECT_EQ(run_for(ctx, fsfreeze::thaw(guest_client), 60s), 0u);
}

}  // namespace
}  // namespace tether
