// The devices service where udevd does not run (this machine, or an agent
// told to look for udevd's control socket where there is none): every call
// fails fast with UNAVAILABLE and says why, bad filters are refused first.
// Device behaviour itself is proven against a real udevd in tests/vm.
#include <gtest/gtest.h>

#include "support/tetherctl_runner.hpp"

#include <cstdio>
#include <sys/wait.h>

#include "support/agent_client.hpp"
#include "support/async.hpp"
#include "tether/client.hpp"
#include "devices_wire.hpp"
#include "tether/devices.hpp"

namespace tether {
namespace {

using test::run_for;

// The agent looks for udevd where it is certainly not running, so these
// tests behave the same on machines that do run udevd.
const std::vector<std::string> no_udevd = {"--udev-control", "/nonexistent/udev/control"};

class AnAgentWithoutUdevd : public test::agent_client_test {
 protected:
  AnAgentWithoutUdevd() : agent_client_test(no_udevd) {}

  template <class T>
  error expect_error(awaitable<T> op) {
    return test::error_of(ctx, std::move(op));
  }
};

void expect_unavailable_because_udevd_is_missing(const error& e) {
  EXPECT_TRUE(e.is_remote()) << e.what();
  EXPECT_EQ(e.remote_code(), remote_errc::unavailable) << e.what();
  EXPECT_NE(std::string(e.what()).find("systemd-udevd is not running"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("/nonexistent/udev/control"), std::string::npos) << e.what();
}

TEST_F(AnAgentWithoutUdevd, AdvertisesTheDevicesService) {
  auto info = run_for(ctx, guest.info());
  EXPECT_NE(std::find(info.services.begin(), info.services.end(), "devices"), info.services.end());
}

TEST_F(AnAgentWithoutUdevd, AnswersListWithUnavailableAndSaysWhy) {
  expect_unavailable_because_udevd_is_missing(expect_error(devices::list(guest, {.subsystem = "block"})));
}

TEST_F(AnAgentWithoutUdevd, AnswersWaitWithUnavailableInsteadOfWaitingOutItsTimeout) {
  // A long timeout: the answer must not depend on it running out.
  const auto e = expect_error(devices::wait(guest, {.subsystem = "block"}, {.timeout = 600s}));
  expect_unavailable_because_udevd_is_missing(e);
  const auto gone = expect_error(devices::wait(guest, {.subsystem = "block"}, {.gone = true, .timeout = 600s}));
  expect_unavailable_because_udevd_is_missing(gone);
}

TEST_F(AnAgentWithoutUdevd, AnswersSubscribeWithUnavailable) {
  expect_unavailable_because_udevd_is_missing(expect_error(devices::subscribe(guest, {})));
  // Not a connectivity failure: no resume loop hides it.
  expect_unavailable_because_udevd_is_missing(
      expect_error(devices::subscribe(guest, {}, {.resume_after_seqnum = 42})));
}

TEST_F(AnAgentWithoutUdevd, StillServesOtherCallsAfterDeviceCallsFailed) {
  (void)expect_error(devices::list(guest, {}));
  EXPECT_EQ(run_for(ctx, guest.ping("after")).payload, "after");
}

TEST_F(AnAgentWithoutUdevd, RejectsAFilterThatWouldReadFilesOutsideTheDevice) {
  for (const char* key : {"../../../../etc/shadow", "/etc/shadow"}) {
    const auto e = expect_error(devices::list(guest, {.attributes = {{key, "*"}}}));
    EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find("relative path"), std::string::npos) << e.what();
  }
  const auto w = expect_error(devices::wait(guest, {.attributes = {{"../x", "1"}}}, {.timeout = 600s}));
  EXPECT_EQ(w.remote_code(), remote_errc::invalid_argument) << w.what();
  const auto s = expect_error(devices::subscribe(guest, {.attributes = {{"a/../../b", "1"}}}));
  EXPECT_EQ(s.remote_code(), remote_errc::invalid_argument) << s.what();
}

TEST_F(AnAgentWithoutUdevd, RejectsAFilterBeyondItsLimits) {
  devices::filter f;
  for (int i = 0; i < 40; ++i) f.properties["P" + std::to_string(i)] = "*";
  const auto e = expect_error(devices::list(guest, f));
  EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument) << e.what();
}

TEST_F(AnAgentWithoutUdevd, RejectsAMalformedWaitRequest) {
  const auto e = expect_error(guest.call("devices.Wait", std::string("\xff\xff\xff", 3)));
  EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument) << e.what();
}

TEST(TheDevicesApi, RefusesAWaitWithoutAPositiveTimeoutBeforeCallingTheAgent) {
  asio::io_context ctx;
  client guest(ctx.get_executor(), {.socket_path = "/nonexistent/tether.sock", .call_timeout = 10s});
  const auto e = test::error_of(ctx, devices::wait(guest, {}, {.timeout = 0ms}));
  EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
}

TEST(TheDevicesApi, TurnsAFilterIntoItsWireForm) {
  const auto p = devices::detail::to_proto(devices::filter{.subsystem = "block",
                                                          .devtype = "disk",
                                                          .sys_name = "vd*",
                                                          .properties = {{"ID_SERIAL", "disk7"}},
                                                          .tags = {"systemd"},
                                                          .attributes = {{"size", "2048"}}});
  EXPECT_EQ(p.subsystem(), "block");
  EXPECT_EQ(p.devtype(), "disk");
  EXPECT_EQ(p.sysname(), "vd*");
  EXPECT_EQ(p.properties().at("ID_SERIAL"), "disk7");
  ASSERT_EQ(p.tags_size(), 1);
  EXPECT_EQ(p.tags(0), "systemd");
  EXPECT_EQ(p.sysattrs().at("size"), "2048");
}

// tetherctl's device commands, as a user runs them.

class TetherctlDevices : public test::tetherctl_test {
 protected:
  TetherctlDevices() : tetherctl_test(no_udevd) {}
};

TEST_F(TetherctlDevices, ReportsAMissingUdevdAsAGuestErrorForEveryCommand) {
  for (const char* cmd : {"devices", "wait-device --subsystem block --timeout 600", "events --subsystem block"}) {
    auto r = test::run_tetherctl(sock() + cmd);
    EXPECT_EQ(r.status, 1) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("systemd-udevd is not running"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST_F(TetherctlDevices, RejectsMalformedFiltersAsUsageErrors) {
  EXPECT_EQ(test::run_tetherctl(sock() + "devices --property ID_SERIAL").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "devices --attr =x").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "wait-device --timeout soon").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "events --resume-after -1").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "devices --frobnicate").status, 2);
}

TEST_F(TetherctlDevices, PassesAttributeFiltersToTheAgentWhichRefusesUnsafeOnes) {
  auto r = test::run_tetherctl(sock() + "devices --attr ../../etc/shadow=root*");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("relative path"), std::string::npos) << r.out;
}

TEST(TetherctlDevicesHelp, DescribesTheFilterFlags) {
  auto r = test::run_tetherctl("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"wait-device", "events", "--property K=GLOB", "--attr K=GLOB", "qmp --qmp PATH"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

}  // namespace
}  // namespace tether
