// A real L2: the nested L1 guest (guest-debian-nested: Debian with systemd,
// the tether packages and QEMU) boots the fast test guest as its L2
// (tether-l2.service, TCG inside TCG, chardev at /run/vms/l2/tether.sock,
// which L1's agent.conf lets the host forward to). The host reaches L2's
// agent only through L1's (client_options::via). L2 boots once for the
// binary; its power-off through the route is the last test.
#include <gtest/gtest.h>

#include "support/async.hpp"
#include "support/random_bytes.hpp"
#include "support/start_process.hpp"
#include "tether/client.hpp"
#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"
#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;
using test::run_for;

const std::string l2_socket = "/run/vms/l2/tether.sock";
// L2 is emulated inside an emulated machine: its kernel alone takes minutes
// to boot there, and every call is slow. Correctness bounds, not figures.
constexpr auto l2_boot_limit = 1500s;
constexpr auto slow_call = 300s;

class ARealNestedGuest : public test::vm_test {
 protected:
  void SetUp() override {
    static bool booted = false;
    if (booted) return;
    const auto r = run_for(ctx, exec::run(l1, {.argv = {"systemctl", "start", "tether-l2"}}), slow_call);
    ASSERT_EQ(r.result.status(), 0) << r.err;
    // Until L2's agent answers through L1. While L2 boots, its chardev
    // socket is there but no agent answers (a handshake timeout), or QEMU
    // has not made it yet (L1 refuses the forward): connectivity errors.
    const auto deadline = std::chrono::steady_clock::now() + l2_boot_limit;
    for (;;) {
      try {
        run_for(ctx, l2.ping("", {60s}), 120s);  // (the call fails before run_for's limit)
        break;
      } catch (const error& e) {
        ASSERT_TRUE(e.is_connectivity() || e.remote_code() == remote_errc::not_found) << e.what();
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "L2 did not answer; last: " << e.what() << "\n"
                                                              << l2_console();
      }
    }
    booted = true;
  }

  client_options routed() const {
    auto o = guest.agent_client_options(slow_call);
    o.socket_path = l2_socket;
    o.via = {guest.tether_socket()};
    o.handshake_timeout = 60s;  // L2's agent answers its hello slowly
    return o;
  }
  std::string in_l1(const std::string& script) {
    const auto r = run_for(ctx, exec::run(l1, {.argv = {"sh", "-c", script}}), slow_call);
    return r.out;
  }
  std::string l2_console() { return in_l1("tail -n 20 /run/vms/l2/console.log"); }

  asio::io_context ctx;
  client l2{ctx.get_executor(), routed()};
  client& l1 = l2.hop(0);
};

TEST_F(ARealNestedGuest, RunsCommandsInL2ThroughL1) {
  EXPECT_EQ(run_for(ctx, exec::run(l1, {.argv = {"hostname"}}), slow_call).out, "tether-l1\n");
  EXPECT_EQ(run_for(ctx, exec::run(l2, {.argv = {"hostname"}}), slow_call).out, "tether-guest\n");
  // L2 is a machine of its own: another kernel boot than L1's.
  EXPECT_NE(run_for(ctx, l2.info(), slow_call).boot_id, run_for(ctx, l1.info(), slow_call).boot_id);
}

TEST_F(ARealNestedGuest, StreamsACommandsOutputWhileItRuns) {
  exec::options o;
  o.argv = {"sh", "-c", "echo one; read x; echo two $x"};
  o.stdin = true;
  auto p = run_for(ctx, test::start_process(l2, o), slow_call);
  auto first = run_for(ctx, p->read(), slow_call);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, "one\n");  // the command still waits for our line
  run_for(ctx, p->write("three\n"), slow_call);
  p->close_stdin();
  std::string rest;
  while (auto c = run_for(ctx, p->read(), slow_call)) rest += c->bytes;
  EXPECT_EQ(rest, "two three\n");
  EXPECT_EQ(run_for(ctx, p->wait(), slow_call).status(), 0);
}

TEST_F(ARealNestedGuest, CarriesAFileUpAndDownWithEqualBytes) {
  const auto data = test::random_bytes(4u << 20, 20);
  const auto up = run_for(ctx, files::upload_bytes(l2, data, "/tmp/nested.bin"), slow_call);
  EXPECT_EQ(up.bytes, data.size());
  // L2's own tool hashes what landed there.
  const auto sum = run_for(ctx, exec::run(l2, {.argv = {"sha256sum", "/tmp/nested.bin"}}), slow_call);
  EXPECT_EQ(sum.out.substr(0, 64), to_hex(checksum::of(checksum_kind::sha256, data)));
  const auto down = run_for(ctx, files::download_bytes(l2, "/tmp/nested.bin"), slow_call);
  EXPECT_TRUE(down == data) << "downloaded " << down.size() << " bytes differ";
}

TEST_F(ARealNestedGuest, CarriesL2sDeviceEvents) {
  devices::filter null_dev;
  null_dev.subsystem = "mem";
  null_dev.sys_name = "null";
  auto sub = run_for(ctx, devices::subscribe(l2, null_dev), slow_call);
  const auto r = run_for(ctx, exec::run(l2, {.argv = {"udevadm", "trigger", "--action=change", "/sys/class/mem/null"}}),
                         slow_call);
  ASSERT_EQ(r.result.status(), 0) << r.err;
  auto change = [&]() -> awaitable<std::optional<devices::device>> {
    for (;;) {
      auto ev = co_await sub.next();
      if (!ev) co_return std::nullopt;
      if (ev->what == devices::event::kind::device && ev->device.action == "change") co_return ev->device;
    }
  };
  const auto d = run_for(ctx, change(), slow_call);
  ASSERT_TRUE(d) << "the subscription ended";
  EXPECT_EQ(d->sys_path(), "/sys/devices/virtual/mem/null");
  sub.cancel();
}

// Last: it ends L2. A real poweroff, inside L2 (never this host).
TEST_F(ARealNestedGuest, PowersL2OffThroughTheRouteAndFollowsItUntilItsQemuExits) {
  const auto out = run_for(ctx, power::request(l2, power::action::poweroff, {.wait = true, .wait_timeout = 600s}),
                           900s);
  EXPECT_FALSE(out.reply.simulated);
  EXPECT_EQ(out.reply.method, power::method::kernel);  // the fast guest has no systemd
  EXPECT_TRUE(out.done);
  // "Down" means L2's QEMU in L1 exited (probed through the route), not only
  // that the agent's connection dropped: L1's systemd has seen its unit end.
  EXPECT_EQ(in_l1("systemctl is-active tether-l2 || true"), "inactive\n");
}

}  // namespace
}  // namespace tether
