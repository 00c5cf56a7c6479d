// tether-agent serving QGA on the guest's real org.qemu.guest_agent.0 port
// (qemu-ga, which the fast guest runs there, is stopped first), and fsfreeze
// on a real filesystem: a loop-mounted ext4, the guest's only freezable one.
// The frozen state allows only qemu-ga's few commands; a freeze that is
// never thawed is thawed by the agent's guard, and the write that waited on
// the frozen filesystem then completes.
#include <chrono>

#include <boost/json.hpp>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/exec.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using namespace std::chrono_literals;
namespace json = boost::json;

// Set up once for the binary's guest: the filesystem, and a second
// tether-agent that serves QGA on the port qemu-ga held (its guards: 5 s
// after a freeze, 1 s without a host).
constexpr const char* setup_script = R"(set -e
modprobe loop
modprobe crc32c_generic
modprobe ext4
dd if=/dev/zero of=/tmp/frz.img bs=1M count=32 2>/dev/null
dev=$(losetup -f)
losetup $dev /tmp/frz.img
mke2fs -q $dev
mkdir -p /mnt/frz
mount -t ext4 $dev /mnt/frz
ga=$(pidof qemu-ga)
respawn=$(cut -d' ' -f4 /proc/$ga/stat)
kill $respawn $ga
setsid /usr/bin/tether-agent --listen-unix /tmp/qga-agent.sock --qga-port org.qemu.guest_agent.0 \
  --qga-freeze-limit-ms 5000 --qga-freeze-host-gone-ms 1000 --audit off </dev/null >/dev/console 2>&1 &
# Until it listens: exec.Run kills this script's process group when the
# script ends, which would take the agent along if setsid had not run yet.
for i in $(seq 600); do [ -S /tmp/qga-agent.sock ] && break; sleep 0.1; done
[ -S /tmp/qga-agent.sock ]
)";

class GuestQga : public test::vm_client_test {
 protected:
  static inline std::optional<std::string> set_up;  // the setup's failure, or "" when it worked

  void SetUp() override {
    if (!set_up) {
      const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"sh", "-c", setup_script}}), 120s);
      set_up = r.result.exit_code == 0 ? "" : "setup failed: " + r.out + r.err;
    }
    ASSERT_EQ(*set_up, "");
  }

  json::value ask(test::qga_client& c, const std::string& req) { return json::parse(c.request(req, 60s)); }

  std::string status(test::qga_client& c) {
    return std::string(ask(c, "{\"execute\":\"guest-fsfreeze-status\"}").at("return").as_string());
  }
};

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
  EXPECT_EQ(keys.at("return").at("keys"), json::parse(R"(["ssh-ed25519 AAAA one","ssh-rsa BBBB two"])")) << keys;
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

}  // namespace
}  // namespace tether
