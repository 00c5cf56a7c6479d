// What a stats sample may hold and where its readers look: limits against
// a host asking too much, options of one sample, and the roots tests move.
#pragma once

#include <sys/statvfs.h>

#include <chrono>
#include <cstddef>
#include <string>

namespace tether::agent {

struct stats_limits {
  // Longest list of CPUs, disks, filesystems or interfaces in one sample;
  // longer lists are cut (and the cut reported in StatsSample.errors).
  std::size_t max_list_entries = 1024;
  // How long a sample waits for statvfs of all mounts before it is sent
  // without filesystems (and an error naming the mount that hangs).
  std::chrono::milliseconds statvfs_timeout{1000};
  // Largest serialized sample; above it per-CPU detail, then the device
  // lists are dropped, so a sample always fits the host's frame limit
  // (libtether accepts 1 MiB by default).
  std::size_t max_sample_bytes = 512 * 1024;
  // Subscriptions running at once (all sessions): each reads /proc on its
  // own timer, so a host must not be able to start a thousand of them.
  std::size_t max_subscriptions = 16;
};

struct collect_options {
  // List ram/loop/zram/nbd devices that never did I/O.
  bool include_idle_devices = false;
};

// Where the kernel's files are, and the statvfs to call: tests point these
// at fixture trees and at a statvfs that hangs.
struct stats_roots {
  std::string proc = "/proc";
  std::string sys = "/sys";
  int (*statvfs_fn)(const char*, struct statvfs*) = ::statvfs;
};

}  // namespace tether::agent
