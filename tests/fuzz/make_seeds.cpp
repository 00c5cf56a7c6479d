// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
// from real frames, messages and config texts, as agent and host make them:
//   build/fuzz/tests/fuzz/tether_fuzz_seeds tests/fuzz/corpus
// Each seed is a short, valid conversation; libFuzzer mutates from there.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "records.hpp"
#include "tether/common/frames.hpp"
#include "tether/v1/devices.pb.h"
#include "tether/v1/exec.pb.h"
#include "tether/v1/files.pb.h"
#include "tether/v1/info.pb.h"
#include "tether/v1/power.pb.h"
#include "tether/v1/stats.pb.h"
#include "tether/wire/codec.hpp"

namespace {

using namespace tether;
namespace fs = std::filesystem;

// A record of a step (records.hpp): op byte, body.
std::string step(char op, const std::string& body) { return std::string(1, op) + body; }
std::string steps(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) {
    if (!out.empty()) out += fuzz::separator;
    out += r;
  }
  return out;
}
// peer.hpp's ops: 0 Hello, 1 frame, 2 raw bytes, 3 the target's own step.
std::string hello_step(const v1::Hello& h) { return step(0, h.SerializeAsString()); }
std::string frame_step(const v1::Frame& f) { return step(1, f.SerializeAsString()); }

v1::Frame request(std::uint64_t id, const std::string& method, const google::protobuf::Message& m) {
  v1::Frame f;
  f.mutable_request()->set_call_id(id);
  f.mutable_request()->set_method(method);
  f.mutable_request()->set_payload(m.SerializeAsString());
  return f;
}
v1::Frame response(std::uint64_t id, const google::protobuf::Message& m) {
  v1::Frame f;
  f.mutable_response()->set_call_id(id);
  f.mutable_response()->set_payload(m.SerializeAsString());
  return f;
}
v1::Frame data(std::uint64_t id, std::uint32_t stream, const std::string& bytes, bool eof = false) {
  v1::Frame f;
  f.mutable_data()->set_call_id(id);
  f.mutable_data()->set_stream(stream);
  f.mutable_data()->set_data(bytes);
  f.mutable_data()->set_eof(eof);
  return f;
}
v1::Frame event(std::uint64_t id, const google::protobuf::Message& m) {
  v1::Frame f;
  f.mutable_event()->set_call_id(id);
  f.mutable_event()->set_payload(m.SerializeAsString());
  return f;
}

v1::Hello host_hello() {
  v1::Hello h;
  h.set_protocol_version(wire::protocol_version);
  h.set_software_version("seed");
  h.set_max_frame_size(wire::default_max_frame_size);
  h.set_initial_stream_window(65536);
  return h;
}

v1::Hello agent_hello() {
  v1::Hello h = host_hello();
  h.set_session_id("0123456789abcdef");
  h.add_capabilities("exec");
  h.add_capabilities("files");
  h.set_max_concurrent_calls(1024);
  return h;
}

v1::Device disk() {
  v1::Device d;
  d.set_action("add");
  d.set_seqnum(4242);
  d.set_subsystem("block");
  d.set_devtype("disk");
  d.set_devpath("/devices/pci0000:00/0000:00:05.0/virtio2/block/vdb");
  d.set_sysname("vdb");
  d.set_devnode("/dev/vdb");
  d.add_devlinks("/dev/disk/by-id/virtio-disk7");
  (*d.mutable_properties())["ID_SERIAL"] = "disk7";
  (*d.mutable_properties())["size"] = "2048\n";
  d.add_tags("systemd");
  return d;
}

std::map<std::string, std::vector<std::string>> seeds() {
  std::map<std::string, std::vector<std::string>> out;

  // The frame decoder: [limit][piece size] then bytes as they arrive.
  {
    std::string conversation;
    wire::append_preamble(conversation);
    wire::append_frame(conversation, frames::hello(v1::Hello::ROLE_HOST, "seed"));
    v1::PingRequest ping;
    ping.set_payload("hi");
    wire::append_frame(conversation, request(1, "ping.Ping", ping));
    wire::append_data_frame(conversation, 1, 1, "output");
    wire::append_frame(conversation, frames::credit(1, 0, 65536));
    wire::append_frame(conversation, frames::end_of_stream(1, 1));
    wire::append_frame(conversation, frames::cancel(1));
    wire::append_frame(conversation, frames::error(v1::ERROR_CODE_PROTOCOL_ERROR, "bad"));
    out["codec_fuzz"] = {std::string("\xff\x07", 2) + conversation, std::string("\x00\x83", 2) + conversation,
                         std::string("\x10\x01", 2) + "garbage" + conversation.substr(3) + conversation};
  }

  const std::string agent_conf =
      "# tether agent\n[services]\ndeny = power\n\n[files]\nroots = /var/lib/tether, /tmp\n\n"
      "[exec]\nenabled = true\nusers = root, tester\n\n[limits]\nmax_frame_size = 1048576\n"
      "max_concurrent_calls = 1024\nstream_window = 2097152\nevent_window = 256\n\n"
      "[devices]\nudev_ring_size = 4096\nudev_reorder_ms = 500\n\n"
      "[power]\nhost_halt_dir = /etc/tether/host-halt.d\nmethod = auto\n\n[log]\nlevel = info\n";
  const std::string guest = "# web server\nname = web\nsocket = /run/tether/web.sock\nqmp = /run/qemu/web-qmp.sock\n";
  out["agent_conf_fuzz"] = {agent_conf, "[services]\nallow = ping, info\n", "[files]\nroots =\n"};
  out["guests_dir_fuzz"] = {guest, "socket = /run/tether/db.sock\r\n", "name=a#1\nsocket=/s # c\n"};
  out["ini_fuzz"] = {agent_conf, guest, "key = a,b, c\n[s]\nk=v=w\n#c\n[ t ]\n"};

  {
    v1::DeviceFilter f;
    f.set_subsystem("block");
    f.set_devtype("disk");
    f.set_sysname("vd*");
    (*f.mutable_properties())["ID_SERIAL"] = "disk[0-9]";
    f.add_tags("systemd");
    (*f.mutable_sysattrs())["size"] = "2048";
    out["device_filter_fuzz"] = {f.SerializeAsString() + std::string(fuzz::separator) + disk().SerializeAsString(),
                                 std::string(fuzz::separator) + disk().SerializeAsString()};
  }

  // QEMU's side of connect, query-status, add_disk, remove_device, events
  // (ids as the client numbers its commands: 1 is qmp_capabilities).
  {
    auto q = [](const std::string& json) { return step('0', json + "\r\n"); };
    const std::string greeting =
        R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}})";
    out["qmp_fuzz"] = {
        steps({q(greeting), q(R"({"return": {}, "id": 1})"),
               q(R"({"return": {"status": "running", "singlestep": false, "running": true}, "id": 2})"),
               q(R"({"return": {}, "id": 3})"), q(R"({"return": {}, "id": 4})"), q(R"({"return": {}, "id": 5})"),
               q(R"({"return": {}, "id": 6})"),
               q(R"({"timestamp": {"seconds": 1700000000, "microseconds": 1234}, "event": "DEVICE_DELETED", "data": {"device": "disk7", "path": "/machine/peripheral/disk7"}})"),
               q(R"({"return": {}, "id": 7})"), q(R"({"return": {}, "id": 8})"),
               q(R"({"timestamp": {"seconds": 1700000001, "microseconds": 5}, "event": "STOP"})")}),
        steps({q(greeting), q(R"({"return": {}, "id": 1})"),
               q(R"({"error": {"class": "CommandNotFound", "desc": "The command query-status has not been found"}, "id": 2})"),
               q(R"({"error": {"class": "GenericError", "desc": "Could not open"}})"), q(R"({"return": {}})")}),
    };
  }

  // A QGA host's requests, as libvirt (qemu_agent.c) and qemu-ga's own
  // tests send them: a 0xFF reset and guest-sync-delimited first, one
  // request a line; files in the target's read-only root ("/fuzz-root").
  {
    auto g = [](const std::string& json) { return step('0', json + "\n"); };
    auto joined = [](const std::string& json) { return step('1', json); };  // shares a write with the next
    out["qga_fuzz"] = {
        steps({step('0', "\xff"), g(R"({"execute":"guest-sync-delimited","arguments":{"id":1234567}})"),
               g(R"({"execute":"guest-info"})"), g(R"({"execute":"guest-ping","id":5})"),
               g(R"({"execute":"guest-get-time"})"), g(R"({"execute":"guest-get-osinfo"})"),
               g(R"({"execute":"guest-get-host-name"})"), g(R"({"execute":"guest-get-timezone"})"),
               g(R"({"execute":"guest-get-users"})"), g(R"({"execute":"guest-get-vcpus"})"),
               g(R"({"execute":"guest-get-load"})"), g(R"({"execute":"guest-fsfreeze-status"})")}),
        steps({g(R"({"execute":"guest-sync","arguments":{"id":987}})"), g(R"({"execute":"guest-get-fsinfo"})"),
               g(R"({"execute":"guest-get-disks"})"), g(R"({"execute":"guest-network-get-interfaces"})"),
               g(R"({"execute":"guest-get-memory-block-info"})"), g(R"({"execute":"guest-get-memory-blocks"})"),
               g(R"({"execute":"guest-get-cpustats"})"), g(R"({"execute":"guest-get-diskstats"})"),
               g(R"({"execute":"guest-exec-status","arguments":{"pid":1}})")}),
        steps({g(R"({"execute":"guest-file-open","arguments":{"path":"/fuzz-root/hostname","mode":"r"}})"),
               g(R"({"execute":"guest-file-read","arguments":{"handle":1000,"count":4}})"),
               g(R"({"execute":"guest-file-seek","arguments":{"handle":1000,"offset":1,"whence":"set"}})"),
               g(R"({"execute":"guest-file-read","arguments":{"handle":1000}})"),
               g(R"({"execute":"guest-file-close","arguments":{"handle":1000}})"),
               joined(R"({"execute":"guest-file-open","arguments":{"path":"/fuzz-root/sub/data"}})"),
               g(R"({"execute":"guest-ssh-get-authorized-keys","arguments":{"username":"root"}})")}),
        steps({joined(R"({"execute":"guest-sync","arguments":{"id":1}}{"execute":"guest-ping","arguments":{"x":1},)"),
               g(R"("id":[{"a":"\u00e9"}]} [1] "str" 12 } {"execute":1})"), step('0', "{\"execute\":\"guest-p\xff"),
               g(R"({"execute":"guest-no-such-command","id":3})"), g(R"({"execute":"guest-exec","arguments":{"path":"/bin/true"}})"),
               g(R"({"execute":"guest-shutdown","arguments":{"mode":"powerdown"}})")}),
    };
  }

  // A host's side: handshake, then calls of every service.
  {
    v1::PingRequest ping;
    ping.set_payload("seed");
    v1::StatRequest stat;
    stat.set_path(".");
    v1::MkdirRequest mkdir;
    mkdir.set_path("d");
    v1::UploadRequest upload;
    upload.set_path("d/f");
    v1::DownloadRequest download;
    download.set_path("d/f");
    v1::ListRequest list;
    list.set_path("d");
    v1::RenameRequest rename;
    rename.set_from("d/f");
    rename.set_to("d/g");
    v1::SymlinkRequest symlink;
    symlink.set_target("g");
    symlink.set_path("d/l");
    v1::RemoveRequest remove;
    remove.set_path("d");
    v1::ExecRequest exec;
    exec.add_argv("true");
    v1::StatsSubscribeRequest stats;
    stats.set_interval_ms(50);
    stats.set_max_samples(2);
    v1::SubscribeDevicesRequest devices;
    devices.mutable_filter()->set_subsystem("block");
    v1::PowerRequest power;
    power.set_action(v1::POWER_ACTION_POWEROFF);
    v1::PowerWatchRequest watch;
    // files' paths are relative here; the target's root is a temporary
    // directory, and absolute paths outside it are refused.
    out["agent_session_fuzz"] = {
        steps({hello_step(host_hello()), frame_step(request(1, "ping.Ping", ping)),
               frame_step(request(2, "info.Get", v1::InfoRequest())), frame_step(request(3, "stats.Get", v1::StatsGetRequest())),
               frame_step(request(4, "stats.Subscribe", stats)), step(3, "\x0f"), frame_step(frames::cancel(4))}),
        steps({hello_step(host_hello()), frame_step(request(1, "files.Stat", stat)), frame_step(request(2, "files.Mkdir", mkdir)),
               frame_step(request(3, "files.Upload", upload)), frame_step(data(3, 0, "content")),
               frame_step(data(3, 0, "", true)), frame_step(request(4, "files.Download", download)),
               frame_step(frames::credit(4, 1, 65536)), frame_step(request(5, "files.List", list)),
               frame_step(request(6, "files.Rename", rename)), frame_step(request(7, "files.Symlink", symlink)),
               frame_step(request(8, "files.Remove", remove))}),
        steps({hello_step(host_hello()), frame_step(request(1, "exec.Run", exec)),
               frame_step(request(2, "devices.Subscribe", devices)), frame_step(request(3, "power.Watch", watch)),
               frame_step(request(4, "power.Request", power)), frame_step(frames::credit(3, v1::EVENT_STREAM, 16)),
               step(3, "\x05")}),
    };
  }

  // An agent's side, answering the host client's calls in the order it
  // makes them: 1 ping.Ping, 2 exec.Run, 3 devices.Subscribe,
  // 4 stats.Subscribe, 5 info.Get (after ping's reply).
  {
    v1::PingReply pong;
    pong.set_payload("");
    pong.set_guest_time_ns(1700000000000000000);
    v1::InfoReply info;
    v1::ExecReply exited;
    exited.set_pid(42);
    exited.set_exit_code(0);
    v1::DeviceEvent device;
    *device.mutable_device() = disk();
    v1::DeviceEvent started;
    started.mutable_started();
    v1::StatsSample sample;
    out["host_client_fuzz"] = {
        steps({hello_step(agent_hello()), frame_step(response(1, pong)), frame_step(frames::credit(2, 0, 65536)),
               frame_step(data(2, 1, "xxxxxxxxxx")), frame_step(data(2, 2, "warning")), frame_step(frames::end_of_stream(2, 1)),
               frame_step(response(2, exited)), frame_step(event(3, started)), frame_step(event(3, device)),
               frame_step(event(4, sample)), frame_step(response(5, info))}),
        steps({hello_step(agent_hello()), frame_step(frames::error_response(1, v1::ERROR_CODE_UNAVAILABLE, "busy")),
               step(3, ""), hello_step(agent_hello()), frame_step(frames::error(v1::ERROR_CODE_PROTOCOL_ERROR, "bye")),
               step(2, "\xffTETHER\x01garbage")}),
    };
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tether_fuzz_seeds CORPUS_DIR  (tests/fuzz/corpus)\n";
    return 2;
  }
  for (const auto& [target, inputs] : seeds()) {
    const fs::path dir = fs::path(argv[1]) / target;
    fs::create_directories(dir);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::ofstream(dir / ("seed-" + std::to_string(i + 1)), std::ios::binary) << inputs[i];
    }
    std::cout << dir.string() << ": " << inputs.size() << " seeds\n";
  }
  return 0;
}
