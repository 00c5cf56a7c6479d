#include "types.hpp"

#include <pybind11/stl.h>

#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"

namespace tether::py {
namespace pyb = pybind11;

namespace {

template <class C, class M>
auto bytes_of(M C::*field) {
  return [field](const C& c) { return pyb::bytes(c.*field); };
}

template <class R>
auto micros_as_seconds(std::chrono::microseconds R::*field) {
  return [field](const R& r) { return static_cast<double>((r.*field).count()) / 1e6; };
}

const char* type_name(files::file_type t) {
  switch (t) {
    case files::file_type::regular: return "regular";
    case files::file_type::directory: return "directory";
    case files::file_type::symlink: return "symlink";
    case files::file_type::block_device: return "block_device";
    case files::file_type::char_device: return "char_device";
    case files::file_type::fifo: return "fifo";
    case files::file_type::socket: return "socket";
    case files::file_type::unknown: break;
  }
  return "unknown";
}

}  // namespace

void bind_types(pyb::module_& m) {
  pyb::class_<ping_reply>(m, "PingReply")
      .def_property_readonly("payload", bytes_of(&ping_reply::payload))
      .def_readonly("guest_time_ns", &ping_reply::guest_time_ns);

  pyb::class_<hello_info>(m, "Hello")
      .def_readonly("protocol_version", &hello_info::protocol_version)
      .def_property_readonly("session_id", bytes_of(&hello_info::session_id))
      .def_readonly("software_version", &hello_info::software_version)
      .def_readonly("capabilities", &hello_info::capabilities)
      .def_readonly("max_frame_size", &hello_info::max_frame_size)
      .def_readonly("initial_stream_window", &hello_info::initial_stream_window)
      .def_readonly("max_concurrent_calls", &hello_info::max_concurrent_calls);

  pyb::class_<guest_info>(m, "GuestInfo")
      .def_readonly("agent_version", &guest_info::agent_version)
      .def_readonly("protocol_version", &guest_info::protocol_version)
      .def_readonly("services", &guest_info::services)
      .def_readonly("os_release", &guest_info::os_release)
      .def_readonly("os_pretty_name", &guest_info::os_pretty_name)
      .def_readonly("kernel_name", &guest_info::kernel_name)
      .def_readonly("kernel_release", &guest_info::kernel_release)
      .def_readonly("kernel_version", &guest_info::kernel_version)
      .def_readonly("machine", &guest_info::machine)
      .def_readonly("hostname", &guest_info::hostname)
      .def_readonly("boot_id", &guest_info::boot_id)
      .def_readonly("machine_id", &guest_info::machine_id)
      .def_readonly("uptime_seconds", &guest_info::uptime_seconds)
      .def_readonly("guest_time_ns", &guest_info::guest_time_ns)
      .def_readonly("utc_offset_seconds", &guest_info::utc_offset_seconds)
      .def_readonly("agent_pid", &guest_info::agent_pid)
      .def_property_readonly("session_id", bytes_of(&guest_info::session_id));

  pyb::class_<exec::exit_result>(m, "ExitResult")
      .def_readonly("pid", &exec::exit_result::pid)
      .def_readonly("exit_code", &exec::exit_result::exit_code)
      .def_readonly("signal", &exec::exit_result::signal)
      .def_readonly("core_dumped", &exec::exit_result::core_dumped)
      .def_readonly("timed_out", &exec::exit_result::timed_out)
      .def_property_readonly("run_time", micros_as_seconds(&exec::exit_result::run_time))
      .def_property_readonly("user_cpu", micros_as_seconds(&exec::exit_result::user_cpu))
      .def_property_readonly("system_cpu", micros_as_seconds(&exec::exit_result::system_cpu))
      .def_readonly("max_rss_kib", &exec::exit_result::max_rss_kib);

  pyb::class_<exec::captured>(m, "Captured")
      .def_readonly("result", &exec::captured::result)
      .def_property_readonly("out", bytes_of(&exec::captured::out))
      .def_property_readonly("err", bytes_of(&exec::captured::err))
      .def_readonly("out_truncated", &exec::captured::out_truncated)
      .def_readonly("err_truncated", &exec::captured::err_truncated);

  pyb::class_<files::file_info>(m, "FileInfo")
      .def_property_readonly("name", bytes_of(&files::file_info::name))
      .def_property_readonly("type", [](const files::file_info& f) { return type_name(f.type); })
      .def_readonly("size", &files::file_info::size)
      .def_readonly("mode", &files::file_info::mode)
      .def_readonly("uid", &files::file_info::uid)
      .def_readonly("gid", &files::file_info::gid)
      .def_readonly("mtime_ns", &files::file_info::mtime_ns)
      .def_property_readonly("symlink_target", bytes_of(&files::file_info::symlink_target));

  pyb::class_<files::transfer_result>(m, "TransferResult")
      .def_readonly("bytes", &files::transfer_result::bytes)
      .def_readonly("digest", &files::transfer_result::digest)
      .def_property_readonly("checksum",
                             [](const files::transfer_result& r) { return files::to_string(r.checksum); });

  pyb::class_<files::tree_result>(m, "TreeResult")
      .def_readonly("files", &files::tree_result::files)
      .def_readonly("directories", &files::tree_result::directories)
      .def_readonly("symlinks", &files::tree_result::symlinks)
      .def_readonly("bytes", &files::tree_result::bytes);
}

}  // namespace tether::py
