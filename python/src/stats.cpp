#include "stats.hpp"

#include <pybind11/stl.h>

#include "calls.hpp"
#include "stream.hpp"
#include "tether/stats.hpp"

namespace tether::py {
namespace pyb = pybind11;
namespace st = tether::stats;

namespace {

boost::asio::awaitable<std::optional<st::sample>> next_sample(st::subscription& s) { return s.next(); }

using stats_stream = py_stream<st::subscription, st::sample, &next_sample>;

// Read-only fields, by name: def_readonly for each pointer to member.
template <class C, class... M>
void fields(pyb::class_<C>& cls, std::pair<const char*, M C::*>... f) {
  (cls.def_readonly(f.first, f.second), ...);
}
template <class C, class M>
std::pair<const char*, M C::*> f(const char* name, M C::*member) {
  return {name, member};
}

void bind_sample(pyb::module_& m) {
  pyb::class_<st::cpu_times> times(m, "StatsCpuTimes");
  fields(times, f("user", &st::cpu_times::user), f("nice", &st::cpu_times::nice),
         f("system", &st::cpu_times::system), f("idle", &st::cpu_times::idle),
         f("iowait", &st::cpu_times::iowait), f("irq", &st::cpu_times::irq),
         f("softirq", &st::cpu_times::softirq), f("steal", &st::cpu_times::steal),
         f("guest", &st::cpu_times::guest), f("guest_nice", &st::cpu_times::guest_nice));
  pyb::class_<st::cpu_percent> percent(m, "StatsCpuPercent");
  fields(percent, f("user", &st::cpu_percent::user), f("nice", &st::cpu_percent::nice),
         f("system", &st::cpu_percent::system), f("idle", &st::cpu_percent::idle),
         f("iowait", &st::cpu_percent::iowait), f("irq", &st::cpu_percent::irq),
         f("softirq", &st::cpu_percent::softirq), f("steal", &st::cpu_percent::steal),
         f("busy", &st::cpu_percent::busy));
  pyb::class_<st::cpu> cpu(m, "StatsCpu");
  fields(cpu, f("number", &st::cpu::number), f("times", &st::cpu::times), f("percent", &st::cpu::percent));
  pyb::class_<st::cpu_stats> cpus(m, "StatsCpus");
  fields(cpus, f("total", &st::cpu_stats::total), f("per_cpu", &st::cpu_stats::per_cpu),
         f("online_cpus", &st::cpu_stats::online_cpus),
         f("clock_ticks_per_second", &st::cpu_stats::clock_ticks_per_second),
         f("context_switches", &st::cpu_stats::context_switches), f("interrupts", &st::cpu_stats::interrupts),
         f("forks", &st::cpu_stats::forks), f("procs_running", &st::cpu_stats::procs_running),
         f("procs_blocked", &st::cpu_stats::procs_blocked),
         f("boot_time_seconds", &st::cpu_stats::boot_time_seconds),
         f("context_switches_per_second", &st::cpu_stats::context_switches_per_second),
         f("interrupts_per_second", &st::cpu_stats::interrupts_per_second),
         f("forks_per_second", &st::cpu_stats::forks_per_second));
  using mem = st::memory_stats;
  pyb::class_<mem> memory(m, "StatsMemory");
  fields(memory, f("total_bytes", &mem::total_bytes), f("free_bytes", &mem::free_bytes),
         f("available_bytes", &mem::available_bytes), f("buffers_bytes", &mem::buffers_bytes),
         f("cached_bytes", &mem::cached_bytes), f("shmem_bytes", &mem::shmem_bytes),
         f("slab_reclaimable_bytes", &mem::slab_reclaimable_bytes), f("dirty_bytes", &mem::dirty_bytes),
         f("writeback_bytes", &mem::writeback_bytes), f("swap_total_bytes", &mem::swap_total_bytes),
         f("swap_free_bytes", &mem::swap_free_bytes), f("swap_cached_bytes", &mem::swap_cached_bytes),
         f("used_bytes", &mem::used_bytes));
  pyb::class_<st::load_stats> load(m, "StatsLoad");
  fields(load, f("load1", &st::load_stats::load1), f("load5", &st::load_stats::load5),
         f("load15", &st::load_stats::load15), f("running_tasks", &st::load_stats::running_tasks),
         f("total_tasks", &st::load_stats::total_tasks), f("last_pid", &st::load_stats::last_pid));
  pyb::class_<st::pressure_line> line(m, "StatsPressureLine");
  fields(line, f("avg10", &st::pressure_line::avg10), f("avg60", &st::pressure_line::avg60),
         f("avg300", &st::pressure_line::avg300), f("total_us", &st::pressure_line::total_us));
  pyb::class_<st::pressure> pressure(m, "StatsPressure");
  fields(pressure, f("some", &st::pressure::some), f("full", &st::pressure::full));
  pyb::class_<st::pressure_stats> pressures(m, "StatsPressures");
  fields(pressures, f("cpu", &st::pressure_stats::cpu), f("memory", &st::pressure_stats::memory),
         f("io", &st::pressure_stats::io));
  using disk = st::disk_stats;
  pyb::class_<disk> disks(m, "StatsDisk");
  fields(disks, f("name", &disk::name), f("major", &disk::major), f("minor", &disk::minor),
         f("partition", &disk::partition), f("reads_completed", &disk::reads_completed),
         f("reads_merged", &disk::reads_merged), f("sectors_read", &disk::sectors_read), f("read_ms", &disk::read_ms),
         f("writes_completed", &disk::writes_completed), f("writes_merged", &disk::writes_merged),
         f("sectors_written", &disk::sectors_written), f("write_ms", &disk::write_ms),
         f("ios_in_progress", &disk::ios_in_progress), f("io_ms", &disk::io_ms),
         f("weighted_io_ms", &disk::weighted_io_ms), f("discards_completed", &disk::discards_completed),
         f("sectors_discarded", &disk::sectors_discarded), f("flushes_completed", &disk::flushes_completed),
         f("read_bytes_per_second", &disk::read_bytes_per_second),
         f("write_bytes_per_second", &disk::write_bytes_per_second),
         f("reads_per_second", &disk::reads_per_second), f("writes_per_second", &disk::writes_per_second),
         f("busy_percent", &disk::busy_percent));
  using fs = st::filesystem_stats;
  pyb::class_<fs> filesystems(m, "StatsFilesystem");
  fields(filesystems, f("mount_point", &fs::mount_point), f("device", &fs::device), f("fs_type", &fs::fs_type),
         f("read_only", &fs::read_only), f("total_bytes", &fs::total_bytes), f("used_bytes", &fs::used_bytes),
         f("free_bytes", &fs::free_bytes), f("available_bytes", &fs::available_bytes),
         f("total_inodes", &fs::total_inodes), f("free_inodes", &fs::free_inodes),
         f("used_inodes", &fs::used_inodes), f("block_size", &fs::block_size));
  using addr = st::interface_address;
  pyb::class_<addr>(m, "StatsAddress")
      .def_property_readonly("family", [](const addr& a) {
        return a.family == addr::family_kind::ipv4 ? "ipv4" : a.family == addr::family_kind::ipv6 ? "ipv6" : "";
      })
      .def_readonly("address", &addr::address)
      .def_readonly("prefix_length", &addr::prefix_length)
      .def_readonly("scope_id", &addr::scope_id);
  using nic = st::network_interface;
  pyb::class_<nic> nics(m, "StatsInterface");
  fields(nics, f("name", &nic::name), f("oper_state", &nic::oper_state), f("mtu", &nic::mtu), f("mac", &nic::mac),
         f("admin_up", &nic::admin_up), f("running", &nic::running), f("loopback", &nic::loopback),
         f("addresses", &nic::addresses), f("rx_bytes", &nic::rx_bytes), f("rx_packets", &nic::rx_packets),
         f("rx_errors", &nic::rx_errors), f("rx_dropped", &nic::rx_dropped), f("tx_bytes", &nic::tx_bytes),
         f("tx_packets", &nic::tx_packets), f("tx_errors", &nic::tx_errors), f("tx_dropped", &nic::tx_dropped),
         f("rx_multicast", &nic::rx_multicast), f("collisions", &nic::collisions),
         f("rx_bytes_per_second", &nic::rx_bytes_per_second), f("tx_bytes_per_second", &nic::tx_bytes_per_second),
         f("rx_packets_per_second", &nic::rx_packets_per_second),
         f("tx_packets_per_second", &nic::tx_packets_per_second));
  using smp = st::sample;
  pyb::class_<smp> sample(m, "StatsSample");
  fields(sample, f("realtime_ns", &smp::realtime_ns), f("monotonic_ns", &smp::monotonic_ns),
         f("sequence", &smp::sequence), f("skipped", &smp::skipped), f("skipped_total", &smp::skipped_total),
         f("interval_ns", &smp::interval_ns), f("uptime_seconds", &smp::uptime_seconds),
         f("idle_seconds", &smp::idle_seconds), f("cpu", &smp::cpu), f("memory", &smp::memory),
         f("load", &smp::load), f("pressure", &smp::pressure), f("process_count", &smp::process_count),
         f("disks", &smp::disks), f("filesystems", &smp::filesystems), f("interfaces", &smp::interfaces),
         f("errors", &smp::errors), f("collect_ns", &smp::collect_ns));
  sample.def("__repr__", [](const smp& s) {
    return "tether.StatsSample(sequence=" + std::to_string(s.sequence) + ", cpus=" +
           std::to_string(s.cpu.online_cpus) + ", memory.total_bytes=" + std::to_string(s.memory.total_bytes) +
           ", load1=" + std::to_string(s.load.load1) + ")";
  });
}

}  // namespace

pyb::object to_py(std::shared_ptr<stream_state<st::subscription>>&& s) {
  return pyb::cast(new stats_stream(std::move(s)), pyb::return_value_policy::take_ownership);
}

void bind_stats(pyb::module_& m) {
  bind_sample(m);
  bind_stream<stats_stream>(m, "StatsStream")
      .def_property_readonly("resumes", [](stats_stream& s) {
        return s.read([](st::subscription& sub) { return sub.resumes(); });
      })
      .def_property_readonly("samples_skipped", [](stats_stream& s) {
        return s.read([](st::subscription& sub) { return sub.samples_skipped(); });
      });

  auto cls = pyb::reinterpret_borrow<pyb::class_<py_client>>(m.attr("Client"));
  // rate_interval (seconds): see stats::get_options.
  def_call(cls, "stats", [](double rate_interval, bool include_idle_devices, std::optional<double> timeout) {
    st::get_options g{.rate_interval = to_ms(rate_interval), .include_idle_devices = include_idle_devices};
    return spec<st::sample>(timeout, [g, o = py_client::opts(timeout)](client& c) { return st::get(c, g, o); });
  }, pyb::arg("rate_interval"), pyb::arg("include_idle_devices"), pyb::arg("timeout") = pyb::none());
  // Opens the subscription (the agent's first sample comes with next()).
  def_call(cls, "stats_subscribe", [](py_client& self, double interval, bool include_idle_devices, std::uint32_t max_samples,
                                      std::optional<double> timeout) {
    st::subscribe_options so{.interval = to_ms(interval), .include_idle_devices = include_idle_devices,
                             .max_samples = max_samples};
    return spec<std::shared_ptr<stream_state<st::subscription>>>(
        timeout, [l = &self.owner_loop(), owner = self.handle(), so, o = py_client::opts(timeout)](client&) {
          return open_stream<st::subscription>(*l, owner, [&](client& c) { return st::subscribe(c, so, o); });
        });
  }, pyb::arg("interval"), pyb::arg("include_idle_devices"), pyb::arg("max_samples"),
     pyb::arg("timeout") = pyb::none());
}

}  // namespace tether::py
