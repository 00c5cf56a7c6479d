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
    auto row = [](const char* measure, const std::string& value) {
      std::printf("| %s | %s |\n", measure, value.c_str());
    };
    auto n = [](auto v) { return std::to_string(static_cast<unsigned long long>(v)); };
    std::printf("| measure | value |\n|---|---|\n");
    row("calls/s", n(r.calls_per_second));
    row("latency p50 / p99 (ms)", std::to_string(r.p50_us / 1000).substr(0, 6) + " / " +
                                      std::to_string(r.p99_us / 1000).substr(0, 6));
    row("calls: ping / exec / upload", n(r.pings) + " / " + n(r.execs) + " / " + n(r.uploads));
    row("stats events received", n(r.events));
    row("failed calls", n(r.failures));
    row("host VmRSS KiB, warm -> end", n(r.rss_kib_warm) + " -> " + n(r.rss_kib_end));
    row("host descriptors, warm -> end", n(r.fds_warm) + " -> " + n(r.fds_end));
    row("agents' VmRSS MiB (sum), warm -> end", n(r.agents_rss_kib_warm / 1024) + " -> " + n(r.agents_rss_kib_end / 1024));
    for (const auto& f : r.first_failures) std::printf("failure: %s\n", f.c_str());
    return r.failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tether-load: %s\n", e.what());
    return 1;
  }
}
