// The devices service against a real guest udevd: disks hotplugged through
// QMP are waited for (appearance and removal) and watched as events, with no
// sleep anywhere. The guest is the binary's shared fast guest (vm_fixture).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/socket_proxy.hpp"
#include "tether/client.hpp"
#include "tether/devices.hpp"
#include "tether/qmp.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using namespace asio::experimental::awaitable_operators;

constexpr auto udev_timeout = std::chrono::milliseconds(60'000);  // TCG is slow; the wait is event driven

// Built outside coroutines: GCC 12 mis-copies braced aggregates holding
// strings inside them.
devices::filter disk_with_serial(const std::string& serial) {
  devices::filter f;
  f.subsystem = "block";
  f.properties["ID_SERIAL"] = serial;
  return f;
}

class HotplugInTheGuest : public test::vm_test {
 protected:
  asio::io_context ctx;
  client tether_client{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 120s}};
  qmp::client qemu{ctx.get_executor(), qmp_options()};

  qmp::options qmp_options() const {
    qmp::options o;
    o.socket_path = guest.qmp_socket();
    o.command_timeout = 60s;
    return o;
  }

  // tether_client connects on first use: the chardev serves one host at a
  // time, and one test goes through its own relay instead.
  void SetUp() override { run_for(ctx, qemu.connect(), 120s); }
  void TearDown() override {
    qemu.close();  // QEMU's QMP socket serves one client at a time
    test::vm_test::TearDown();
  }

  // A small raw image in the guest's state directory.
  qmp::disk_options new_disk(const std::string& id) const {
    const std::string path = guest.state_dir() + "/" + id + ".img";
    { std::ofstream(path, std::ios::binary | std::ios::trunc); }
    std::filesystem::resize_file(path, 1u << 20);
    qmp::disk_options d;
    d.id = id;
    d.image_path = path;
    d.serial = id;
    return d;
  }
};

TEST_F(HotplugInTheGuest, WaitReturnsAtOnceForADeviceThatAlreadyExists) {
  // The agent's own virtio-serial port exists since boot.
  devices::filter port;
  port.subsystem = "virtio-ports";
  port.attributes["name"] = "org.tether.agent.0";
  auto r = run_for(ctx, devices::wait(tether_client, port, {.timeout = udev_timeout}));
  EXPECT_TRUE(r.already);
  ASSERT_TRUE(r.device);
  EXPECT_TRUE(r.device->devnode.starts_with("/dev/vport")) << r.device->devnode;
  const auto& links = r.device->devlinks;
  EXPECT_NE(std::find(links.begin(), links.end(), "/dev/virtio-ports/org.tether.agent.0"), links.end());
  EXPECT_EQ(r.device->attributes.at("name"), "org.tether.agent.0");
  EXPECT_GT(r.device->usec_initialized, 0u);

  // And a gone-wait for something that does not exist is satisfied at once.
  auto none = run_for(ctx, devices::wait(tether_client, disk_with_serial("never-plugged"),
                                         {.gone = true, .timeout = udev_timeout}));
  EXPECT_TRUE(none.already);
  EXPECT_FALSE(none.device);
}

TEST_F(HotplugInTheGuest, ListShowsTheAgentsPortWithItsUdevSymlink) {
  devices::filter f;
  f.subsystem = "virtio-ports";
  auto ports = run_for(ctx, devices::list(tether_client, f));
  ASSERT_GE(ports.size(), 1u);
  bool found = false;
  for (const auto& p : ports) {
    EXPECT_EQ(p.subsystem, "virtio-ports");
    EXPECT_TRUE(p.action.empty());
    for (const auto& l : p.devlinks) found = found || l == "/dev/virtio-ports/org.tether.agent.0";
  }
  EXPECT_TRUE(found);
}

TEST_F(HotplugInTheGuest, WaitForADeviceThatNeverComesTimesOutWithDeadlineExceeded) {
  try {
    run_for(ctx, devices::wait(tether_client, disk_with_serial("never-plugged"), {.timeout = 1s}));
    FAIL() << "expected a timeout";
  } catch (const error& e) {
    EXPECT_TRUE(e.is_remote()) << e.what();
    EXPECT_EQ(e.remote_code(), remote_errc::deadline_exceeded) << e.what();
    EXPECT_NE(std::string(e.what()).find("ID_SERIAL=never-plugged"), std::string::npos) << e.what();
  }
}

TEST_F(HotplugInTheGuest, SeesTwentyDisksComeAndGoInARow) {
  int waited = 0;  // waits that saw the device arrive (not already there)
  for (int i = 1; i <= 20; ++i) {
    const std::string id = "disk" + std::to_string(i);
    SCOPED_TRACE(id);
    const auto disk = new_disk(id);
    const auto f = disk_with_serial(id);

    // The wait starts with the hotplug: it must not miss the device however
    // the two race.
    auto r = run_for(ctx, [&]() -> awaitable<devices::wait_result> {
      co_return co_await (devices::wait(tether_client, f, {.timeout = udev_timeout}) && qemu.add_disk(disk));
    }(), 180s);
    ASSERT_TRUE(r.device);
    if (!r.already) ++waited;
    const auto& d = *r.device;
    EXPECT_EQ(d.subsystem, "block");
    EXPECT_EQ(d.devtype, "disk");
    EXPECT_TRUE(d.devnode.starts_with("/dev/vd")) << d.devnode;
    EXPECT_EQ(d.properties.at("ID_SERIAL"), id);
    const auto& links = d.devlinks;
    EXPECT_NE(std::find(links.begin(), links.end(), "/dev/disk/by-id/virtio-" + id), links.end())
        << "udev rules ran: the by-id link exists when the device is reported";

    // Removal: QEMU's DEVICE_DELETED and the guest's udev agree it is gone.
    auto g = run_for(ctx, [&]() -> awaitable<devices::wait_result> {
      co_return co_await (devices::wait(tether_client, f, {.gone = true, .timeout = udev_timeout}) &&
                          qemu.remove_device(id, {udev_timeout}));
    }(), 180s);
    if (!g.already) {
      ASSERT_TRUE(g.device);
      EXPECT_EQ(g.device->action, "remove");
      EXPECT_EQ(g.device->device_path, d.device_path);
    }
    EXPECT_TRUE(run_for(ctx, devices::list(tether_client, f)).empty());
    std::filesystem::remove(disk.image_path);
  }
  // Not a pass condition (the race may go either way), but worth seeing.
  std::cout << "[ info ] " << waited << " of 20 waits saw the disk arrive while waiting\n";
}

TEST_F(HotplugInTheGuest, ASubscriptionSeesAddAndRemoveWithPropertiesInSequenceOrder) {
  const std::string id = "subdisk";
  const auto disk = new_disk(id);
  devices::filter block;
  block.subsystem = "block";
  auto sub = run_for(ctx, devices::subscribe(tether_client, block), 120s);
  EXPECT_GT(sub.started().current_seqnum, 0u);
  run_for(ctx, qemu.add_disk(disk), 120s);

  std::vector<devices::device> seen;
  std::optional<devices::device> added, removed;
  auto next_until = [&](auto done) {
    return [&, done]() -> awaitable<void> {
      while (!done()) {
        auto item = co_await sub.next();
        EXPECT_TRUE(item) << "the subscription ended";
        if (!item) co_return;
        const auto& ev = *item;
        EXPECT_FALSE(ev.what == devices::event::kind::lost) << ev.lost.reason;
        EXPECT_FALSE(ev.what == devices::event::kind::replay_gap);
        if (ev.what != devices::event::kind::device) continue;
        seen.push_back(ev.device);
        const auto& d = ev.device;
        auto serial = d.properties.find("ID_SERIAL");
        if (serial == d.properties.end() || serial->second != id) continue;
        if (d.action == "add") added = d;
        if (d.action == "remove") removed = d;
      }
    };
  };
  run_for(ctx, next_until([&] { return added.has_value(); })(), 120s);
  run_for(ctx, qemu.remove_device(id, {udev_timeout}), 120s);
  run_for(ctx, next_until([&] { return removed.has_value(); })(), 120s);

  ASSERT_TRUE(added && removed);
  EXPECT_EQ(added->subsystem, "block");
  EXPECT_FALSE(added->devnode.empty());
  EXPECT_EQ(added->properties.at("DEVNAME"), added->devnode);
  EXPECT_GT(added->usec_initialized, 0u);
  EXPECT_GT(added->received_time_ns, 0);
  const auto& links = added->devlinks;
  EXPECT_NE(std::find(links.begin(), links.end(), "/dev/disk/by-id/virtio-" + id), links.end());
  EXPECT_EQ(removed->device_path, added->device_path);
  EXPECT_GT(removed->seqnum, added->seqnum);
  EXPECT_GT(added->seqnum, sub.started().current_seqnum);
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_LT(seen[i - 1].seqnum, seen[i].seqnum) << "event " << i;
  EXPECT_EQ(sub.last_seqnum(), seen.back().seqnum);
  std::filesystem::remove(disk.image_path);
}

TEST_F(HotplugInTheGuest, AResumedSubscriptionReplaysWhatHappenedWhileItWasAway) {
  const std::string id = "resumedisk";
  const auto disk = new_disk(id);
  const auto f = disk_with_serial(id);
  std::uint64_t last_seen = 0;
  {
    auto sub = run_for(ctx, devices::subscribe(tether_client, f), 120s);
    run_for(ctx, qemu.add_disk(disk), 120s);
    auto ev = run_for(ctx, sub.next(), 120s);
    ASSERT_TRUE(ev && ev->what == devices::event::kind::device);
    EXPECT_EQ(ev->device.action, "add");
    last_seen = ev->device.seqnum;
  }  // the subscription ends: the host is away

  // The disk goes while nobody listens; the guest's udev has finished with
  // it once the wait returns.
  run_for(ctx, [&]() -> awaitable<void> {
    co_await (devices::wait_gone(tether_client, f, udev_timeout) && qemu.remove_device(id, {udev_timeout}));
  }(), 180s);

  devices::subscribe_options resume;
  resume.resume_after_seqnum = last_seen;
  auto sub = run_for(ctx, devices::subscribe(tether_client, f, resume), 120s);
  const auto replayed = sub.started().replayed;
  EXPECT_GE(replayed, 1u);
  // Replayed first, in order, all after the resume point: the remove (and
  // any change event udev made in between).
  bool saw_remove = false;
  for (std::uint32_t i = 0; i < replayed && !saw_remove; ++i) {
    auto ev = run_for(ctx, sub.next(), 120s);
    ASSERT_TRUE(ev && ev->what == devices::event::kind::device) << "expected a replayed event";
    EXPECT_GT(ev->device.seqnum, last_seen);
    saw_remove = ev->device.action == "remove";
  }
  EXPECT_TRUE(saw_remove);
  std::filesystem::remove(disk.image_path);
}

TEST_F(HotplugInTheGuest, ASubscriptionSurvivesAHostReconnectAndGetsWhatItMissed) {
  test::temp_dir dir;
  const std::string relay_path = dir.path() + "/relay.sock";
  test::socket_proxy relay(ctx, relay_path, guest.tether_socket());
  client via_relay(ctx.get_executor(), {.socket_path = relay_path, .call_timeout = 120s});
  const std::string id = "reconnectdisk";
  const auto disk = new_disk(id);
  const auto f = disk_with_serial(id);

  auto sub = run_for(ctx, devices::subscribe(via_relay, f), 120s);
  relay.cut();  // the host connection drops, as when QEMU's chardev is reset
  run_for(ctx, qemu.add_disk(disk), 120s);  // meanwhile the disk comes

  // The subscription reconnects, resumes after what it last received and
  // gets the add from the agent's ring (or live): exactly once.
  auto ev = run_for(ctx, sub.next(), 120s);
  ASSERT_TRUE(ev && ev->what == devices::event::kind::device);
  EXPECT_EQ(ev->device.action, "add");
  EXPECT_EQ(ev->device.properties.at("ID_SERIAL"), id);
  EXPECT_EQ(sub.resumes(), 1u);
  EXPECT_GE(relay.connections(), 2);

  run_for(ctx, [&]() -> awaitable<void> {
    co_await (devices::wait_gone(via_relay, f, udev_timeout) && qemu.remove_device(id, {udev_timeout}));
  }(), 180s);
  auto removed = run_for(ctx, sub.next(), 120s);
  ASSERT_TRUE(removed && removed->what == devices::event::kind::device);
  // Anything between (a change event) is fine; a second add is not.
  while (removed->device.action != "remove") {
    EXPECT_NE(removed->device.action, "add") << "the add was delivered twice";
    removed = run_for(ctx, sub.next(), 120s);
    ASSERT_TRUE(removed && removed->what == devices::event::kind::device);
  }
  EXPECT_GT(removed->device.seqnum, ev->device.seqnum);
  std::filesystem::remove(disk.image_path);
}

}  // namespace
}  // namespace tether
