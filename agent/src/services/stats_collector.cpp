#include "services/stats_collector.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "sys/procfs.hpp"

namespace tether::agent {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void set_times(v1::CpuTimes& out, const procfs::cpu_times& t) {
  out.set_user(t.user);
  out.set_nice(t.nice);
  out.set_system(t.system);
  out.set_idle(t.idle);
  out.set_iowait(t.iowait);
  out.set_irq(t.irq);
  out.set_softirq(t.softirq);
  out.set_steal(t.steal);
  out.set_guest(t.guest);
  out.set_guest_nice(t.guest_nice);
}

void set_pressure(v1::Pressure& out, const procfs::pressure& p) {
  auto line = [](v1::PressureLine& l, const procfs::pressure_line& x) {
    l.set_avg10(x.avg10);
    l.set_avg60(x.avg60);
    l.set_avg300(x.avg300);
    l.set_total_us(x.total_us);
  };
  if (p.some) line(*out.mutable_some(), *p.some);
  if (p.full) line(*out.mutable_full(), *p.full);
}

// Devices that exist in numbers without being used.
bool is_virtual_idle_candidate(std::string_view name) {
  return name.starts_with("ram") || name.starts_with("loop") || name.starts_with("zram") ||
         name.starts_with("nbd");
}

std::string mac_string(const unsigned char* a, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ':';
    s += hex[a[i] >> 4];
    s += hex[a[i] & 15];
  }
  return s;
}

std::uint32_t prefix_length(const sockaddr* mask) {
  if (!mask) return 0;
  std::uint32_t bits = 0;
  if (mask->sa_family == AF_INET) {
    std::uint32_t m;
    std::memcpy(&m, &reinterpret_cast<const sockaddr_in*>(mask)->sin_addr, 4);
    bits = static_cast<std::uint32_t>(std::popcount(m));
  } else if (mask->sa_family == AF_INET6) {
    const auto* b = reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr;
    for (int i = 0; i < 16; ++i) bits += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(b[i])));
  }
  return bits;
}

// getifaddrs names IPv4 aliases "eth0:1"; they belong to eth0.
std::string_view base_name(std::string_view n) { return n.substr(0, n.find(':')); }

std::uint64_t delta(std::uint64_t cur, std::uint64_t prev) { return cur >= prev ? cur - prev : 0; }

// Interfaces whose sysfs attributes stay open between samples (2 fds each).
constexpr std::size_t max_kept_ifaces = 128;

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

std::uint32_t to_u32(std::string_view s) {
  std::uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

// statvfs of a list of mounts, done on the worker thread. Plain data only:
// it may outlive the collector if a call never returns.
struct fs_work {
  std::vector<procfs::mount_entry> mounts;
  struct result {
    int err = 0;
    struct statvfs st {};
  };
  std::vector<result> results;
  std::atomic<std::size_t> at{0};  // index being statvfs'd (names a hang)
};

struct stats_collector::fs_job {
  explicit fs_job(const asio::any_io_executor& ex)
      : finished(ex, asio::steady_timer::time_point::max()) {}
  std::shared_ptr<fs_work> work = std::make_shared<fs_work>();
  clock::time_point started;
  bool done = false;             // io thread only
  asio::steady_timer finished;   // cancelled when done, waking the waiters
};

stats_collector::stats_collector(asio::any_io_executor ex, stats_limits limits, stats_roots r)
    : ex_(std::move(ex)),
      limits_(limits),
      roots_(std::move(r)),
      stat_(roots_.proc + "/stat"),
      meminfo_(roots_.proc + "/meminfo"),
      loadavg_(roots_.proc + "/loadavg"),
      uptime_(roots_.proc + "/uptime"),
      diskstats_(roots_.proc + "/diskstats", proc_file::layout::records),
      mounts_(roots_.proc + "/self/mounts", proc_file::layout::records),
      net_dev_(roots_.proc + "/net/dev", proc_file::layout::records),
      psi_cpu_(roots_.proc + "/pressure/cpu"),
      psi_memory_(roots_.proc + "/pressure/memory"),
      psi_io_(roots_.proc + "/pressure/io"),
      pids_(roots_.proc),
      clock_ticks_(static_cast<std::uint32_t>(std::max(1L, ::sysconf(_SC_CLK_TCK)))) {}

stats_collector::~stats_collector() = default;

std::size_t stats_collector::proc_syscalls() const {
  std::size_t n = 0;
  for (const auto* f : {&stat_, &meminfo_, &loadavg_, &uptime_, &diskstats_, &mounts_, &net_dev_,
                        &psi_cpu_, &psi_memory_, &psi_io_})
    n += f->syscalls();
  return n;
}

void stats_collector::error(v1::StatsSample& s, const std::string& what, const std::error_code& ec) {
  s.add_errors(what + ": " + ec.message());
}

awaitable<v1::StatsSample> stats_collector::collect(collect_options opts) {
  const auto t0 = clock::now();
  v1::StatsSample s;
  s.set_realtime_ns(now_ns(CLOCK_REALTIME));
  s.set_monotonic_ns(now_ns(CLOCK_MONOTONIC));
  read_uptime(s);
  read_cpu(s);
  read_memory(s);
  read_load(s);
  read_pressure(s);
  read_processes(s);
  read_disks(s, opts);
  read_network(s);
  co_await read_filesystems(s);
  s.set_collect_ns(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count()));
  co_return s;
}

void stats_collector::read_uptime(v1::StatsSample& s) {
  std::error_code ec;
  auto text = uptime_.read(ec);
  if (ec) return error(s, "cannot read " + uptime_.path(), ec);
  if (auto u = procfs::parse_uptime(text)) {
    s.set_uptime_seconds(u->up_seconds);
    s.set_idle_seconds(u->idle_seconds);
  } else {
    s.add_errors(uptime_.path() + ": unexpected content");
  }
}

void stats_collector::read_cpu(v1::StatsSample& s) {
  std::error_code ec;
  auto text = stat_.read(ec);
  if (ec) return error(s, "cannot read " + stat_.path(), ec);
  const auto st = procfs::parse_stat(text);
  auto* cpu = s.mutable_cpu();
  cpu->set_clock_ticks_per_second(clock_ticks_);
  if (st.total) {
    cpu->mutable_total()->set_cpu(-1);
    set_times(*cpu->mutable_total()->mutable_times(), *st.total);
  } else {
    s.add_errors(stat_.path() + ": no \"cpu\" line");
  }
  cpu->set_online_cpus(static_cast<std::uint32_t>(st.per_cpu.size()));
  const auto n = std::min(st.per_cpu.size(), limits_.max_list_entries);
  cpu->mutable_per_cpu()->Reserve(static_cast<int>(n));
  for (std::size_t i = 0; i < n; ++i) {
    auto* c = cpu->add_per_cpu();
    c->set_cpu(st.per_cpu[i].cpu);
    set_times(*c->mutable_times(), st.per_cpu[i].times);
  }
  if (n < st.per_cpu.size())
    s.add_errors("per-CPU list cut at " + std::to_string(n) + " of " + std::to_string(st.per_cpu.size()) + " CPUs");
  cpu->set_context_switches(st.context_switches);
  cpu->set_interrupts(st.interrupts);
  cpu->set_forks(st.forks);
  cpu->set_procs_running(st.procs_running);
  cpu->set_procs_blocked(st.procs_blocked);
  cpu->set_boot_time_seconds(st.boot_time);
}

void stats_collector::read_memory(v1::StatsSample& s) {
  std::error_code ec;
  auto text = meminfo_.read(ec);
  if (ec) return error(s, "cannot read " + meminfo_.path(), ec);
  const auto m = procfs::parse_meminfo(text);
  if (!m.total) {
    s.add_errors(meminfo_.path() + ": no MemTotal");
    return;
  }
  auto* mem = s.mutable_memory();
  mem->set_total_bytes(*m.total);
  mem->set_free_bytes(m.free.value_or(0));
  if (m.available) mem->set_available_bytes(*m.available);
  mem->set_buffers_bytes(m.buffers.value_or(0));
  mem->set_cached_bytes(m.cached.value_or(0));
  mem->set_shmem_bytes(m.shmem.value_or(0));
  mem->set_slab_reclaimable_bytes(m.slab_reclaimable.value_or(0));
  mem->set_dirty_bytes(m.dirty.value_or(0));
  mem->set_writeback_bytes(m.writeback.value_or(0));
  mem->set_swap_total_bytes(m.swap_total.value_or(0));
  mem->set_swap_free_bytes(m.swap_free.value_or(0));
  mem->set_swap_cached_bytes(m.swap_cached.value_or(0));
  const std::uint64_t unused =
      m.available ? *m.available
                  : m.free.value_or(0) + m.buffers.value_or(0) + m.cached.value_or(0);
  mem->set_used_bytes(*m.total > unused ? *m.total - unused : 0);
}

void stats_collector::read_load(v1::StatsSample& s) {
  std::error_code ec;
  auto text = loadavg_.read(ec);
  if (ec) return error(s, "cannot read " + loadavg_.path(), ec);
  auto l = procfs::parse_loadavg(text);
  if (!l) {
    s.add_errors(loadavg_.path() + ": unexpected content");
    return;
  }
  auto* load = s.mutable_load();
  load->set_load1(l->load1);
  load->set_load5(l->load5);
  load->set_load15(l->load15);
  load->set_running_tasks(l->running);
  load->set_total_tasks(l->total);
  load->set_last_pid(l->last_pid);
}

void stats_collector::read_pressure(v1::StatsSample& s) {
  // PSI is optional (CONFIG_PSI, psi=0 on the command line, pre-4.20
  // kernels): a file that cannot be read means "not available", not an error.
  auto one = [&](proc_file& f) -> procfs::pressure {
    std::error_code ec;
    auto text = f.read(ec);
    if (ec) return {};
    return procfs::parse_pressure(text);
  };
  const auto cpu = one(psi_cpu_), memory = one(psi_memory_), io = one(psi_io_);
  if (cpu.empty() && memory.empty() && io.empty()) return;
  auto* p = s.mutable_pressure();
  if (!cpu.empty()) set_pressure(*p->mutable_cpu(), cpu);
  if (!memory.empty()) set_pressure(*p->mutable_memory(), memory);
  if (!io.empty()) set_pressure(*p->mutable_io(), io);
}

void stats_collector::read_processes(v1::StatsSample& s) {
  std::error_code ec;
  const long n = pids_.count(ec);
  if (ec) return error(s, "cannot list " + roots_.proc, ec);
  s.set_process_count(static_cast<std::uint32_t>(n));
}

bool stats_collector::is_partition(std::uint32_t major, std::uint32_t minor, const std::string& name) {
  const auto key = std::make_pair(major, minor);
  if (auto it = partitions_.find(key); it != partitions_.end() && it->second.first == name)
    return it->second.second;
  if (partitions_.size() > 4 * limits_.max_list_entries) partitions_.clear();
  const std::string path =
      roots_.sys + "/dev/block/" + std::to_string(major) + ":" + std::to_string(minor) + "/partition";
  const bool part = ::access(path.c_str(), F_OK) == 0;
  partitions_[key] = {name, part};
  return part;
}

void stats_collector::read_disks(v1::StatsSample& s, const collect_options& opts) {
  std::error_code ec;
  auto text = diskstats_.read(ec);
  if (ec) return error(s, "cannot read " + diskstats_.path(), ec);
  const auto disks = procfs::parse_diskstats(text);
  std::size_t listed = 0, total = 0;
  for (const auto& d : disks) {
    if (!opts.include_idle_devices && d.idle() && is_virtual_idle_candidate(d.name)) continue;
    ++total;
    if (listed >= limits_.max_list_entries) continue;
    ++listed;
    auto* o = s.add_disks();
    o->set_name(d.name);
    o->set_major(d.major);
    o->set_minor(d.minor);
    o->set_partition(is_partition(d.major, d.minor, d.name));
    o->set_reads_completed(d.reads_completed);
    o->set_reads_merged(d.reads_merged);
    o->set_sectors_read(d.sectors_read);
    o->set_read_ms(d.read_ms);
    o->set_writes_completed(d.writes_completed);
    o->set_writes_merged(d.writes_merged);
    o->set_sectors_written(d.sectors_written);
    o->set_write_ms(d.write_ms);
    o->set_ios_in_progress(d.ios_in_progress);
    o->set_io_ms(d.io_ms);
    o->set_weighted_io_ms(d.weighted_io_ms);
    if (d.discards_completed) o->set_discards_completed(*d.discards_completed);
    if (d.sectors_discarded) o->set_sectors_discarded(*d.sectors_discarded);
    if (d.flushes_completed) o->set_flushes_completed(*d.flushes_completed);
  }
  if (listed < total)
    s.add_errors("disk list cut at " + std::to_string(listed) + " of " + std::to_string(total) + " devices");
}

void stats_collector::read_network(v1::StatsSample& s) {
  std::error_code ec;
  auto text = net_dev_.read(ec);
  if (ec) return error(s, "cannot read " + net_dev_.path(), ec);
  const auto devs = procfs::parse_net_dev(text);

  if (link_changes_.changed() || links_stale_) refresh_links(s);

  std::size_t listed = 0;
  for (const auto& d : devs) {
    if (listed >= limits_.max_list_entries) break;
    ++listed;
    auto* o = s.add_interfaces();
    o->set_name(d.name);
    auto [state, mtu] = link_attributes(d.name);
    o->set_oper_state(std::move(state));
    o->set_mtu(mtu);
    if (auto it = links_.find(d.name); it != links_.end()) {
      o->set_mac(it->second.mac);
      o->set_admin_up((it->second.flags & IFF_UP) != 0);
      o->set_running((it->second.flags & IFF_RUNNING) != 0);
      o->set_loopback((it->second.flags & IFF_LOOPBACK) != 0);
      for (const auto& a : it->second.addresses) *o->add_addresses() = a;
    }
    o->set_rx_bytes(d.rx_bytes);
    o->set_rx_packets(d.rx_packets);
    o->set_rx_errors(d.rx_errors);
    o->set_rx_dropped(d.rx_dropped);
    o->set_tx_bytes(d.tx_bytes);
    o->set_tx_packets(d.tx_packets);
    o->set_tx_errors(d.tx_errors);
    o->set_tx_dropped(d.tx_dropped);
    o->set_rx_multicast(d.rx_multicast);
    o->set_collisions(d.tx_collisions);
  }
  if (listed < devs.size())
    s.add_errors("interface list cut at " + std::to_string(listed) + " of " + std::to_string(devs.size()) +
                 " interfaces");
  // Close the descriptors of interfaces that are gone.
  std::erase_if(ifaces_, [](auto& kv) {
    const bool gone = !kv.second->seen;
    kv.second->seen = false;
    return gone;
  });
}

void stats_collector::refresh_links(v1::StatsSample& s) {
  links_.clear();
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    error(s, "getifaddrs", {errno, std::generic_category()});
    links_stale_ = true;  // try again next time
    return;
  }
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_name) continue;
    auto& l = links_[std::string(base_name(a->ifa_name))];
    l.flags |= a->ifa_flags;
    if (!a->ifa_addr) continue;
    const int fam = a->ifa_addr->sa_family;
    if (fam == AF_PACKET) {
      const auto* ll = reinterpret_cast<const sockaddr_ll*>(a->ifa_addr);
      if (ll->sll_halen > 0 && ll->sll_halen <= sizeof ll->sll_addr) l.mac = mac_string(ll->sll_addr, ll->sll_halen);
    } else if (fam == AF_INET || fam == AF_INET6) {
      char buf[INET6_ADDRSTRLEN] = {};
      v1::InterfaceAddress addr;
      if (fam == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
        addr.set_family(v1::InterfaceAddress::FAMILY_IPV4);
      } else {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        addr.set_family(v1::InterfaceAddress::FAMILY_IPV6);
        addr.set_scope_id(in6->sin6_scope_id);
      }
      addr.set_address(buf);
      addr.set_prefix_length(prefix_length(a->ifa_netmask));
      l.addresses.push_back(std::move(addr));
    }
  }
  ::freeifaddrs(list);
  links_stale_ = false;
}

std::pair<std::string, std::uint32_t> stats_collector::link_attributes(const std::string& name) {
  // Names come from the kernel, but never let one walk out of the directory.
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return {};
  const std::string dir = roots_.sys + "/class/net/" + name + "/";
  std::error_code ec;
  auto it = ifaces_.find(name);
  if (it == ifaces_.end() && ifaces_.size() < max_kept_ifaces)
    it = ifaces_.emplace(name, std::make_unique<iface_files>(dir)).first;
  if (it == ifaces_.end()) {
    std::string state = read_small_file(dir + "operstate", ec);
    const std::string mtu = read_small_file(dir + "mtu", ec);
    return {std::move(state), to_u32(mtu)};
  }
  auto& f = *it->second;
  f.seen = true;
  std::string state(trim_newline(f.operstate.read(ec)));
  const auto mtu = to_u32(trim_newline(f.mtu.read(ec)));
  return {std::move(state), mtu};
}

namespace {

// Filesystems whose statfs is answered from memory by a local driver: safe
// to call on the io_context. Anything else (nfs, cifs, 9p, virtiofs, fuse.*,
// ceph, overlay over who knows what, a type we do not know) goes to the
// worker, where a hang costs a late sample instead of a frozen agent.
bool statfs_is_local(std::string_view t) {
  static constexpr std::string_view local[] = {
      "ext2",  "ext3",  "ext4",   "xfs",      "btrfs",   "tmpfs",    "devtmpfs", "vfat",
      "msdos", "exfat", "ntfs3",  "f2fs",     "squashfs", "iso9660", "erofs",    "jfs",
      "udf",   "hfsplus", "nilfs2", "bcachefs", "reiserfs", "zfs",    "ramfs"};
  return std::find(std::begin(local), std::end(local), t) != std::end(local);
}

}  // namespace

void stats_collector::add_filesystem(v1::StatsSample& s, const procfs::mount_entry& m, int err,
                                     const struct statvfs& st) {
  if (err) {
    // Not ours to see (EACCES) or gone since listed (ENOENT): say so.
    s.add_errors("statvfs(" + m.mount_point + "): " + std::strerror(err));
    return;
  }
  if (st.f_blocks == 0) return;  // no storage behind it
  const std::uint64_t bs = st.f_frsize ? st.f_frsize : st.f_bsize;
  auto* o = s.add_filesystems();
  o->set_mount_point(m.mount_point);
  o->set_device(m.device);
  o->set_fs_type(m.fs_type);
  o->set_read_only(m.read_only || (st.f_flag & ST_RDONLY));
  o->set_total_bytes(st.f_blocks * bs);
  o->set_free_bytes(st.f_bfree * bs);
  o->set_available_bytes(st.f_bavail * bs);
  o->set_used_bytes(st.f_blocks >= st.f_bfree ? (st.f_blocks - st.f_bfree) * bs : 0);
  o->set_total_inodes(st.f_files);
  o->set_free_inodes(st.f_ffree);
  o->set_used_inodes(st.f_files >= st.f_ffree ? st.f_files - st.f_ffree : 0);
  o->set_block_size(static_cast<std::uint32_t>(bs));
}

awaitable<void> stats_collector::read_filesystems(v1::StatsSample& s) {
  if (mounts_.changed()) {
    std::error_code ec;
    auto text = mounts_.read(ec);
    if (ec) {
      mounts_cache_.clear();
      error(s, "cannot read " + mounts_.path(), ec);
      co_return;
    }
    auto all = procfs::parse_mounts(text);
    // Only storage; and where a mount point is mounted over, only the last
    // (visible) mount: statvfs of the path reports that one anyway.
    mounts_cache_.clear();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (procfs::is_pseudo_filesystem(it->fs_type)) continue;
      const bool seen = std::any_of(mounts_cache_.begin(), mounts_cache_.end(),
                                    [&](const auto& m) { return m.mount_point == it->mount_point; });
      if (!seen) mounts_cache_.push_back(std::move(*it));
    }
    std::reverse(mounts_cache_.begin(), mounts_cache_.end());
  }
  std::vector<procfs::mount_entry> mounts = mounts_cache_;
  if (mounts.size() > limits_.max_list_entries) {
    s.add_errors("filesystem list cut at " + std::to_string(limits_.max_list_entries) + " of " +
                 std::to_string(mounts.size()) + " mounts");
    mounts.resize(limits_.max_list_entries);
  }

  // Local filesystems now; the others on the worker.
  struct local_result {
    int err = 0;
    struct statvfs st {};
  };
  std::vector<local_result> local(mounts.size());
  std::vector<procfs::mount_entry> remote;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (statfs_is_local(mounts[i].fs_type)) {
      if (roots_.statvfs_fn(mounts[i].mount_point.c_str(), &local[i].st) != 0) local[i].err = errno;
    } else {
      local[i].err = -1;  // pending on the worker
      remote.push_back(mounts[i]);
    }
  }
  std::shared_ptr<fs_job> job;
  if (!remote.empty()) job = co_await run_remote_statvfs(s, std::move(remote));

  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    if (local[i].err != -1) {
      add_filesystem(s, m, local[i].err, local[i].st);
      continue;
    }
    if (!job) continue;  // the worker did not answer in time (reported)
    // The job may be another caller's, started from an older mount list.
    const auto& w = *job->work;
    for (std::size_t j = 0; j < w.mounts.size(); ++j)
      if (w.mounts[j].mount_point == m.mount_point) {
        add_filesystem(s, m, w.results[j].err, w.results[j].st);
        break;
      }
  }
}

awaitable<std::shared_ptr<stats_collector::fs_job>> stats_collector::run_remote_statvfs(
    v1::StatsSample& s, std::vector<procfs::mount_entry> mounts) {
  // Coalesce with a job still running (another caller's, or one that hangs).
  auto job = fs_job_;
  if (!job || job->done) {
    job = std::make_shared<fs_job>(ex_);
    job->work->mounts = std::move(mounts);
    job->started = clock::now();
    std::weak_ptr<fs_job> weak = job;
    auto ex = ex_;
    const bool started = worker_.try_run(
        [work = job->work, statvfs_fn = roots_.statvfs_fn] {
          work->results.resize(work->mounts.size());
          for (std::size_t i = 0; i < work->mounts.size(); ++i) {
            work->at.store(i);
            auto& r = work->results[i];
            if (statvfs_fn(work->mounts[i].mount_point.c_str(), &r.st) != 0) r.err = errno;
          }
        },
        [ex, weak] {
          asio::post(ex, [weak] {
            if (auto j = weak.lock()) {
              j->done = true;
              j->finished.cancel();
            }
          });
        });
    if (!started) {
      s.add_errors("network/FUSE filesystems left out: the statvfs worker is busy");
      co_return nullptr;
    }
    fs_job_ = job;
  }

  const auto deadline = job->started + limits_.statvfs_timeout;
  if (!job->done && clock::now() < deadline) {
    asio::steady_timer timer(ex_, deadline);
    boost::system::error_code e1, e2;
    co_await (job->finished.async_wait(asio::redirect_error(use_awaitable, e1)) ||
              timer.async_wait(asio::redirect_error(use_awaitable, e2)));
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
  }
  if (!job->done) {
    const auto& w = *job->work;
    const auto i = std::min(w.at.load(), w.mounts.size() - 1);  // mounts is never empty
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - job->started).count();
    s.add_errors("network/FUSE filesystems left out: statvfs(" + w.mounts[i].mount_point +
                 ") has not returned for " + std::to_string(ms) + " ms (unresponsive server or FUSE daemon?)");
    co_return nullptr;
  }
  co_return job;
}

// --- rates -------------------------------------------------------------------

namespace {

void cpu_percent(const v1::CpuTimes& p, const v1::CpuTimes& c, v1::Cpu& out) {
  const std::uint64_t d[8] = {delta(c.user(), p.user()),       delta(c.nice(), p.nice()),
                              delta(c.system(), p.system()),   delta(c.idle(), p.idle()),
                              delta(c.iowait(), p.iowait()),   delta(c.irq(), p.irq()),
                              delta(c.softirq(), p.softirq()), delta(c.steal(), p.steal())};
  std::uint64_t total = 0;
  for (auto v : d) total += v;
  if (total == 0) return;  // no tick elapsed: nothing to say
  // 100 * d / total (not d * (100 / total)): exact 100 when d == total.
  auto share = [total](std::uint64_t v) {
    return std::clamp(100.0 * static_cast<double>(v) / static_cast<double>(total), 0.0, 100.0);
  };
  auto* pc = out.mutable_percent();
  pc->set_user(share(d[0]));
  pc->set_nice(share(d[1]));
  pc->set_system(share(d[2]));
  pc->set_idle(share(d[3]));
  pc->set_iowait(share(d[4]));
  pc->set_irq(share(d[5]));
  pc->set_softirq(share(d[6]));
  pc->set_steal(share(d[7]));
  pc->set_busy(share(total - d[3] - d[4]));
}

template <class T, class Key>
std::unordered_map<Key, const T*> index_by(const google::protobuf::RepeatedPtrField<T>& list,
                                           Key (*key)(const T&)) {
  std::unordered_map<Key, const T*> m;
  m.reserve(static_cast<std::size_t>(list.size()));
  for (const auto& x : list) m.emplace(key(x), &x);
  return m;
}

std::string_view disk_key(const v1::DiskStats& d) { return d.name(); }
std::string_view iface_key(const v1::NetworkInterface& n) { return n.name(); }
int cpu_key(const v1::Cpu& c) { return c.cpu(); }

}  // namespace

void compute_rates(const v1::StatsSample& prev, v1::StatsSample& cur) {
  if (cur.monotonic_ns() <= prev.monotonic_ns()) return;
  const auto ns = static_cast<std::uint64_t>(cur.monotonic_ns() - prev.monotonic_ns());
  cur.set_interval_ns(ns);
  const double secs = static_cast<double>(ns) / 1e9;
  auto per_s = [secs](std::uint64_t c, std::uint64_t p) { return static_cast<double>(delta(c, p)) / secs; };

  if (prev.has_cpu() && cur.has_cpu()) {
    const auto& pc = prev.cpu();
    auto* cc = cur.mutable_cpu();
    if (pc.has_total() && cc->has_total()) cpu_percent(pc.total().times(), cc->total().times(), *cc->mutable_total());
    const auto by_cpu = index_by(pc.per_cpu(), cpu_key);
    for (auto& c : *cc->mutable_per_cpu())
      if (auto it = by_cpu.find(c.cpu()); it != by_cpu.end()) cpu_percent(it->second->times(), c.times(), c);
    cc->set_context_switches_per_second(per_s(cc->context_switches(), pc.context_switches()));
    cc->set_interrupts_per_second(per_s(cc->interrupts(), pc.interrupts()));
    cc->set_forks_per_second(per_s(cc->forks(), pc.forks()));
  }

  const auto by_disk = index_by(prev.disks(), disk_key);
  for (auto& d : *cur.mutable_disks()) {
    auto it = by_disk.find(d.name());
    if (it == by_disk.end()) continue;
    const auto& p = *it->second;
    if (p.major() != d.major() || p.minor() != d.minor()) continue;  // a different device now
    d.set_read_bytes_per_second(per_s(d.sectors_read(), p.sectors_read()) * 512);
    d.set_write_bytes_per_second(per_s(d.sectors_written(), p.sectors_written()) * 512);
    d.set_reads_per_second(per_s(d.reads_completed(), p.reads_completed()));
    d.set_writes_per_second(per_s(d.writes_completed(), p.writes_completed()));
    d.set_busy_percent(std::clamp(static_cast<double>(delta(d.io_ms(), p.io_ms())) / (secs * 1000) * 100, 0.0, 100.0));
  }

  const auto by_iface = index_by(prev.interfaces(), iface_key);
  for (auto& n : *cur.mutable_interfaces()) {
    auto it = by_iface.find(n.name());
    if (it == by_iface.end()) continue;
    const auto& p = *it->second;
    n.set_rx_bytes_per_second(per_s(n.rx_bytes(), p.rx_bytes()));
    n.set_tx_bytes_per_second(per_s(n.tx_bytes(), p.tx_bytes()));
    n.set_rx_packets_per_second(per_s(n.rx_packets(), p.rx_packets()));
    n.set_tx_packets_per_second(per_s(n.tx_packets(), p.tx_packets()));
  }
}

void fit_sample(v1::StatsSample& s, std::size_t max_bytes) {
  if (s.ByteSizeLong() <= max_bytes) return;
  s.mutable_cpu()->clear_per_cpu();
  s.add_errors("per-CPU detail dropped: the sample exceeded " + std::to_string(max_bytes) + " bytes");
  if (s.ByteSizeLong() <= max_bytes) return;
  for (auto& n : *s.mutable_interfaces()) n.clear_addresses();
  s.add_errors("interface addresses dropped: the sample exceeded " + std::to_string(max_bytes) + " bytes");
  if (s.ByteSizeLong() <= max_bytes) return;
  s.clear_disks();
  s.clear_filesystems();
  s.clear_interfaces();
  s.add_errors("disk, filesystem and interface lists dropped: the sample exceeded " +
               std::to_string(max_bytes) + " bytes");
}

}  // namespace tether::agent
