// The /proc parsers against text captured from real kernels, and against
// odd input: older and newer layouts, missing pieces, garbage.
#include "sys/procfs.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tether::agent::procfs {
namespace {

// Captured on Linux 6.x (2 CPUs); the intr line shortened.
constexpr std::string_view stat_fixture =
    "cpu  56483 0 14354 607296 642 0 119 82 0 0\n"
    "cpu0 26242 0 6567 306423 119 0 23 40 0 0\n"
    "cpu1 30240 0 7787 300872 522 0 95 42 0 0\n"
    "intr 473206 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 15 0 0 0 0 680 271\n"
    "ctxt 756169\n"
    "btime 1795385732\n"
    "processes 36037\n"
    "procs_running 1\n"
    "procs_blocked 0\n"
    "softirq 332476 0 58563 4 2485 78787 0 3 91934 0 100700\n";

TEST(ParseStat, ReadsTotalAndPerCpuTimesAndCounters) {
  auto s = parse_stat(stat_fixture);
  ASSERT_TRUE(s.total);
  EXPECT_EQ(s.total->user, 56483u);
  EXPECT_EQ(s.total->system, 14354u);
  EXPECT_EQ(s.total->idle, 607296u);
  EXPECT_EQ(s.total->iowait, 642u);
  EXPECT_EQ(s.total->softirq, 119u);
  EXPECT_EQ(s.total->steal, 82u);
  ASSERT_EQ(s.per_cpu.size(), 2u);
  EXPECT_EQ(s.per_cpu[0].cpu, 0);
  EXPECT_EQ(s.per_cpu[1].cpu, 1);
  EXPECT_EQ(s.per_cpu[1].times.user, 30240u);
  EXPECT_EQ(s.per_cpu[1].times.steal, 42u);
  EXPECT_EQ(s.context_switches, 756169u);
  EXPECT_EQ(s.interrupts, 473206u);
  EXPECT_EQ(s.forks, 36037u);
  EXPECT_EQ(s.boot_time, 1795385732u);
  EXPECT_EQ(s.procs_running, 1u);
  EXPECT_EQ(s.procs_blocked, 0u);
}

TEST(ParseStat, KeepsCpuNumbersOfSparseOnlineCpus) {
  // CPU 1 offline: its line is missing, numbering is not compacted.
  auto s = parse_stat("cpu 1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1\ncpu2 2 2 2 2\ncpu17 3 3 3 3\n");
  ASSERT_EQ(s.per_cpu.size(), 3u);
  EXPECT_EQ(s.per_cpu[1].cpu, 2);
  EXPECT_EQ(s.per_cpu[2].cpu, 17);
  EXPECT_EQ(s.total->guest, 9u);
  EXPECT_EQ(s.total->guest_nice, 10u);
}

TEST(ParseStat, AcceptsOldKernelsWithFewerFieldsAndNewOnesWithMore) {
  auto old = parse_stat("cpu 10 20 30 40\ncpu0 10 20 30 40\n");
  ASSERT_TRUE(old.total);
  EXPECT_EQ(old.total->idle, 40u);
  EXPECT_EQ(old.total->iowait, 0u);
  EXPECT_EQ(old.total->steal, 0u);
  auto future = parse_stat("cpu 1 2 3 4 5 6 7 8 9 10 11 12 13\n");
  ASSERT_TRUE(future.total);
  EXPECT_EQ(future.total->guest_nice, 10u);
}

TEST(ParseStat, IgnoresMalformedLinesWithoutCrashing) {
  auto s = parse_stat(
      "cpu 1 2 x 4\n"        // not a number: the whole line is skipped
      "cpu0 1 2\n"           // too few fields
      "cpux 1 2 3 4\n"       // not a CPU number
      "cpu-1 1 2 3 4\n"      // negative
      "cpu1 5 6 7 8\n"       // fine
      "ctxt\n"               // no value
      "ctxt many\n"          // not a number
      "procs_running 99999999999999999999999\n"  // overflow
      "\n\n   \n"
      "garbage line here\n"
      "processes 12");       // no final newline
  EXPECT_FALSE(s.total);
  ASSERT_EQ(s.per_cpu.size(), 1u);
  EXPECT_EQ(s.per_cpu[0].cpu, 1);
  EXPECT_EQ(s.context_switches, 0u);
  EXPECT_EQ(s.procs_running, 0u);
  EXPECT_EQ(s.forks, 12u);
}

TEST(ParseStat, ReturnsNothingForEmptyOrBinaryInput) {
  EXPECT_FALSE(parse_stat("").total);
  const std::string junk("\0\xff\x01 cpu \x80\x80", 10);
  auto s = parse_stat(junk);
  EXPECT_FALSE(s.total);
  EXPECT_TRUE(s.per_cpu.empty());
}

constexpr std::string_view meminfo_fixture =
    "MemTotal:       24684092 kB\n"
    "MemFree:        24107664 kB\n"
    "MemAvailable:   24306332 kB\n"
    "Buffers:             620 kB\n"
    "Cached:           364900 kB\n"
    "SwapCached:            0 kB\n"
    "Active:           139152 kB\n"
    "Dirty:                96 kB\n"
    "Writeback:             0 kB\n"
    "Shmem:              8856 kB\n"
    "SReclaimable:     106568 kB\n"
    "SwapTotal:       1048572 kB\n"
    "SwapFree:         524288 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST(ParseMeminfo, ConvertsKibibytesToBytes) {
  auto m = parse_meminfo(meminfo_fixture);
  EXPECT_EQ(m.total, 24684092ull * 1024);
  EXPECT_EQ(m.free, 24107664ull * 1024);
  EXPECT_EQ(m.available, 24306332ull * 1024);
  EXPECT_EQ(m.buffers, 620ull * 1024);
  EXPECT_EQ(m.cached, 364900ull * 1024);
  EXPECT_EQ(m.shmem, 8856ull * 1024);
  EXPECT_EQ(m.slab_reclaimable, 106568ull * 1024);
  EXPECT_EQ(m.dirty, 96ull * 1024);
  EXPECT_EQ(m.writeback, 0u);
  EXPECT_EQ(m.swap_total, 1048572ull * 1024);
  EXPECT_EQ(m.swap_free, 524288ull * 1024);
  EXPECT_EQ(m.swap_cached, 0u);
}

TEST(ParseMeminfo, LeavesMemAvailableUnsetOnOldKernels) {
  auto m = parse_meminfo("MemTotal: 1000 kB\nMemFree: 500 kB\nBuffers: 1 kB\nCached: 2 kB\n");
  EXPECT_EQ(m.total, 1000u * 1024);
  EXPECT_FALSE(m.available);
  EXPECT_FALSE(m.swap_total);
}

TEST(ParseMeminfo, SkipsLinesWithUnknownUnitsOrNoNumber) {
  auto m = parse_meminfo("MemTotal: 7 MB\nMemFree:\nCached: lots kB\nBuffers 12 kB\nDirty: 3 kB\n");
  EXPECT_FALSE(m.total);  // unit it does not know: not guessed
  EXPECT_FALSE(m.free);
  EXPECT_FALSE(m.cached);
  EXPECT_FALSE(m.buffers);  // no colon
  EXPECT_EQ(m.dirty, 3u * 1024);
}

TEST(ParseLoadavg, ReadsLoadsTasksAndLastPid) {
  auto l = parse_loadavg("0.45 0.49 0.34 1/89 3574\n");
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->load1, 0.45);
  EXPECT_DOUBLE_EQ(l->load5, 0.49);
  EXPECT_DOUBLE_EQ(l->load15, 0.34);
  EXPECT_EQ(l->running, 1u);
  EXPECT_EQ(l->total, 89u);
  EXPECT_EQ(l->last_pid, 3574u);
}

TEST(ParseLoadavg, RejectsMalformedText) {
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("0.1 0.2"));
  EXPECT_FALSE(parse_loadavg("0.1 0.2 0.3 189"));  // no slash
  EXPECT_FALSE(parse_loadavg("a b c 1/2 3"));
  EXPECT_TRUE(parse_loadavg("0.1 0.2 0.3 1/2"));  // last pid missing: fine
}

TEST(ParseUptime, ReadsUpAndIdleSeconds) {
  auto u = parse_uptime("3402.33 6072.96\n");
  ASSERT_TRUE(u);
  EXPECT_DOUBLE_EQ(u->up_seconds, 3402.33);
  EXPECT_DOUBLE_EQ(u->idle_seconds, 6072.96);
  EXPECT_FALSE(parse_uptime(""));
  EXPECT_FALSE(parse_uptime("-5 3"));
  EXPECT_FALSE(parse_uptime("soon"));
}

TEST(ParsePressure, ReadsSomeAndFullLines) {
  auto p = parse_pressure(
      "some avg10=0.00 avg60=0.11 avg300=0.43 total=17459628\n"
      "full avg10=1.50 avg60=0.04 avg300=0.04 total=4741117\n");
  ASSERT_TRUE(p.some);
  ASSERT_TRUE(p.full);
  EXPECT_DOUBLE_EQ(p.some->avg60, 0.11);
  EXPECT_DOUBLE_EQ(p.some->avg300, 0.43);
  EXPECT_EQ(p.some->total_us, 17459628u);
  EXPECT_DOUBLE_EQ(p.full->avg10, 1.50);
  EXPECT_EQ(p.full->total_us, 4741117u);
}

TEST(ParsePressure, LeavesFullUnsetWhereTheKernelHasNone) {
  // /proc/pressure/cpu before Linux 5.13.
  auto p = parse_pressure("some avg10=2.04 avg60=0.75 avg300=0.40 total=157656722\n");
  ASSERT_TRUE(p.some);
  EXPECT_FALSE(p.full);
  EXPECT_FALSE(p.empty());
}

TEST(ParsePressure, IgnoresIncompleteMalformedAndUnknownLines) {
  auto p = parse_pressure(
      "some avg10=0.00 avg60=0.11 total=1\n"          // avg300 missing
      "full avg10=x avg60=0 avg300=0 total=0\n"       // not a number
      "partial avg10=0 avg60=0 avg300=0 total=0\n");  // unknown kind
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(parse_pressure("").empty());
  // Unknown extra keys (a future kernel) are ignored, order does not matter.
  auto q = parse_pressure("some total=9 avg300=3 avg60=2 avg10=1 avg1=0.5\n");
  ASSERT_TRUE(q.some);
  EXPECT_EQ(q.some->total_us, 9u);
  EXPECT_DOUBLE_EQ(q.some->avg10, 1);
}

// Linux 5.5+ (17 numbers), as captured, plus a 4.18-style line (15) and a
// pre-4.18 line (11).
constexpr std::string_view diskstats_fixture =
    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 254       0 vda 52244 11449 6077050 24121 32130 12102 7152760 19177 0 10864 44255 6727 48 3510352 897 1511 58\n"
    " 254       1 vda1 52000 11000 6000000 24000 32000 12000 7100000 19000 2 10800 44000 6700 40 3500000 890\n"
    "   8       0 sda 100 0 800 10 50 0 400 5 0 12 15\n"
    " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ParseDiskstats, ReadsEveryKernelGenerationsFields) {
  auto d = parse_diskstats(diskstats_fixture);
  ASSERT_EQ(d.size(), 5u);
  const auto& vda = d[1];
  EXPECT_EQ(vda.name, "vda");
  EXPECT_EQ(vda.major, 254u);
  EXPECT_EQ(vda.minor, 0u);
  EXPECT_EQ(vda.reads_completed, 52244u);
  EXPECT_EQ(vda.reads_merged, 11449u);
  EXPECT_EQ(vda.sectors_read, 6077050u);
  EXPECT_EQ(vda.read_ms, 24121u);
  EXPECT_EQ(vda.writes_completed, 32130u);
  EXPECT_EQ(vda.writes_merged, 12102u);
  EXPECT_EQ(vda.sectors_written, 7152760u);
  EXPECT_EQ(vda.write_ms, 19177u);
  EXPECT_EQ(vda.ios_in_progress, 0u);
  EXPECT_EQ(vda.io_ms, 10864u);
  EXPECT_EQ(vda.weighted_io_ms, 44255u);
  EXPECT_EQ(vda.discards_completed, 6727u);
  EXPECT_EQ(vda.sectors_discarded, 3510352u);
  EXPECT_EQ(vda.flushes_completed, 1511u);
  const auto& vda1 = d[2];
  EXPECT_EQ(vda1.ios_in_progress, 2u);
  EXPECT_EQ(vda1.discards_completed, 6700u);
  EXPECT_EQ(vda1.sectors_discarded, 3500000u);
  EXPECT_FALSE(vda1.flushes_completed);  // 4.18 layout: no flush fields
  const auto& sda = d[3];
  EXPECT_EQ(sda.weighted_io_ms, 15u);
  EXPECT_FALSE(sda.discards_completed);
  EXPECT_TRUE(d[0].idle());
  EXPECT_FALSE(vda.idle());
  EXPECT_TRUE(d[4].idle());
}

TEST(ParseDiskstats, ReadsTheFourFieldPartitionLinesOfOld26Kernels) {
  auto d = parse_diskstats("   8    1 sda1 38 76 5 10\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reads_completed, 38u);
  EXPECT_EQ(d[0].sectors_read, 76u);
  EXPECT_EQ(d[0].writes_completed, 5u);
  EXPECT_EQ(d[0].sectors_written, 10u);
}

TEST(ParseDiskstats, SkipsTruncatedAndMalformedLines) {
  auto d = parse_diskstats(
      "   8 0 sda 1 2 3\n"                        // too few numbers
      "   x 0 sdb 1 2 3 4 5 6 7 8 9 10 11\n"      // bad major
      "   8 16\n"                                 // no name
      "   8 32 sdc 1 2 3 4 5 6 7 8 9 10 x\n"      // garbage in the numbers
      "   8 48 sdd 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n");  // more than known
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].name, "sdd");
  EXPECT_EQ(d[0].flushes_completed, 16u);
}

constexpr std::string_view mounts_fixture =
    "proc /proc proc rw,relatime 0 0\n"
    "sysfs /sys sysfs rw,relatime 0 0\n"
    "devtmpfs /dev devtmpfs rw,relatime,size=12334492k,nr_inodes=3083623,mode=755 0 0\n"
    "tmpfs /dev/shm tmpfs rw,relatime,size=24684092k 0 0\n"
    "devpts /dev/pts devpts rw,relatime,mode=600,ptmxmode=000 0 0\n"
    "/dev/vda / ext4 rw,relatime,discard 0 0\n"
    "/dev/vdb1 /mnt/my\\040data ext4 ro,nosuid 0 0\n"
    "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n";

TEST(ParseMounts, ReadsEntriesAndDecodesEscapes) {
  auto m = parse_mounts(mounts_fixture);
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[5].device, "/dev/vda");
  EXPECT_EQ(m[5].mount_point, "/");
  EXPECT_EQ(m[5].fs_type, "ext4");
  EXPECT_FALSE(m[5].read_only);
  EXPECT_EQ(m[6].mount_point, "/mnt/my data");
  EXPECT_TRUE(m[6].read_only);
  EXPECT_EQ(m[6].options, "ro,nosuid");
}

TEST(ParseMounts, SkipsLinesWithTooFewFieldsOrARelativeMountPoint) {
  auto m = parse_mounts("onlydevice\n/dev/a /x\n/dev/b relative ext4 rw 0 0\n/dev/c /ok xfs rw\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/ok");
}

TEST(UnescapeMountField, DecodesOctalAndLeavesOtherBackslashesAlone) {
  EXPECT_EQ(unescape_mount_field("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  EXPECT_EQ(unescape_mount_field("trailing\\04"), "trailing\\04");
  EXPECT_EQ(unescape_mount_field("\\999"), "\\999");
  EXPECT_EQ(unescape_mount_field(""), "");
}

TEST(IsPseudoFilesystem, KnowsKernelStateFromStorage) {
  for (auto t : {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "securityfs", "debugfs", "tracefs",
                 "bpf", "mqueue", "configfs", "fusectl", "hugetlbfs", "pstore", "autofs"})
    EXPECT_TRUE(is_pseudo_filesystem(t)) << t;
  for (auto t : {"tmpfs", "devtmpfs", "ext4", "xfs", "btrfs", "vfat", "nfs4", "overlay", "virtiofs", "9p"})
    EXPECT_FALSE(is_pseudo_filesystem(t)) << t;
}

constexpr std::string_view net_dev_fixture =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
    "    lo:    3267      29    0    0    0     0          0         0     3267      29    0    0    0     0       0          0\n"
    "  eth0: 102099643    1942    1    2    3     4          5         6    78352    1075    7    8    9    10       11          12\n"
    "eth1:4294967296 10 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n";

TEST(ParseNetDev, ReadsCountersAndSkipsTheHeader) {
  auto n = parse_net_dev(net_dev_fixture);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].name, "lo");
  EXPECT_EQ(n[0].rx_bytes, 3267u);
  const auto& eth0 = n[1];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.rx_bytes, 102099643u);
  EXPECT_EQ(eth0.rx_packets, 1942u);
  EXPECT_EQ(eth0.rx_errors, 1u);
  EXPECT_EQ(eth0.rx_dropped, 2u);
  EXPECT_EQ(eth0.rx_multicast, 6u);
  EXPECT_EQ(eth0.tx_bytes, 78352u);
  EXPECT_EQ(eth0.tx_packets, 1075u);
  EXPECT_EQ(eth0.tx_errors, 7u);
  EXPECT_EQ(eth0.tx_dropped, 8u);
  EXPECT_EQ(eth0.tx_collisions, 10u);
  // Old kernels glue large counters to the colon.
  EXPECT_EQ(n[2].name, "eth1");
  EXPECT_EQ(n[2].rx_bytes, 4294967296u);
  EXPECT_EQ(n[2].tx_bytes, 20u);
}

TEST(ParseNetDev, SkipsShortAndMalformedLines) {
  auto n = parse_net_dev("  eth0: 1 2 3\n  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nnocolon 1 2\n"
                         "  wlan0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"
                         "  veth@1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].name, "veth@1");
  EXPECT_EQ(n[0].tx_compressed, 16u);
}

TEST(IsPidName, AcceptsOnlyPositiveDecimalNumbers) {
  EXPECT_TRUE(is_pid_name("1"));
  EXPECT_TRUE(is_pid_name("123456"));
  EXPECT_FALSE(is_pid_name(""));
  EXPECT_FALSE(is_pid_name("self"));
  EXPECT_FALSE(is_pid_name("0"));
  EXPECT_FALSE(is_pid_name("12a"));
  EXPECT_FALSE(is_pid_name("."));
}

}  // namespace
}  // namespace tether::agent::procfs
