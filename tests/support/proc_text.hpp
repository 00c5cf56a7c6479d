// Parsers for the /proc files that tests check tether's answers against.
// They take the text, not a path, so one parser serves this machine's /proc
// (read with slurp) and a guest's (read through qemu-ga) alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether::test::proc {

// The number of a "Key:  N kB" line (/proc/meminfo, /proc/PID/status), in
// KiB; 0 when there is no such line.
std::uint64_t kib_field(std::string_view text, std::string_view key);
// The "cpuN" lines of /proc/stat: one per online CPU.
std::uint32_t cpu_lines(std::string_view stat);
// The number of a "key N" line of /proc/stat (btime, ctxt, ...); 0 if absent.
std::uint64_t stat_value(std::string_view stat, std::string_view key);

// Of /proc/PID/stat: utime + stime, in clock ticks.
long cpu_ticks(std::string_view pid_stat);
// Of /proc/PID/stat: true when there is none (empty text: the process does
// not exist) or the process is a zombie, which its new parent (init) reaps.
bool process_gone(std::string_view pid_stat);

// The devices of /proc/diskstats that completed at least one read.
std::vector<std::string> disks_that_read(std::string_view diskstats);
// The interface names of /proc/net/dev, in its order.
std::vector<std::string> interface_names(std::string_view net_dev);

}  // namespace tether::test::proc
