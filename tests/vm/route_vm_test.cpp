// Routes in a real guest: the fast guest's agent is L1 (forward allowed to
// /run/l2/*.sock by an agent.conf the test writes, then the agent restarted
// by the guest's respawn loop); a second tether-agent in the same guest on
// /run/l2/tether.sock stands for an L2 guest's agent (with --power-simulate:
// a power action stops it, never the guest both share). The host reaches L2
// only through L1's chardev (client_options::via).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/async.hpp"
#include "support/start_process.hpp"
#include "support/nested_agent.hpp"
#include "support/random_bytes.hpp"
#include "tether/client.hpp"
#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/power.hpp"
#include "tether/qmp.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using test::run_for;
using test::until_it_works;

const std::string l2_socket = "/run/l2/tether.sock";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


class ARouteInTheGuest : public test::vm_test {
 protected:
  void SetUp() override {
    static bool ready = false;
    if (ready) return;
    run_for(ctx, test::allow_forward(l1(), "/run/l2/*.sock"), 300s);
    start_l2();
    ready = true;
  }

  client_options routed(std::string target, milliseconds timeout = 120s) const {
    auto o = guest.agent_client_options(timeout);
    o.socket_path = std::move(target);
    o.via = {guest.tether_socket()};
    return o;
  }
  client& l1() { return l2.hop(0); }

  std::uint32_t pid_of(client& c) { return run_for(ctx, c.info(), 120s).agent_pid; }
  void sh(const std::string& script) {
    const auto r = run_for(ctx, exec::run(l1(), {.argv = {"sh", "-c", script}}), 120s);
    ASSERT_EQ(r.result.status(), 0) << script << ": " << r.err;
  }
  // A call that runs until its route (or agent) breaks.
  std::unique_ptr<exec::process> pending_on(client& c) {
    exec::options o;
    o.argv = {"sleep", "600"};
    return run_for(ctx, test::start_process(c, o), 120s);
  }
  void start_l2() {
    run_for(ctx, test::start_second_agent(l1(), l2_socket, "--power-simulate"), 120s);
    until_it_works(ctx, [&] { return l2.ping(); }, 10, 120s);
  }

  // A udev "change" event of /dev/null in the guest (both agents see it).
  void poke_null() { sh("udevadm trigger --action=change /sys/class/mem/null && udevadm settle --timeout=60"); }

  asio::io_context ctx;
  client l2{ctx.get_executor(), routed(l2_socket)};
};

TEST_F(ARouteInTheGuest, ReachesTheSecondAgentThroughTheFirst) {
  const auto l2_pid = pid_of(l2);
  EXPECT_NE(l2_pid, pid_of(l1()));
  const auto r = run_for(ctx, exec::run(l2, {.argv = {"sh", "-c", "echo $PPID"}}), 120s);
  EXPECT_EQ(r.out, std::to_string(l2_pid) + "\n");
}

TEST_F(ARouteInTheGuest, StreamsACommandsOutputWhileItRuns) {
  exec::options o;
  o.argv = {"sh", "-c", "echo one; read x; echo two $x"};
  o.stdin = true;
  auto p = run_for(ctx, test::start_process(l2, o), 120s);
  auto first = run_for(ctx, p->read(), 120s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, "one\n");  // before the command could end: it waits for our line
  run_for(ctx, p->write("three\n"), 120s);
  p->close_stdin();
  std::string rest;
  while (auto c = run_for(ctx, p->read(), 120s)) rest += c->bytes;
  EXPECT_EQ(rest, "two three\n");
  EXPECT_EQ(run_for(ctx, p->wait(), 120s).status(), 0);
}

TEST_F(ARouteInTheGuest, Carries64MiBEachWayWithEqualBytesWhileTheFirstAgentStillAnswers) {
  const auto data = test::random_bytes(64u << 20, 22);
  const auto up = run_for(ctx, files::upload_bytes(l2, data, "/tmp/route.bin"), 600s);
  EXPECT_EQ(up.bytes, data.size());
  bool done = false;
  int pings = 0;
  auto slowest = 0ms;
  std::string down;
  auto transfer = [&]() -> awaitable<void> {
    down = co_await files::download_bytes(l2, "/tmp/route.bin");
    done = true;
  };
  auto pinger = [&]() -> awaitable<void> {
    while (!done) {
      const auto t0 = std::chrono::steady_clock::now();
      co_await l1().ping("l1");
      slowest = std::max(slowest, std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0));
      ++pings;
    }
  };
  using namespace asio::experimental::awaitable_operators;  // &&: both to their end
  run_for(ctx, transfer() && pinger(), 600s);
  EXPECT_TRUE(down == data) << "downloaded " << down.size() << " bytes differ";
  EXPECT_GT(pings, 1);
  // A correctness bound (figures: bench/): L1's ping is not queued behind
  // the route's data, even in a loaded TCG guest.
  EXPECT_LT(slowest, 5s) << pings << " pings";
  sh("rm -f /tmp/route.bin");
}

TEST_F(ARouteInTheGuest, CarriesDeviceEventsFromTheSecondAgent) {
  qmp::options qo;
  qo.socket_path = guest.qmp_socket();
  qo.command_timeout = 60s;
  qmp::client qemu(ctx.get_executor(), qo);
  run_for(ctx, qemu.connect(), 120s);
  const std::string id = "routedisk";
  qmp::disk_options disk;
  disk.id = id;
  disk.serial = id;
  disk.image_path = guest.state_dir() + "/" + id + ".img";
  { std::ofstream(disk.image_path, std::ios::binary | std::ios::trunc); }
  std::filesystem::resize_file(disk.image_path, 1u << 20);

  devices::filter block;
  block.subsystem = "block";
  auto sub = run_for(ctx, devices::subscribe(l2, block), 120s);
  run_for(ctx, qemu.add_disk(disk), 120s);
  std::optional<devices::device> added;
  auto until_added = [&]() -> awaitable<void> {
    while (!added) {
      auto ev = co_await sub.next();
      if (!ev) co_return;
      if (ev->what != devices::event::kind::device) continue;
      auto serial = ev->device.properties.find("ID_SERIAL");
      if (ev->device.action == "add" && serial != ev->device.properties.end() && serial->second == id)
        added = ev->device;
    }
  };
  run_for(ctx, until_added(), 120s);
  ASSERT_TRUE(added) << "the subscription ended";
  EXPECT_FALSE(added->devnode.empty());
  run_for(ctx, qemu.remove_device(id, {60s}), 120s);
  qemu.close();
  std::filesystem::remove(disk.image_path);
}

TEST_F(ARouteInTheGuest, EndsInAClearErrorAndThenWorksWhenTheSecondAgentRestarts) {
  const auto before = pid_of(l2);
  auto pending = pending_on(l2);
  sh("kill " + std::to_string(before));
  const auto e = error_of(ctx, pending->wait(), "a call while L2's agent restarts");
  EXPECT_TRUE(e.is_connectivity()) << e.what();
  EXPECT_TRUE(has(e.what(), "hop 1")) << e.what();
  EXPECT_TRUE(has(e.what(), l2_socket)) << e.what();
  start_l2();
  EXPECT_NE(pid_of(l2), before);
}

TEST_F(ARouteInTheGuest, ResumesADeviceSubscriptionAfterTheSecondAgentRestartsAndReportsTheGap) {
  devices::filter null_dev;
  null_dev.subsystem = "mem";
  null_dev.sys_name = "null";
  auto sub = run_for(ctx, devices::subscribe(l2, null_dev), 120s);
  auto next_device = [&]() -> awaitable<devices::event> {
    for (;;) {
      auto ev = co_await sub.next();
      if (!ev) throw std::runtime_error("the subscription ended");
      if (ev->what != devices::event::kind::device || ev->device.action == "change") co_return *ev;
    }
  };
  poke_null();
  const auto seen = run_for(ctx, next_device(), 120s);
  ASSERT_EQ(seen.what, devices::event::kind::device);
  const auto seen_seqnum = seen.device.seqnum;

  // L2's agent goes; an event happens while no agent runs; a new one starts.
  sh("kill " + std::to_string(pid_of(l2)));
  poke_null();
  start_l2();
  poke_null();

  // The subscription resumes through the rebuilt route. The new agent never
  // saw the middle event: it says so (a replay gap after the last event the
  // host got) before the live one, never a silent loss.
  const auto first = run_for(ctx, next_device(), 120s);
  ASSERT_EQ(first.what, devices::event::kind::replay_gap);
  EXPECT_EQ(first.gap.resume_after_seqnum, seen_seqnum);
  EXPECT_FALSE(first.gap.sequence_reset);
  EXPECT_GT(first.gap.first_available_seqnum, seen_seqnum + 1);
  const auto live = run_for(ctx, next_device(), 120s);
  ASSERT_EQ(live.what, devices::event::kind::device);
  EXPECT_GT(live.device.seqnum, seen_seqnum + 1);
  EXPECT_EQ(sub.resumes(), 1u);
  sub.cancel();
}

TEST_F(ARouteInTheGuest, PowersTheSecondAgentOffThroughTheRouteAndFollowsItDown) {
  std::optional<power::reply> accepted;
  const auto out = run_for(ctx,
                           power::request(l2, power::action::poweroff,
                                          {.wait = true,
                                           .wait_timeout = 120s,
                                           .on_accepted = [&](const power::reply& r) { accepted = r; }}),
                           180s);
  ASSERT_TRUE(accepted);
  EXPECT_TRUE(out.reply.simulated);  // the simulated agent stopped, not the guest
  EXPECT_TRUE(out.done);
  // Nothing serves L2's socket any more: the host hears it from L1 as an
  // error naming the socket; L1 itself still answers.
  const auto e = error_of(ctx, l2.ping("", {5s}), "a ping after L2 powered off");
  EXPECT_TRUE(has(e.what(), l2_socket)) << e.what();
  run_for(ctx, l1().ping(), 60s);
  start_l2();
}

TEST_F(ARouteInTheGuest, EndsInAClearErrorAndThenWorksWhenTheFirstAgentRestarts) {
  const auto l2_pid = pid_of(l2);
  const auto l1_pid = pid_of(l1());
  auto pending = pending_on(l2);
  run_for(ctx, test::restart_guest_agent(l1()), 300s);
  const auto e = error_of(ctx, pending->wait(), "a call through the route while L1's agent restarts");
  EXPECT_TRUE(e.is_connectivity()) << e.what();
  EXPECT_TRUE(has(e.what(), "hop 1 (the agent at " + guest.tether_socket() + ")")) << e.what();
  until_it_works(ctx, [&] { return l2.ping(); }, 10, 120s);
  EXPECT_EQ(pid_of(l2), l2_pid);  // L2 itself went on
  EXPECT_NE(pid_of(l1()), l1_pid);
}

TEST_F(ARouteInTheGuest, IsRefusedForASocketTheConfigDoesNotAllow) {
  l2.close();  // the chardev serves one host at a time
  client other(ctx.get_executor(), routed("/run/other/tether.sock", 5s));
  const auto e = error_of(ctx, other.ping());
  EXPECT_TRUE(has(e.what(), "forward to '/run/other/tether.sock' refused")) << e.what();
  EXPECT_TRUE(has(e.what(), "forward.sockets")) << e.what();
}

}  // namespace
}  // namespace tether
