// The load benchmark: one host process against 256 loopback agents (real
// tether-agent binaries, --listen-unix) for 60 s of mixed calls
// (tests/support/load_driver.hpp says which). Prints calls/s, p50/p99
// latency, failures, and the host's and agents' memory and descriptors
// after warm-up and at the end. Needs no guest; run from the build tree:
//   bench/tether-load [AGENTS] [SECONDS]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "support/load_driver.hpp"

int main(int argc, char** argv) {
  tether::test::load_options opts;
  if (argc > 1) opts.agents = std::atoi(argv[1]);
  if (argc > 2) opts.duration = std::chrono::seconds(std::atoi(argv[2]));
  if (opts.agents < 1 || opts.duration.count() < 1) {
    std::fprintf(stderr, "usage: tether-load [AGENTS >= 1] [SECONDS >= 1]\n");
    return 2;
  }
  try {
    const auto r = tether::test::run_load(opts);
    std::printf("load: %d loopback agents, one host process, %.1f s after %lld s warm-up\n", r.agents, r.seconds,
                static_cast<long long>(opts.warmup.count()));
    std::printf("| %-28s | %14s |\n|------------------------------|----------------|\n", "measure", "value");
    std::printf("| %-28s | %14.0f |\n", "calls/s", r.calls_per_second);
    std::printf("| %-28s | %14.0f |\n", "p50 latency (us)", r.p50_us);
    std::printf("| %-28s | %14.0f |\n", "p99 latency (us)", r.p99_us);
    std::printf("| %-28s | %14llu |\n", "calls (ping/exec/upload)", static_cast<unsigned long long>(r.calls));
    std::printf("| %-28s | %4llu/%4llu/%4llu |\n", "  of which ping/exec/upload", static_cast<unsigned long long>(r.pings),
                static_cast<unsigned long long>(r.execs), static_cast<unsigned long long>(r.uploads));
    std::printf("| %-28s | %14llu |\n", "stats events received", static_cast<unsigned long long>(r.events));
    std::printf("| %-28s | %14llu |\n", "failed calls", static_cast<unsigned long long>(r.failures));
    std::printf("| %-28s | %6llu -> %5llu |\n", "host VmRSS KiB (warm->end)",
                static_cast<unsigned long long>(r.rss_kib_warm), static_cast<unsigned long long>(r.rss_kib_end));
    std::printf("| %-28s | %6llu -> %5llu |\n", "host fds (warm->end)", static_cast<unsigned long long>(r.fds_warm),
                static_cast<unsigned long long>(r.fds_end));
    std::printf("| %-28s | %6llu -> %5llu |\n", "agents' VmRSS MiB (sum)",
                static_cast<unsigned long long>(r.agents_rss_kib_warm / 1024),
                static_cast<unsigned long long>(r.agents_rss_kib_end / 1024));
    for (const auto& f : r.first_failures) std::printf("failure: %s\n", f.c_str());
    return r.failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tether-load: %s\n", e.what());
    return 1;
  }
}
