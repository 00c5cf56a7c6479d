// The test suite's own /proc parsers (tests/support/proc_text): the loopback
// and VM tests trust them to read what the agent is checked against, so a
// parser that found nothing would let those comparisons pass vacuously.
#include "support/proc_text.hpp"

#include <gtest/gtest.h>

namespace tether::test::proc {
namespace {

TEST(ProcText, ReadsKibFieldsOfMeminfoAndStatus) {
  const std::string meminfo = "MemTotal:       16318060 kB\nMemFree:         1234 kB\nSwapTotal:             0 kB\n";
  EXPECT_EQ(kib_field(meminfo, "MemTotal"), 16318060u);
  EXPECT_EQ(kib_field(meminfo, "MemFree"), 1234u);
  EXPECT_EQ(kib_field(meminfo, "Mem"), 0u);  // a prefix of a key is not the key
  EXPECT_EQ(kib_field(meminfo, "Cached"), 0u);
  EXPECT_EQ(kib_field("Name:\ttether-agent\nState:\tS (sleeping)\nVmRSS:\t    5120 kB\n", "VmRSS"), 5120u);
}

TEST(ProcText, CountsCpusAndReadsStatValues) {
  const std::string stat =
      "cpu  10 0 20 300 0 0 0 0 0 0\ncpu0 5 0 10 150 0 0 0 0 0 0\ncpu1 5 0 10 150 0 0 0 0 0 0\n"
      "intr 1 2 3\nctxt 987654\nbtime 1700000000\nprocesses 4242\n";
  EXPECT_EQ(cpu_lines(stat), 2u);
  EXPECT_EQ(stat_value(stat, "btime"), 1700000000u);
  EXPECT_EQ(stat_value(stat, "ctxt"), 987654u);
  EXPECT_EQ(stat_value(stat, "proc"), 0u);
}

TEST(ProcText, ReadsCpuTicksAndStatePastACommandNameWithSpacesAndParentheses) {
  // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const std::string running = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 17 25 0 0 20 0 1 0 5 0 0\n";
  EXPECT_EQ(cpu_ticks(running), 42);
  EXPECT_FALSE(process_gone(running));
  EXPECT_TRUE(process_gone("43 (sh) Z 1 43 43 0 -1 4194564 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n"));
  EXPECT_TRUE(process_gone(""));
}

TEST(ProcText, ListsDisksThatReadAndInterfacesInOrder) {
  const std::string diskstats = "   8       0 sda 1200 3 4500 60 0 0 0 0 0 0 0\n"
                                "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n"
                                " 253       0 vda 7 0 56 1 2 0 16 0 0 3 1\n";
  EXPECT_EQ(disks_that_read(diskstats), (std::vector<std::string>{"sda", "vda"}));
  const std::string net_dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
      "    lo:    3267      29    0    0    0     0          0         0     3267      29\n"
      "  eth0: 102099643    1942    1    2    3     4          5         6    78352    1075\n";
  EXPECT_EQ(interface_names(net_dev), (std::vector<std::string>{"lo", "eth0"}));
}

}  // namespace
}  // namespace tether::test::proc
