// One host process against many loopback agents (the real tether-agent
// binary, --listen-unix): mixed calls on one io_context for a while, with
// the host's memory and descriptors compared after warm-up and at the end.
// The load benchmark (bench/tether_load.cpp) and the short loopback test
// (tests/loopback/load_test.cpp) both run this; only the benchmark prints
// timings.
//
// Each agent gets, concurrently: a loop of ping, exec /bin/true and a 4 KiB
// upload into its own --files-root, and one event subscription held for the
// whole run. The subscription is stats.Subscribe, not devices.Subscribe:
// without systemd-udevd (this host, and CI) the agent answers every devices
// call UNAVAILABLE at once, so a devices subscription would be a failed call,
// not a held stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tether::test {

struct load_options {
  int agents = 256;
  std::chrono::seconds duration{60};  // after warm-up
  std::chrono::seconds warmup{5};
  std::size_t upload_bytes = 4096;
};

struct load_report {
  int agents = 0;
  double seconds = 0;  // measured part (after warm-up)
  std::uint64_t calls = 0;     // completed in the measured part
  std::uint64_t failures = 0;  // calls that threw, in any phase
  std::uint64_t pings = 0, execs = 0, uploads = 0, events = 0;
  std::vector<std::string> first_failures;  // up to 5 messages
  double p50_us = 0, p99_us = 0, calls_per_second = 0;
  // Host process: VmRSS and open descriptors after warm-up and at the end.
  std::uint64_t rss_kib_warm = 0, rss_kib_end = 0;
  std::uint64_t fds_warm = 0, fds_end = 0;
  // The agents' VmRSS summed, after warm-up and at the end.
  std::uint64_t agents_rss_kib_warm = 0, agents_rss_kib_end = 0;
};

// Raises RLIMIT_NOFILE to its hard limit (each agent costs the host a socket
// and a readiness socket while it starts). Throws if that is below `need`.
void raise_fd_limit(std::uint64_t need);

load_report run_load(const load_options& opts);

}  // namespace tether::test
