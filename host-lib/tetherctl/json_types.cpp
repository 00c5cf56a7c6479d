#include "json_types.hpp"

#include "tether/common/hex.hpp"

#include <boost/describe.hpp>
#include <boost/json.hpp>

// Structs whose members carry the proto field names convert member by
// member (Boost.Describe); the rest by hand below.
namespace tether::stats {
BOOST_DESCRIBE_STRUCT(cpu_times, (), (user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice))
BOOST_DESCRIBE_STRUCT(cpu_percent, (), (user, nice, system, idle, iowait, irq, softirq, steal, busy))
BOOST_DESCRIBE_STRUCT(cpu_stats, (),
                      (total, per_cpu, online_cpus, clock_ticks_per_second, context_switches, interrupts, forks,
                       procs_running, procs_blocked, boot_time_seconds, context_switches_per_second,
                       interrupts_per_second, forks_per_second))
BOOST_DESCRIBE_STRUCT(memory_stats, (),
                      (total_bytes, free_bytes, available_bytes, buffers_bytes, cached_bytes, shmem_bytes,
                       slab_reclaimable_bytes, dirty_bytes, writeback_bytes, swap_total_bytes, swap_free_bytes,
                       swap_cached_bytes, used_bytes))
BOOST_DESCRIBE_STRUCT(load_stats, (), (load1, load5, load15, running_tasks, total_tasks, last_pid))
BOOST_DESCRIBE_STRUCT(pressure_line, (), (avg10, avg60, avg300, total_us))
BOOST_DESCRIBE_STRUCT(pressure, (), (some, full))
BOOST_DESCRIBE_STRUCT(pressure_stats, (), (cpu, memory, io))
BOOST_DESCRIBE_STRUCT(disk_stats, (),
                      (name, major, minor, partition, reads_completed, reads_merged, sectors_read, read_ms,
                       writes_completed, writes_merged, sectors_written, write_ms, ios_in_progress, io_ms,
                       weighted_io_ms, discards_completed, sectors_discarded, flushes_completed,
                       read_bytes_per_second, write_bytes_per_second, reads_per_second, writes_per_second,
                       busy_percent))
BOOST_DESCRIBE_STRUCT(filesystem_stats, (),
                      (mount_point, device, fs_type, read_only, total_bytes, used_bytes, free_bytes, available_bytes,
                       total_inodes, free_inodes, used_inodes, block_size))
BOOST_DESCRIBE_STRUCT(network_interface, (),
                      (name, oper_state, mtu, mac, admin_up, running, loopback, addresses, rx_bytes, rx_packets,
                       rx_errors, rx_dropped, tx_bytes, tx_packets, tx_errors, tx_dropped, rx_multicast, collisions,
                       rx_bytes_per_second, tx_bytes_per_second, rx_packets_per_second, tx_packets_per_second))
BOOST_DESCRIBE_STRUCT(sample, (),
                      (realtime_ns, monotonic_ns, sequence, skipped, skipped_total, interval_ns, uptime_seconds,
                       idle_seconds, cpu, memory, load, pressure, process_count, disks, filesystems, interfaces, errors,
                       collect_ns))

// The proto calls the CPU number "cpu".
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const cpu& c) {
  auto& o = v.emplace_object();
  o["cpu"] = c.number;
  o["times"] = boost::json::value_from(c.times);
  if (c.percent) o["percent"] = boost::json::value_from(*c.percent);
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const interface_address& a) {
  auto& o = v.emplace_object();
  using f = interface_address::family_kind;
  o["family"] = a.family == f::ipv4 ? "FAMILY_IPV4" : a.family == f::ipv6 ? "FAMILY_IPV6" : "FAMILY_UNSPECIFIED";
  o["address"] = a.address;
  o["prefix_length"] = a.prefix_length;
  o["scope_id"] = a.scope_id;
}
}  // namespace tether::stats

namespace tetherctl {
namespace {

namespace json = boost::json;

// proto3 JSON leaves unset optional fields out (null would do for a parser,
// not for a reader).
void drop_nulls(json::value& v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    for (auto it = o.begin(); it != o.end();) {
      if (it->value().is_null()) {
        it = o.erase(it);
      } else {
        drop_nulls(it->value());
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) drop_nulls(e);
  }
}

json::array strings(const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); }

json::object string_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// "logind" -> "POWER_METHOD_LOGIND": the proto enum names.
std::string proto_enum(const char* prefix, std::string name) {
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return prefix + name;
}

const char* kind_name(tether::power::event::kind k) {
  using K = tether::power::event::kind;
  switch (k) {
    case K::watching: return "KIND_WATCHING";
    case K::accepted: return "KIND_ACCEPTED";
    case K::hook_started: return "KIND_HOOK_STARTED";
    case K::hook_finished: return "KIND_HOOK_FINISHED";
    case K::action_started: return "KIND_ACTION_STARTED";
    case K::action_failed: return "KIND_ACTION_FAILED";
    case K::unspecified: break;
  }
  return "KIND_UNSPECIFIED";
}

}  // namespace

json::value to_json_value(const tether::guest_info& r) {
  json::object o;
  o["agent_version"] = r.agent_version;
  o["protocol_version"] = r.protocol_version;
  o["services"] = strings(r.services);
  o["os_release"] = string_map(r.os_release);
  o["os_pretty_name"] = r.os_pretty_name;
  o["kernel_name"] = r.kernel_name;
  o["kernel_release"] = r.kernel_release;
  o["kernel_version"] = r.kernel_version;
  o["machine"] = r.machine;
  o["hostname"] = r.hostname;
  o["boot_id"] = r.boot_id;
  o["machine_id"] = r.machine_id;
  o["uptime_seconds"] = r.uptime_seconds;
  o["guest_time_ns"] = r.guest_time_ns;
  o["utc_offset_seconds"] = r.utc_offset_seconds;
  o["agent_pid"] = r.agent_pid;
  o["session_id"] = tether::to_hex(r.session_id);  // an identifier: hex, as the text view shows it
  return o;
}

json::value to_json_value(const tether::stats::sample& s) {
  auto v = json::value_from(s);
  drop_nulls(v);
  return v;
}

json::value to_json_value(const tether::devices::device& d) {
  json::object o;
  if (!d.action.empty()) o["action"] = d.action;
  if (d.seqnum) o["seqnum"] = d.seqnum;
  o["subsystem"] = d.subsystem;
  if (!d.devtype.empty()) o["devtype"] = d.devtype;
  o["devpath"] = d.device_path;
  o["sysname"] = d.sys_name;
  if (!d.devnode.empty()) o["devnode"] = d.devnode;
  if (!d.devlinks.empty()) o["devlinks"] = strings(d.devlinks);
  if (!d.properties.empty()) o["properties"] = string_map(d.properties);
  if (!d.tags.empty()) o["tags"] = strings(d.tags);
  if (!d.driver.empty()) o["driver"] = d.driver;
  if (d.usec_initialized) o["usec_initialized"] = d.usec_initialized;
  if (d.received_time_ns) o["received_time_ns"] = d.received_time_ns;
  if (d.received_monotonic_usec) o["received_monotonic_usec"] = d.received_monotonic_usec;
  if (!d.attributes.empty()) o["sysattrs"] = string_map(d.attributes);
  if (d.out_of_order) o["out_of_order"] = true;
  return o;
}

json::value to_json_value(const tether::devices::event& e) {
  using K = tether::devices::event::kind;
  json::object o;
  switch (e.what) {
    case K::device: o["device"] = to_json_value(e.device); break;
    case K::lost: {
      json::object l;
      if (e.lost.count) l["count"] = e.lost.count;
      if (e.lost.count_unknown) l["count_unknown"] = true;
      l["reason"] = e.lost.reason;
      o["lost"] = std::move(l);
      break;
    }
    case K::replay_gap: {
      json::object g;
      g["resume_after_seqnum"] = e.gap.resume_after_seqnum;
      if (e.gap.first_available_seqnum) g["first_available_seqnum"] = e.gap.first_available_seqnum;
      if (e.gap.sequence_reset) g["sequence_reset"] = true;
      g["reason"] = e.gap.reason;
      o["replay_gap"] = std::move(g);
      break;
    }
  }
  return o;
}

json::value to_json_value(const tether::devices::subscription_started& s) {
  json::object st;
  st["current_seqnum"] = s.current_seqnum;
  if (s.replayed) st["replayed"] = s.replayed;
  st["ring_capacity"] = s.ring_capacity;
  return json::object{{"started", std::move(st)}};
}

json::value to_json_value(const tether::devices::wait_result& r) {
  json::object o;
  if (r.device) o["device"] = to_json_value(*r.device);
  if (r.already) o["already"] = true;
  return o;
}

json::value to_json_value(const tether::power::reply& r) {
  json::object o;
  o["method"] = proto_enum("POWER_METHOD_", tether::power::to_string(r.method));
  if (!r.hooks.empty()) o["hooks"] = strings(r.hooks);
  if (!r.skipped.empty()) o["skipped"] = strings(r.skipped);
  o["boot_id"] = r.boot_id;
  if (r.simulated) o["simulated"] = true;
  return o;
}

json::value to_json_value(const tether::power::event& e) {
  json::object o;
  o["kind"] = kind_name(e.what);
  if (e.action) o["action"] = proto_enum("POWER_ACTION_", tether::power::to_string(*e.action));
  if (e.method != tether::power::method::unspecified)
    o["method"] = proto_enum("POWER_METHOD_", tether::power::to_string(e.method));
  if (!e.hook.empty()) o["hook"] = e.hook;
  if (e.exit_code) o["exit_code"] = e.exit_code;
  if (e.signal) o["signal"] = e.signal;
  if (e.timed_out) o["timed_out"] = true;
  if (e.run_time_ms) o["run_time_ms"] = e.run_time_ms;
  if (!e.message.empty()) o["message"] = e.message;
  if (e.host_halt) o["host_halt"] = true;
  return o;
}

}  // namespace tetherctl
