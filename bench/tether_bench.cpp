// tether-bench: tether vs qemu-guest-agent vs the raw virtio-serial channel,
// measured side by side in one guest, in one run.
//
//   tether-bench [--rounds N] [--attach STATE_DIR] [--markdown FILE] [--only transfers]
//
// --only transfers: the raw channel and file transfer rows alone (a quick
// same-run comparison while working on the data path).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <sstream>

#include "bench_table.hpp"
#include "bench_paths.hpp"
#include "bench_vm.hpp"
#include "broker_rows.hpp"
#include "run_op.hpp"
#include "python_rows.hpp"
#include "support/nested_agent.hpp"
#include "support/qga_client.hpp"
#include "tether/client.hpp"
#include "tether/common/asio.hpp"
#include "tether/devices.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/qmp.hpp"

#include <filesystem>

namespace tether::bench {
namespace {

using clock = std::chrono::steady_clock;
double ms_since(clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }


double median_of(std::vector<double> v) { return summarize(std::move(v)).median; }

struct context {
  bench_vm& vm;
  int rounds;
  asio::io_context ctx;
  std::unique_ptr<client> guest;
  std::unique_ptr<test::qga_client> qga;
};

// after_round (the Python rows' round) runs after each round, so both
// languages are measured side by side in time, not minutes apart.
row ping_row(context& c, const summary& raw_echo, const std::function<void()>& after_round) {
  constexpr int per_round = 200;
  std::vector<double> t_rounds, q_rounds;
  for (int r = 0; r < c.rounds; ++r) {
    std::vector<double> t, q;
    for (int i = 0; i < per_round; ++i) {
      auto t0 = clock::now();
      run(c.ctx, c.guest->ping());
      t.push_back(ms_since(t0));
    }
    for (int i = 0; i < per_round; ++i) {
      auto t0 = clock::now();
      c.qga->execute("guest-ping");
      q.push_back(ms_since(t0));
    }
    t_rounds.push_back(median_of(t));
    q_rounds.push_back(median_of(q));
    if (after_round) after_round();
  }
  return {.metric = "ping round trip (median of 200 per round)", .unit = "ms",
          .tether = summarize(t_rounds), .qemu_ga = summarize(q_rounds), .raw = raw_echo,
          .note = "tether ping.Ping vs qemu-ga guest-ping; raw: 64 bytes echoed on the spare port"};
}

// The floor probe (bench/guest_floor.cpp) inside the guest: runs it with
// the arguments and returns its "key value" lines.
constexpr const char* floor_probe = "/root/tether-bench-floor";

void install_floor_probe(context& c) {
  run(c.ctx, files::upload_file(*c.guest, paths::floor_probe, floor_probe, {.mode = 0755, .overwrite = true}));
}

std::map<std::string, double> run_floor_probe(context& c, std::vector<std::string> args) {
  args.insert(args.begin(), floor_probe);
  auto r = run(c.ctx, exec::run(*c.guest, {.argv = args}));
  if (r.result.exit_code != 0) throw std::runtime_error("tether-bench-floor failed: " + r.err);
  std::map<std::string, double> out;
  std::istringstream in(r.out);
  std::string key;
  double value = 0;
  while (in >> key >> value) out[key] = value;
  return out;
}

// The floor probe started through qemu-ga and left running, for the
// probes that need the host to act meanwhile (read-port, echo-port);
// wait_probe collects its "key value" lines once it exits.
long long start_probe(context& c, const std::vector<std::string>& args) {
  std::string argv;
  for (const auto& a : args) argv += (argv.empty() ? "" : ",") + test::json_quote(a);
  auto started = c.qga->execute("guest-exec", "{\"path\":\"" + std::string(floor_probe) + "\",\"arg\":[" + argv +
                                                  "],\"capture-output\":true}");
  return static_cast<long long>(started.struct_value().fields().at("pid").number_value());
}

std::map<std::string, double> wait_probe(context& c, long long pid) {
  for (;;) {
    auto st = c.qga->execute("guest-exec-status", "{\"pid\":" + std::to_string(pid) + "}");
    const auto& f = st.struct_value().fields();
    if (!f.at("exited").bool_value()) continue;
    const auto text = [&](const char* key) {
      return f.count(key) ? test::base64_decode(f.at(key).string_value()) : std::string();
    };
    if (f.at("exitcode").number_value() != 0) throw std::runtime_error("tether-bench-floor failed: " + text("err-data"));
    std::map<std::string, double> out;
    std::istringstream in(text("out-data"));
    std::string key;
    double value = 0;
    while (in >> key >> value) out[key] = value;
    return out;
  }
}

// tether-agent's own QGA front end vs qemu-ga, in one guest, over the same
// protocol: a second tether-agent serves QGA on the spare port (free once
// the raw rows are done) while qemu-ga keeps its port; the same client code
// drives both.
std::vector<row> qga_rows(context& c) {
  run(c.ctx, exec::run(*c.guest, {.argv = {"sh", "-c",
      "setsid /usr/bin/tether-agent --listen-unix /tmp/bench-qga.sock --qga-port org.tether.raw.0 --audit off "
      "--log-level warning </dev/null >/dev/console 2>&1 & echo $! > /tmp/bench-qga.pid; "
      "for i in $(seq 300); do [ -S /tmp/bench-qga.sock ] && exit 0; sleep 0.1; done; exit 1"}}));
  test::qga_client tether_qga(c.vm.socket("raw"), 120s);
  const std::size_t file_bytes = 64u << 20, chunk = 4u << 20;  // 4 MiB: a reply stays below libvirt's 10 MiB
  run(c.ctx, exec::run(*c.guest, {.argv = {"dd", "if=/dev/urandom", "of=/root/bench-qga-read.bin", "bs=1M",
                                           "count=64"}}));
  // open, read to EOF (each chunk base64-decoded), close: what a harness's copy-out does.
  auto read_all = [&](test::qga_client& q) {
    const auto t0 = clock::now();
    const auto h = std::to_string(static_cast<long long>(
        q.execute("guest-file-open", R"({"path":"/root/bench-qga-read.bin"})").number_value()));
    std::size_t got = 0;
    for (;;) {
      auto r = q.execute("guest-file-read", "{\"handle\":" + h + ",\"count\":" + std::to_string(chunk) + "}");
      const auto& f = r.struct_value().fields();
      got += test::base64_decode(f.at("buf-b64").string_value()).size();
      if (f.at("eof").bool_value() || got >= file_bytes) break;
    }
    q.execute("guest-file-close", "{\"handle\":" + h + "}");
    if (got != file_bytes) throw std::runtime_error("guest-file-read returned " + std::to_string(got) + " bytes");
    return static_cast<double>(got) / 1e6 / (ms_since(t0) / 1000.0);
  };
  std::vector<double> tp, qp, te, qe, tr, qr;
  for (int r = 0; r < c.rounds; ++r) {
    for (auto [q, out] : {std::pair{&tether_qga, &tp}, std::pair{c.qga.get(), &qp}}) {
      std::vector<double> v;
      for (int i = 0; i < 200; ++i) {
        const auto t0 = clock::now();
        q->execute("guest-ping");
        v.push_back(ms_since(t0));
      }
      out->push_back(median_of(v));
    }
    for (auto [q, out] : {std::pair{&tether_qga, &te}, std::pair{c.qga.get(), &qe}}) {
      std::vector<double> v;
      for (int i = 0; i < 20; ++i) {
        const auto t0 = clock::now();
        if (q->exec({"/bin/true"}).exit_code != 0) throw std::runtime_error("guest-exec /bin/true failed");
        v.push_back(ms_since(t0));
      }
      out->push_back(median_of(v));
    }
    if (r < 3) {  // ~10 s a round through qemu-ga
      tr.push_back(read_all(tether_qga));
      qr.push_back(read_all(*c.qga));
    }
  }
  run(c.ctx, exec::run(*c.guest, {.argv = {"sh", "-c", "kill $(cat /tmp/bench-qga.pid); rm -f /root/bench-qga-read.bin"}}));
  return {{.metric = "QGA guest-ping (median of 200 per round)", .unit = "ms", .tether = summarize(tp),
           .qemu_ga = summarize(qp), .note = "the same QGA client against tether-agent's QGA and qemu-ga"},
          {.metric = "QGA guest-exec /bin/true + guest-exec-status until exited (median of 20 per round)",
           .unit = "ms", .tether = summarize(te), .qemu_ga = summarize(qe),
           .note = "status polled every 1 ms, as harnesses do"},
          {.metric = "QGA guest-file-read 64 MiB (open, 4 MiB reads, close)", .unit = "MB/s",
           .lower_is_better = false, .tether = summarize(tr), .qemu_ga = summarize(qr),
           .note = "base64 decoded on the host; up to 3 rounds"}};
}

// Start a process, wait for its exit status: what harnesses do most.
row exec_row(context& c, const std::function<void()>& after_round) {
  constexpr int per_round = 20;
  std::vector<double> t_rounds, q_rounds, floor_rounds;
  const exec::options true_cmd{.argv = {"/bin/true"}};
  for (int r = 0; r < c.rounds; ++r) {
    std::vector<double> t, q;
    for (int i = 0; i < per_round; ++i) {
      auto t0 = clock::now();
      auto res = run(c.ctx, exec::run(*c.guest, true_cmd));
      t.push_back(ms_since(t0));
      if (res.result.exit_code != 0) throw std::runtime_error("tether: /bin/true failed");
    }
    for (int i = 0; i < per_round; ++i) {
      auto t0 = clock::now();
      // qemu-ga's best case: guest-exec, then guest-exec-status every 1 ms.
      auto res = c.qga->exec({"/bin/true"});
      q.push_back(ms_since(t0));
      if (res.exit_code != 0) throw std::runtime_error("qemu-ga: /bin/true failed");
    }
    t_rounds.push_back(median_of(t));
    q_rounds.push_back(median_of(q));
    floor_rounds.push_back(run_floor_probe(c, {"spawn", "/bin/true", std::to_string(per_round)}).at("spawn_ms"));
    if (after_round) after_round();
  }
  return {.metric = "exec /bin/true round trip (median of 20 per round)", .unit = "ms",
          .tether = summarize(t_rounds), .qemu_ga = summarize(q_rounds), .raw = summarize(floor_rounds),
          .note = "exec.Run to exit status vs guest-exec + guest-exec-status polled every 1 ms; "
                  "raw: posix_spawn + waitpid inside the guest, no agent, no channel (the floor)"};
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
  return fd;
}

constexpr const char* raw_port = "/dev/virtio-ports/org.tether.raw.0";

// Reads `bytes` from the raw socket; MB/s from the first byte to the last.
double drain_raw(int fd, std::size_t bytes) {
  std::vector<char> buf(1 << 20);
  std::size_t got = 0;
  clock::time_point first{};
  while (got < bytes) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) throw std::runtime_error("raw channel closed");
    if (got == 0) first = clock::now();
    got += static_cast<std::size_t>(n);
  }
  return static_cast<double>(got) / 1e6 / (ms_since(first) / 1000.0);
}

// Guest writes `bytes` into the spare port with dd; the host times the bytes
// arriving on the chardev socket.
double raw_guest_to_host(context& c, int fd, std::size_t bytes) {
  const std::size_t bs = 32768;
  c.qga->execute("guest-exec", "{\"path\":\"/bin/dd\",\"arg\":[\"if=/dev/zero\",\"of=" + std::string(raw_port) +
                                   "\",\"bs=" + std::to_string(bs) + "\",\"count=" + std::to_string(bytes / bs) + "\"]}");
  return drain_raw(fd, bytes);
}

void write_all_raw(int fd, const char* p, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) throw std::runtime_error("raw channel write failed");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Host writes `bytes` into the chardev socket; the floor probe reads the
// port as the agent does (256 KiB buffer, many reads per wake-up) and times
// the bytes from its first batch to its last.
double raw_host_to_guest(context& c, int fd, std::size_t bytes) {
  const auto pid = start_probe(c, {"read-port", raw_port, std::to_string(bytes)});
  std::vector<char> buf(1 << 20, 'r');
  for (std::size_t sent = 0; sent < bytes; sent += std::min(buf.size(), bytes - sent))
    write_all_raw(fd, buf.data(), std::min(buf.size(), bytes - sent));
  return wait_probe(c, pid).at("read_mbps");
}

// The floor of a ping: 64 bytes (about a ping frame) to the guest and back
// through the probe echoing on the spare port; median of `count`.
double raw_echo_ms(context& c, int fd, int count) {
  constexpr std::size_t size = 64;
  const auto pid = start_probe(c, {"echo-port", raw_port, std::to_string(size * count)});
  std::vector<double> ms;
  char msg[size], back[size];
  std::memset(msg, 'e', size);
  for (int i = 0; i < count; ++i) {
    const auto t0 = clock::now();
    write_all_raw(fd, msg, size);
    for (std::size_t got = 0; got < size;) {
      const ssize_t n = ::read(fd, back + got, size - got);
      if (n <= 0) throw std::runtime_error("raw echo: channel closed");
      got += static_cast<std::size_t>(n);
    }
    if (i > 0) ms.push_back(ms_since(t0));  // the first waits for the probe to open the port
  }
  wait_probe(c, pid);
  return median_of(ms);
}

std::vector<row> raw_rows(context& c) {
  const std::size_t bytes = 256u << 20;
  const int fd = connect_unix(c.vm.socket("raw"));
  std::vector<double> up, down, echo;
  for (int r = 0; r < c.rounds; ++r) {
    down.push_back(raw_guest_to_host(c, fd, bytes));
    up.push_back(raw_host_to_guest(c, fd, bytes));
    echo.push_back(raw_echo_ms(c, fd, 201));
  }
  ::close(fd);
  return {{.metric = "raw channel guest→host (256 MiB, dd bs=32k)", .unit = "MB/s", .lower_is_better = false,
           .raw = summarize(down), .note = "spare port org.tether.raw.0"},
          {.metric = "raw channel host→guest (256 MiB, batched reads)", .unit = "MB/s", .lower_is_better = false,
           .raw = summarize(up),
           .note = "spare port; the floor probe reads it as the agent does (256 KiB, many reads per wake-up)"},
          {.metric = "raw echo round trip (64 bytes, median of 200)", .unit = "ms", .raw = summarize(echo),
           .note = "spare port; the floor probe echoes what arrives: ping's floor"}};
}

std::size_t b64_decoded_size(const std::string& in) {
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  return in.size() / 4 * 3 - pad;
}

// qemu-ga file transfer as harnesses do it: guest-file-read/-write with
// base64 chunks, one round trip each (4 MiB is qemu-ga's read limit; 1 MiB
// chunks keep its JSON parser happy).
double qga_transfer(context& c, const std::string& path, std::size_t bytes, bool upload) {
  const auto t0 = clock::now();
  auto opened = c.qga->execute("guest-file-open", "{\"path\":\"" + path + "\",\"mode\":\"" + (upload ? "w" : "r") + "\"}");
  const auto handle = std::to_string(static_cast<long long>(opened.number_value()));
  const std::size_t chunk = 1u << 20;
  const std::string data = test::base64_encode(std::string(chunk, 'q'));
  std::size_t moved = 0;
  while (moved < bytes) {
    if (upload) {
      c.qga->execute("guest-file-write", "{\"handle\":" + handle + ",\"buf-b64\":\"" + data + "\"}");
      moved += chunk;
    } else {
      auto r = c.qga->execute("guest-file-read", "{\"handle\":" + handle + ",\"count\":" + std::to_string(chunk) + "}");
      const auto& f = r.struct_value().fields();
      moved += b64_decoded_size(f.at("buf-b64").string_value());
      if (f.at("eof").bool_value()) break;
    }
  }
  c.qga->execute("guest-file-close", "{\"handle\":" + handle + "}");
  return static_cast<double>(moved) / 1e6 / (ms_since(t0) / 1000.0);
}

// The agent's peak resident memory (VmHWM), read through qemu-ga.
double agent_peak_rss_mib(context& c) {
  auto r = c.qga->exec({"/bin/sh", "-c", "grep VmHWM /proc/$(pidof tether-agent)/status"});
  std::istringstream in(r.out);
  std::string key;
  double kib = 0;
  in >> key >> kib;
  return kib / 1024;
}

// Resident memory (VmRSS, MiB) of the process named `name`, read through qemu-ga.
double rss_mib(context& c, const std::string& name) {
  auto r = c.qga->exec({"/bin/sh", "-c", "grep VmRSS /proc/$(pidof " + name + " | cut -d' ' -f1)/status"});
  std::istringstream in(r.out);
  std::string key;
  double kib = 0;
  in >> key >> kib;
  return kib / 1024;
}

// Both agents' resident memory before any work, side by side in one guest.
row idle_rss_row(context& c) {
  const double tether = rss_mib(c, "tether-agent"), qga = rss_mib(c, "qemu-ga");
  return {.metric = "agent idle RSS (VmRSS) after boot", .unit = "MiB",
          .tether = summarize(std::vector<double>{tether}), .qemu_ga = summarize(std::vector<double>{qga}),
          .note = "before any transfer; same guest, same moment"};
}

// CPU ticks (user + system, 1/100 s) of the agent's event loop thread (the
// main thread) and of all its other threads together, read through qemu-ga.
std::pair<double, double> agent_thread_ticks(context& c) {
  auto r = c.qga->exec({"/bin/sh", "-c",
                        "p=$(pidof tether-agent); for t in /proc/$p/task/*; do echo ${t##*/} $p "
                        "$(cut -d')' -f2- $t/stat | cut -d' ' -f13,14); done"});
  std::istringstream in(r.out);
  long long tid = 0, pid = 0;
  double user = 0, sys = 0, loop = 0, others = 0;
  while (in >> tid >> pid >> user >> sys) (tid == pid ? loop : others) += user + sys;
  return {loop, others};
}

// Where a transfer's guest CPU goes: % of one vCPU used by the agent's loop
// thread and by its other threads (the transfer worker) during `op`, and
// the loop's CPU time per MB moved (steadier than % on a busy host).
struct cpu_use {
  double loop_pct, others_pct, loop_ms_per_mb;
};
template <class Op>
cpu_use agent_cpu_during(context& c, std::size_t bytes, Op op) {
  const auto before = agent_thread_ticks(c);
  const auto t0 = clock::now();
  op();
  const double s = ms_since(t0) / 1000.0;
  const auto after = agent_thread_ticks(c);
  const double loop_ticks = after.first - before.first;
  return {loop_ticks / s, (after.second - before.second) / s, loop_ticks * 10.0 / (static_cast<double>(bytes) / 1e6)};
}

// Lower of two floors, round by round: what a checked transfer can reach
// at best (the channel, or the guest's hash rate, whichever is slower).
summary floor_of(const summary& a, const summary& b) {
  return a.median <= b.median ? a : b;
}

std::vector<row> files_rows(context& c, const summary& raw_down, const summary& raw_up) {
  const std::size_t tether_bytes = 64u << 20, qga_bytes = 8u << 20;
  run(c.ctx, exec::run(*c.guest, {.argv = {"dd", "if=/dev/zero", "of=/root/bench-dl.bin", "bs=1M", "count=256"}}));
  std::vector<double> t_down, t_up, s_down, s_up, q_down, q_up;
  const std::string payload(tether_bytes, 'u');
  const auto mb_per_s = [&](clock::time_point t0) {
    return static_cast<double>(tether_bytes) / 1e6 / (ms_since(t0) / 1000.0);
  };
  for (int r = 0; r < c.rounds; ++r) {
    auto t0 = clock::now();
    run(c.ctx, files::download_bytes(*c.guest, "/root/bench-dl.bin", {.length = tether_bytes}));
    t_down.push_back(mb_per_s(t0));
    t0 = clock::now();
    run(c.ctx, files::upload_bytes(*c.guest, payload, "/root/bench-ul.bin", {.overwrite = true}));
    t_up.push_back(mb_per_s(t0));
    t0 = clock::now();
    run(c.ctx, files::download_bytes(*c.guest, "/root/bench-dl.bin",
                                     {.length = tether_bytes, .checksum = files::checksum::sha256}));
    s_down.push_back(mb_per_s(t0));
    t0 = clock::now();
    run(c.ctx, files::upload_bytes(*c.guest, payload, "/root/bench-ul.bin",
                                   {.overwrite = true, .checksum = files::checksum::sha256}));
    s_up.push_back(mb_per_s(t0));
    q_down.push_back(qga_transfer(c, "/root/bench-dl.bin", qga_bytes, false));
    q_up.push_back(qga_transfer(c, "/root/bench-ul-qga.bin", qga_bytes, true));
  }

  // Ping on the same connection while 256 MiB come down, against idle ping.
  std::vector<double> idle, busy;
  for (int i = 0; i < 50; ++i) {
    auto t0 = clock::now();
    run(c.ctx, c.guest->ping());
    idle.push_back(ms_since(t0));
  }
  run(c.ctx, [&]() -> awaitable<void> {
    bool done = false;
    auto fetch = [&]() -> awaitable<void> {
      co_await files::download_bytes(*c.guest, "/root/bench-dl.bin");
      done = true;
    };
    auto pinger = [&]() -> awaitable<void> {
      asio::steady_timer t(co_await asio::this_coro::executor);
      while (!done) {
        auto t0 = clock::now();
        co_await c.guest->ping();
        busy.push_back(ms_since(t0));
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(use_awaitable);
      }
    };
    using namespace asio::experimental::awaitable_operators;
    co_await (fetch() && pinger());
  }());
  const double rss = agent_peak_rss_mib(c);
  // What bounds the default transfers in the guest: how busy each agent thread is.
  std::vector<double> down_loop, down_worker, down_per_mb, up_loop, up_worker, up_per_mb;
  for (int r = 0; r < c.rounds; ++r) {
    auto d = agent_cpu_during(c, tether_bytes, [&] {
      run(c.ctx, files::download_bytes(*c.guest, "/root/bench-dl.bin", {.length = tether_bytes}));
    });
    down_loop.push_back(d.loop_pct);
    down_worker.push_back(d.others_pct);
    down_per_mb.push_back(d.loop_ms_per_mb);
    auto u = agent_cpu_during(c, tether_bytes, [&] {
      run(c.ctx, files::upload_bytes(*c.guest, payload, "/root/bench-ul.bin", {.overwrite = true}));
    });
    up_loop.push_back(u.loop_pct);
    up_worker.push_back(u.others_pct);
    up_per_mb.push_back(u.loop_ms_per_mb);
  }
  const auto per_mb = [](const std::vector<double>& v) {
    std::ostringstream o;
    o.precision(3);
    o << "; the loop's CPU per MB moved: " << summarize(v).median << " ms";
    return o.str();
  };
  // What the guest's CPU can hash at all, with the libraries the agent
  // uses: a verified transfer cannot go faster, whatever the channel does.
  std::vector<double> sha_floor, xxh_floor, xxh3_floor;
  for (int r = 0; r < c.rounds; ++r) {
    auto f = run_floor_probe(c, {"hash", "/root/bench-dl.bin", std::to_string(tether_bytes)});
    sha_floor.push_back(f.at("sha256_mbps"));
    xxh_floor.push_back(f.at("xxh64_mbps"));
    xxh3_floor.push_back(f.at("xxh3_mbps"));
  }
  // A file into the port with splice() (through a pipe, no copy) against
  // pread + write: what a zero-copy download path could gain.
  std::vector<double> send_write, send_splice;
  {
    const int fd = connect_unix(c.vm.socket("raw"));
    for (int r = 0; r < c.rounds; ++r) {
      for (const std::string mode : {"write", "splice"}) {
        const auto pid = start_probe(c, {"send-file", "/root/bench-dl.bin", raw_port, mode});
        drain_raw(fd, 256u << 20);
        (mode == "write" ? send_write : send_splice).push_back(wait_probe(c, pid).at("send_mbps"));
      }
    }
    ::close(fd);
  }
  run(c.ctx, exec::run(*c.guest, {.argv = {"rm", "-f", "/root/bench-dl.bin", "/root/bench-ul.bin", "/root/bench-ul-qga.bin"}}));
  const auto sha = summarize(sha_floor);
  const auto idle_ms = summarize(idle).median;
  std::ostringstream idle_note;
  idle_note.precision(3);
  idle_note << "idle ping median " << idle_ms << " ms, same connection; busy/idle "
            << summarize(busy).median / idle_ms << "x";

  return {{.metric = "download guest→host (64 MiB; qemu-ga 8 MiB)", .unit = "MB/s", .lower_is_better = false,
           .tether = summarize(t_down), .qemu_ga = summarize(q_down), .raw = raw_down,
           .note = "files.Download (XXH64, the default) vs guest-file-read 1 MiB base64 chunks; raw: guest→host"},
          {.metric = "upload host→guest (64 MiB; qemu-ga 8 MiB)", .unit = "MB/s", .lower_is_better = false,
           .tether = summarize(t_up), .qemu_ga = summarize(q_up), .raw = raw_up,
           .note = "files.Upload (XXH64, fsync, atomic rename) vs guest-file-write 1 MiB base64 chunks; "
                   "raw: batched host→guest"},
          {.metric = "download guest→host, --checksum sha256", .unit = "MB/s", .lower_is_better = false,
           .tether = summarize(s_down), .qemu_ga = summarize(q_down), .raw = floor_of(raw_down, sha),
           .note = "files.Download verified with SHA-256; raw: the lower of the channel and the guest's SHA-256"},
          {.metric = "upload host→guest, --checksum sha256", .unit = "MB/s", .lower_is_better = false,
           .tether = summarize(s_up), .qemu_ga = summarize(q_up), .raw = floor_of(raw_up, sha),
           .note = "files.Upload verified with SHA-256; raw: the lower of the channel and the guest's SHA-256"},
          {.metric = "ping during a 256 MiB download (XXH64)", .unit = "ms", .tether = summarize(busy),
           .raw = summarize(idle), .note = idle_note.str() + " (raw column: idle tether ping)"},
          {.metric = "guest CPU: SHA-256 of 64 MiB in memory (libcrypto)", .unit = "MB/s", .lower_is_better = false,
           .raw = sha, .note = "no agent, no channel: the ceiling of a SHA-256-verified transfer"},
          {.metric = "guest CPU: XXH64 of 64 MiB in memory (libxxhash)", .unit = "MB/s", .lower_is_better = false,
           .raw = summarize(xxh_floor), .note = "no agent, no channel: the ceiling of a default-verified transfer"},
          {.metric = "guest CPU: XXH3-128 of 64 MiB in memory (libxxhash)", .unit = "MB/s", .lower_is_better = false,
           .raw = summarize(xxh3_floor), .note = "no agent, no channel: the ceiling of an XXH3-verified transfer"},
          {.metric = "raw guest→host from a file: pread + write (256 MiB)", .unit = "MB/s", .lower_is_better = false,
           .raw = summarize(send_write), .note = "floor probe, 256 KiB reads, spare port"},
          {.metric = "raw guest→host from a file: splice through a pipe (256 MiB)", .unit = "MB/s",
           .lower_is_better = false, .raw = summarize(send_splice), .note = "floor probe, 1 MiB pipe, spare port"},
          {.metric = "guest CPU of the agent's loop thread during a default download", .unit = "%",
           .tether = summarize(down_loop),
           .note = "% of one vCPU; its other threads (transfer worker: pread + XXH64): " +
                   std::to_string(static_cast<int>(summarize(down_worker).median)) + "%" + per_mb(down_per_mb)},
          {.metric = "guest CPU of the agent's loop thread during a default upload", .unit = "%",
           .tether = summarize(up_loop),
           .note = "% of one vCPU; its other threads (transfer worker: write + XXH64, fsync): " +
                   std::to_string(static_cast<int>(summarize(up_worker).median)) + "%" + per_mb(up_per_mb)},
          {.metric = "agent peak RSS (VmHWM) after the transfers", .unit = "MiB",
           .tether = summarize(std::vector<double>{rss}), .note = "target <= 8 MiB"}};
}

// Hotplug a virtio-blk disk through QMP, then learn that the guest has it
// ready (udev done, /dev/disk/by-id link in place): tether's race-free
// devices.Wait vs a qemu-ga loop of guest-exec `test -e` (what harnesses do).
std::vector<row> hotplug_rows(context& c) {
  qmp::client monitor(c.ctx.get_executor(), {.socket_path = c.vm.socket("qmp")});
  run(c.ctx, monitor.connect());
  std::vector<double> t_ms, q_ms, q_procs;
  for (int r = 0; r < c.rounds; ++r) {
    for (int via_qga = 0; via_qga < 2; ++via_qga) {
      const std::string id = "bench" + std::to_string(r) + (via_qga ? "q" : "t");
      const std::string image = c.vm.dir() + "/" + id + ".img";
      { std::ofstream(image).close(); }
      std::filesystem::resize_file(image, 64u << 20);
      run(c.ctx, monitor.add_disk({.id = id, .image_path = image, .serial = id}));
      const auto t0 = clock::now();
      if (!via_qga) {
        run(c.ctx, devices::wait_for(*c.guest, {.subsystem = "block", .properties = {{"ID_SERIAL", id}}}, 60s));
        t_ms.push_back(ms_since(t0));
      } else {
        int procs = 0;
        for (;;) {
          ++procs;
          if (c.qga->exec({"/bin/test", "-e", "/dev/disk/by-id/virtio-" + id}).exit_code == 0) break;
          if (ms_since(t0) > 60'000) throw std::runtime_error("qemu-ga never saw " + id);
        }
        q_ms.push_back(ms_since(t0));
        q_procs.push_back(procs);
      }
      run(c.ctx, monitor.remove_device(id));
      std::filesystem::remove(image);
    }
  }
  return {{.metric = "hotplug: device_add → disk ready in guest (virtio-blk, by serial)", .unit = "ms",
           .tether = summarize(t_ms), .qemu_ga = summarize(q_ms),
           .note = "tether devices.Wait (udev-initialized) vs qemu-ga guest-exec `test -e` loop"},
          {.metric = "hotplug: guest processes started per wait", .unit = "procs",
           .tether = summarize(std::vector<double>(t_ms.size(), 0.0)), .qemu_ga = summarize(q_procs),
           .note = "tether starts none"}};
}

// Through one route: the guest's agent (L1) forwards to a second agent in
// the same guest on a unix socket (standing for a nested guest's agent),
// against the same calls straight to L1 over the same host connection.
std::vector<row> route_rows(context& c) {
  const std::string l2_socket = "/run/l2/tether.sock";
  run(c.ctx, test::allow_forward(*c.guest, "/run/l2/*.sock"));
  run(c.ctx, test::start_second_agent(*c.guest, l2_socket));
  c.guest->close();  // the chardev serves one host at a time: the route's hop takes it
  client routed(c.ctx.get_executor(),
                client_options{.socket_path = l2_socket, .via = {c.vm.socket("tether")}, .call_timeout = 120s});
  client& direct = routed.hop(0);
  run(c.ctx, test::retry_connectivity([&] { return routed.connect(); }));

  const std::size_t bytes = 64u << 20;
  const std::string file = "/root/bench-route.bin";
  run(c.ctx, exec::run(direct, {.argv = {"dd", "if=/dev/urandom", "of=" + file, "bs=1M", "count=64"}}));
  const exec::options true_cmd{.argv = {"/bin/true"}};
  std::vector<double> ping_r, ping_d, exec_r, exec_d, down_r, down_d;
  for (int r = 0; r < c.rounds; ++r) {
    for (auto* g : {&routed, &direct}) {
      const bool via = g == &routed;
      std::vector<double> p, e;
      for (int i = 0; i < 200; ++i) {
        auto t0 = clock::now();
        run(c.ctx, g->ping());
        p.push_back(ms_since(t0));
      }
      for (int i = 0; i < 20; ++i) {
        auto t0 = clock::now();
        run(c.ctx, exec::run(*g, true_cmd));
        e.push_back(ms_since(t0));
      }
      auto t0 = clock::now();
      run(c.ctx, files::download_bytes(*g, file));
      const double mbs = static_cast<double>(bytes) / 1e6 / (ms_since(t0) / 1000.0);
      (via ? ping_r : ping_d).push_back(median_of(p));
      (via ? exec_r : exec_d).push_back(median_of(e));
      (via ? down_r : down_d).push_back(mbs);
    }
  }
  auto versus = [](const std::vector<double>& routed_v, const std::vector<double>& direct_v, const char* unit) {
    char b[160];
    const double rm = median_of(routed_v), dm = median_of(direct_v);
    std::snprintf(b, sizeof b, "direct to L1 on the same connection: %.3f %s; route/direct %.2fx", dm, unit, rm / dm);
    return std::string(b);
  };
  return {{.metric = "ping through one route (median of 200 per round)", .unit = "ms", .tether = summarize(ping_r),
           .note = versus(ping_r, ping_d, "ms")},
          {.metric = "exec /bin/true through one route (median of 20 per round)", .unit = "ms",
           .tether = summarize(exec_r), .note = versus(exec_r, exec_d, "ms")},
          {.metric = "download 64 MiB through one route (default checksum)", .unit = "MB/s", .lower_is_better = false,
           .tether = summarize(down_r), .note = versus(down_r, down_d, "MB/s")}};
}

// The C++ clients of the guest's tether and qemu-ga chardevs (each takes one
// client at a time: release_clients lets the Python rows have them).
void connect_clients(context& c) {
  c.guest = std::make_unique<client>(c.ctx.get_executor(),
                                     client_options{.socket_path = c.vm.socket("tether"), .call_timeout = 120s});
  c.qga = std::make_unique<test::qga_client>(c.vm.socket("qga"));
  run(c.ctx, c.guest->connect());
}

void release_clients(context& c) {
  c.guest.reset();  // closes its socket now
  c.qga.reset();
}

int main_impl(int argc, char** argv) {
  int rounds = 5;
  std::string attach, markdown;
  // --only transfers | broker: just those rows (the broker rows measure
  // direct in the same rounds).
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--attach" && i + 1 < argc) attach = argv[++i];
    else if (a == "--markdown" && i + 1 < argc) markdown = argv[++i];
    else if (a == "--only" && i + 1 < argc &&
             (std::string_view(argv[i + 1]) == "transfers" || std::string_view(argv[i + 1]) == "broker"))
      only = argv[++i];
    else {
      std::cerr << "usage: tether-bench [--rounds N] [--attach STATE_DIR] [--markdown FILE] [--only transfers|broker]\n";
      return 2;
    }
  }
  std::cerr << "booting the benchmark guest...\n";
  bench_vm vm(attach);
  context c{vm, rounds};
  const bool transfers_only = only == "transfers";
  if (only == "broker") {
    const std::string table = render(broker_rows(vm.socket("tether"), rounds));
    std::cout << table;
    if (!markdown.empty()) std::ofstream(markdown) << table;
    return 0;
  }
  connect_clients(c);
  const row idle_rss = idle_rss_row(c);
  install_floor_probe(c);

  // The Python rows' rounds, one after each C++ round of the same measure.
  const bool with_python = *paths::python_executable;
  python_figures py;
  const auto python_round = [&](const std::string& what) -> std::function<void()> {
    if (!with_python) return {};
    return [&c, &py, what] {
      release_clients(c);
      py.add(measure_python(c.vm.socket("tether"), c.vm.socket("qga"), what));
      connect_clients(c);
    };
  };
  std::vector<row> rows;
  std::cerr << "measuring the raw channel...\n";
  auto raw = raw_rows(c);
  if (transfers_only) {
    for (auto& r : raw) rows.push_back(r);
    for (auto& r : files_rows(c, *raw[0].raw, *raw[1].raw)) rows.push_back(std::move(r));
    rows.push_back(idle_rss);
    std::cout << render(rows);
    return 0;
  }
  std::cerr << (with_python ? "measuring ping (C++ and Python)...\n" : "measuring ping...\n");
  rows.push_back(ping_row(c, *raw[2].raw, python_round("ping")));
  std::cerr << (with_python ? "measuring exec (C++ and Python)...\n" : "measuring exec...\n");
  rows.push_back(exec_row(c, python_round("exec")));
  if (with_python) {
    for (auto& r : python_rows(py, rows[0], rows[1])) rows.push_back(std::move(r));
  } else {
    std::cerr << "no Python rows: this build has no Python package (TETHER_BUILD_PYTHON=OFF)\n";
  }
  for (auto& r : raw) rows.push_back(r);
  std::cerr << "measuring QGA: tether-agent's vs qemu-ga...\n";
  for (auto& r : qga_rows(c)) rows.push_back(std::move(r));
  std::cerr << "measuring file transfers...\n";
  for (auto& r : files_rows(c, *raw[0].raw, *raw[1].raw)) rows.push_back(std::move(r));
  rows.push_back(idle_rss);
  std::cerr << "measuring hotplug...\n";
  for (auto& r : hotplug_rows(c)) rows.push_back(std::move(r));
  std::cerr << "measuring through the broker (tetherd) vs direct...\n";
  release_clients(c);
  for (auto& r : broker_rows(c.vm.socket("tether"), rounds)) rows.push_back(std::move(r));
  connect_clients(c);
  std::cerr << "measuring a route (a second agent in the guest, reached through the first)...\n";
  for (auto& r : route_rows(c)) rows.push_back(std::move(r));  // last: it restarts the guest's agent

  const std::string table = render(rows);
  std::cout << table;
  if (!markdown.empty()) std::ofstream(markdown) << table;
  return 0;
}

}  // namespace
}  // namespace tether::bench

int main(int argc, char** argv) {
  try {
    return tether::bench::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "tether-bench: " << e.what() << "\n";
    return 1;
  }
}
