// The fast guest as the QGA VM tests use it (qga_vm_test.cpp,
// qga_compare_vm_test.cpp), set up once per binary: a loop-mounted ext4 (the
// guest's only freezable filesystem), a second tether-agent serving QGA on
// the org.qemu.guest_agent.0 port qemu-ga held (its freeze guards: 5 s
// after a freeze, 1 s without a host), and the real qemu-ga moved to the
// spare port org.tether.raw.0, as the reference for comparisons.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/exec.hpp"
#include "vm_fixture.hpp"

namespace tether::test {

inline constexpr const char* qga_setup_script = R"(set -e
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
# Until qemu-ga let go of the port: tether-agent would find it busy and try
# again only 5 s later.
for i in $(seq 300); do kill -0 $ga 2>/dev/null || break; sleep 0.1; done
! kill -0 $ga 2>/dev/null
setsid /usr/bin/tether-agent --listen-unix /tmp/qga-agent.sock --qga-port org.qemu.guest_agent.0 \
  --qga-freeze-limit-ms 5000 --qga-freeze-host-gone-ms 1000 --audit off </dev/null >/dev/console 2>&1 &
setsid /usr/sbin/qemu-ga -m virtio-serial -p /dev/virtio-ports/org.tether.raw.0 -f /run/qemu-ga-ref.pid \
  </dev/null >/dev/console 2>&1 &
# Until both serve (qemu-ga holds its port open): exec.Run kills this
# script's process group when the script ends, which would take them along
# if setsid had not run yet.
ref_ready() { p=$(pidof qemu-ga) && ls -l /proc/$p/fd 2>/dev/null | grep -q vport; }
for i in $(seq 600); do [ -S /tmp/qga-agent.sock ] && ref_ready && break; sleep 0.1; done
[ -S /tmp/qga-agent.sock ] && ref_ready
)";

class GuestQga : public vm_client_test {
 protected:
  static inline std::optional<std::string> set_up;  // the setup's failure, or "" when it worked

  void SetUp() override {
    if (!set_up) {
      const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"sh", "-c", qga_setup_script}}),
                             std::chrono::seconds(120));
      set_up = r.result.exit_code == 0 ? "" : "setup failed: " + r.out + r.err;
    }
    ASSERT_EQ(*set_up, "");
  }

  // tether's QGA, and qemu-ga's on the spare port.
  std::string tether_qga_socket() const { return guest.qga_socket(); }
  std::string qemu_ga_socket() const { return guest.raw_socket(); }

  boost::json::value ask(qga_client& c, const std::string& req) {
    return boost::json::parse(c.request(req, std::chrono::seconds(60)));
  }
  std::string status(qga_client& c) {
    return std::string(ask(c, "{\"execute\":\"guest-fsfreeze-status\"}").at("return").as_string());
  }
  // A shell command in the guest through tether's own protocol; its output.
  std::string sh(const std::string& script) {
    const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"sh", "-c", script}}), std::chrono::seconds(60));
    EXPECT_EQ(r.result.exit_code, 0) << script << ": " << r.err;
    return r.out;
  }
};

}  // namespace tether::test
