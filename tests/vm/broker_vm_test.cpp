// tetherd in front of the shared fast guest: many host processes on one
// guest at once, through the broker. An event subscription in one tetherctl
// process, three device waits and three execs in six others, and a 64 MiB
// upload in another, all at once; disks hotplugged through QMP meanwhile.
// And a killed client loses only its own command in the guest.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/eventually.hpp"
#include "support/random_bytes.hpp"
#include "support/slurp.hpp"
#include "support/build_paths.hpp"
#include "support/spawn_logged.hpp"
#include "support/tetherd_process.hpp"
#include "tether/exec.hpp"
#include "tether/qmp.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using namespace asio::experimental::awaitable_operators;

class ThroughTheBroker : public test::vm_test {
 protected:
  test::temp_dir dir;
  test::tetherd_process broker{dir.path() + "/run", {"--guest", "vm=" + guest.tether_socket()}};
  asio::io_context ctx;
  client through{ctx.get_executor(), {.socket_path = broker.socket("vm"), .call_timeout = 120s}};
  // For hotplug; it connects when a test asks.
  qmp::client qemu{ctx.get_executor(), [this] {
                     qmp::options o;
                     o.socket_path = guest.qmp_socket();
                     o.command_timeout = 60s;
                     return o;
                   }()};

  // tetherctl ARGS... through the broker, left running; output in `out(name)`.
  pid_t ctl(std::vector<std::string> args, const std::string& name) const {
    args.insert(args.begin(),
                {test::tetherctl_binary, "--socket", broker.socket("vm"), "--wait-for-guest", "--timeout", "300s"});
    return test::spawn_logged(std::move(args), out(name));
  }
  std::string out(const std::string& name) const { return dir.path() + "/" + name; }

  // The broker serves the guest before any client process starts.
  void SetUp() override { run_for(ctx, through.connect({120s}), 180s); }

  void TearDown() override {
    if (HasFailure()) std::cerr << "tetherd's log:\n" << broker.log_text();
    test::vm_test::TearDown();
  }
};

TEST_F(ThroughTheBroker, FiveProcessesUseOneGuestAtOnce) {
  run_for(ctx, qemu.connect(), 120s);

  // The upload's bytes, and the waited-for disks' images.
  const std::string upload = out("upload.bin");
  { std::ofstream(upload, std::ios::binary) << test::random_bytes(64u << 20, 17); }
  std::vector<qmp::disk_options> disks;
  for (int i = 1; i <= 3; ++i) {
    qmp::disk_options d;
    d.id = d.serial = "brk" + std::to_string(i);
    d.image_path = out(d.id + ".img");
    { std::ofstream(d.image_path, std::ios::binary | std::ios::trunc); }
    std::filesystem::resize_file(d.image_path, 1u << 20);
    disks.push_back(d);
  }

  std::map<std::string, pid_t> procs;
  procs["events"] = ctl({"events", "--subsystem", "block", "--property", "ID_SERIAL=brk*", "--count", "3"}, "events");
  for (int i = 1; i <= 3; ++i) {
    const auto n = std::to_string(i);
    procs["wait" + n] =
        ctl({"wait-device", "--subsystem", "block", "--property", "ID_SERIAL=brk" + n, "--timeout", "240s"}, "wait" + n);
    procs["exec" + n] = ctl({"exec", "--", "sh", "-c", "head -c 4000000 /dev/urandom | wc -c; echo exec-" + n}, "exec" + n);
  }
  procs["upload"] = ctl({"upload", upload, "/tmp/broker-upload.bin"}, "upload");

  // The disks arrive while all of them run.
  run_for(ctx, [&]() -> awaitable<void> {
    for (const auto& d : disks) co_await qemu.add_disk(d);
  }(), 180s);

  std::map<std::string, int> status;
  for (const auto& [name, pid] : procs) status[name] = test::wait_exit(pid);
  for (const auto& [name, st] : status) EXPECT_EQ(st, 0) << name << ":\n" << test::slurp(out(name));
  for (int i = 1; i <= 3; ++i) {
    const auto n = std::to_string(i);
    EXPECT_NE(test::slurp(out("wait" + n)).find("brk" + n), std::string::npos) << test::slurp(out("wait" + n));
    EXPECT_EQ(test::slurp(out("exec" + n)), "4000000\nexec-" + n + "\n");
  }
  // The subscription saw the three disks arrive (its filter: our serials).
  const auto events = test::slurp(out("events"));
  std::size_t adds = 0;
  for (auto at = events.find(" add block/disk "); at != std::string::npos; at = events.find(" add block/disk ", at + 1))
    ++adds;
  EXPECT_EQ(adds, 3u) << events;
  const auto size = run_for(ctx, exec::run(through, {.argv = {"stat", "-c", "%s", "/tmp/broker-upload.bin"}}), 120s);
  EXPECT_EQ(size.out, std::to_string(64u << 20) + "\n");

  // Leave the guest as found.
  run_for(ctx, exec::run(through, {.argv = {"rm", "-f", "/tmp/broker-upload.bin"}}), 120s);
  run_for(ctx, [&]() -> awaitable<void> {
    for (const auto& d : disks) co_await qemu.remove_device(d.id, {60s});
  }(), 240s);
  qemu.close();
}

TEST_F(ThroughTheBroker, AKilledClientLosesOnlyItsOwnCommand) {
  std::vector<pid_t> ctls;
  for (int i = 0; i < 2; ++i)
    ctls.push_back(ctl({"exec", "--", "sh", "-c", "echo $$; exec sleep 600"}, "sleeper" + std::to_string(i)));
  std::vector<std::string> pids;
  for (int i = 0; i < 2; ++i) {
    const auto file = out("sleeper" + std::to_string(i));
    ASSERT_TRUE(test::eventually([&] { return test::slurp(file).find('\n') != std::string::npos; }, 120s))
        << test::slurp(file);
    pids.push_back(test::slurp(file).substr(0, test::slurp(file).find('\n')));
  }
  auto running = [&](const std::string& pid) {
    const auto r = run_for(ctx, exec::run(through, {.argv = {"sh", "-c", "kill -0 " + pid + " && echo yes || echo no"}}), 120s);
    return r.out == "yes\n";
  };
  ASSERT_TRUE(running(pids[0]));
  ::kill(ctls[0], SIGKILL);
  test::wait_exit(ctls[0]);
  EXPECT_TRUE(test::eventually([&] { return !running(pids[0]); }, 120s)) << "the killed client's sleep still runs";
  EXPECT_TRUE(running(pids[1])) << "the other client's sleep was stopped too";
  ::kill(ctls[1], SIGKILL);
  test::wait_exit(ctls[1]);
  EXPECT_TRUE(test::eventually([&] { return !running(pids[1]); }, 120s));
}

}  // namespace
}  // namespace tether
