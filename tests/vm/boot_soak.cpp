// tether-boot-soak: boots a test guest many times, N at a time, and counts
// the boots that hang (console silent past the limit) or fail. It measures
// the rig: scripts/boot-soak.sh runs it, optionally beside a parallel build.
//
//   tether-boot-soak --guest fast|debian [--boots 40] [--parallel 2]
//                    [--silence-limit 60] [--timeout 300] [--retry]
//                    [--append "kernel options"] [--smp N] [--qemu-arg ARG]...
//
// Without --retry a stalled boot counts as a hang and is not booted again
// (the VM tests retry once). Hung boots keep their state directory.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/qemu_guest.hpp"

using namespace tether::test;

int main(int argc, char** argv) {
  std::string guest = "fast";
  int boots = 40, parallel = 2, silence = 60, timeout = 300;
  bool retry = false;
  std::string extra_append;
  int smp = 0;
  std::vector<std::string> qemu_args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "tether-boot-soak: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--guest") guest = value();
    else if (a == "--boots") boots = std::stoi(value());
    else if (a == "--parallel") parallel = std::stoi(value());
    else if (a == "--silence-limit") silence = std::stoi(value());
    else if (a == "--timeout") timeout = std::stoi(value());
    else if (a == "--retry") retry = true;
    else if (a == "--append") extra_append = value();  // experiments: kernel options
    else if (a == "--smp") smp = std::stoi(value());
    else if (a == "--qemu-arg") qemu_args.push_back(value());
    else {
      std::cerr << "usage: tether-boot-soak --guest fast|debian [--boots N] [--parallel N] [--silence-limit S] "
                   "[--timeout S] [--retry] [--append OPTS] [--smp N] [--qemu-arg ARG]...\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  boot_options base;
  const std::string dir = std::string(TETHER_GUEST_DIR) + "/" + guest;
  base.kernel = dir + "/vmlinuz";
  base.initrd = dir + "/initrd.img";
  if (guest == "debian") {
    base.disk = dir + "/rootfs.img";
    base.append = "root=/dev/vda rw systemd.show_status=1";
    base.mem_mb = 1024;
    base.allow_reboot = true;
  } else if (guest == "fast") {
    base.mem_mb = 1024;
  } else {
    std::cerr << "tether-boot-soak: --guest is fast or debian\n";
    return 2;
  }
  if (!extra_append.empty()) base.append += (base.append.empty() ? "" : " ") + extra_append;
  base.smp = smp;
  base.qemu_args = qemu_args;
  base.silence_limit = std::chrono::seconds(silence);
  base.ready_timeout = std::chrono::seconds(timeout);
  base.attempts = retry ? 2 : 1;
  base.keep_failed_state = true;  // the evidence: where each hung boot stopped

  std::atomic<int> next{0}, ready{0}, hung{0}, failed{0}, retried{0};
  std::mutex out;
  std::vector<double> times, silences;
  auto worker = [&] {
    for (int n; (n = next++) < boots;) {
      auto o = base;
      o.label = guest + " boot " + std::to_string(n + 1);
      try {
        qemu_guest g(o);
        const auto& r = g.report();
        ready++;
        retried += r.stalls;
        std::lock_guard l(out);
        times.push_back(r.seconds);
        silences.push_back(r.longest_silence);
        std::printf("%-16s ready in %5.1f s  (longest console silence %4.1f s%s)\n", o.label.c_str(), r.seconds,
                    r.longest_silence, r.stalls ? ", after a retry" : "");
        std::fflush(stdout);
      } catch (const boot_error& e) {
        (e.report.stalls ? hung : failed)++;
        std::lock_guard l(out);
        std::printf("%-16s %s\n%s\n", o.label.c_str(), e.report.stalls ? "HUNG" : "FAILED", e.what());
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < parallel; ++i) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  std::sort(times.begin(), times.end());
  std::sort(silences.begin(), silences.end());
  auto at = [](const std::vector<double>& v, double q) { return v.empty() ? 0.0 : v[static_cast<size_t>(q * (v.size() - 1))]; };
  std::printf("boot-soak: %s guest, %d boots, %d at a time: %d ready, %d hung (console silent %d s), %d failed"
              "%s; ready in median %.1f s, max %.1f s; longest console silence median %.1f s, max %.1f s\n",
              guest.c_str(), boots, parallel, ready.load(), hung.load(), silence, failed.load(),
              retry ? (", " + std::to_string(retried.load()) + " retried").c_str() : "", at(times, 0.5),
              at(times, 1.0), at(silences, 0.5), at(silences, 1.0));
  return hung || failed ? 1 : 0;
}
