#include "support/qga_client.hpp"

#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

namespace tether::test {

using clock = std::chrono::steady_clock;

namespace {
int remaining_ms(clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}
}  // namespace

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string base64_encode(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;
    acc = acc << 6 | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

qga_client::qga_client(const std::string& socket_path, std::chrono::milliseconds within) {
  connect_and_sync(socket_path, clock::now() + within);
}

qga_client::~qga_client() {
  if (fd_ >= 0) ::close(fd_);
}

void qga_client::send_all(const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("qemu-ga socket write failed: " + std::string(std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
}

std::string qga_client::read_line(clock::time_point deadline) {
  for (;;) {
    if (auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) throw std::runtime_error("qemu-ga did not answer in time");
    char b[65536];
    const ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) throw std::runtime_error("qemu-ga socket closed");
    buf_.append(b, static_cast<std::size_t>(n));
  }
}

void qga_client::connect_and_sync(const std::string& path, clock::time_point deadline) {
  std::string last_error = "not tried";
  while (clock::now() < deadline) {
    if (fd_ >= 0) ::close(fd_);
    buf_.clear();
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      last_error = "connect " + path + ": " + std::strerror(errno);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retry pacing, not synchronisation
      continue;
    }
    // qemu-ga's resync: 0xFF flushes its parser; guest-sync-delimited answers
    // with 0xFF then the id, so everything before the 0xFF is stale.
    const auto id = std::random_device{}() & 0x7fffffff;
    send_all("\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":" + std::to_string(id) + "}}\n");
    const auto attempt_deadline = std::min(deadline, clock::now() + std::chrono::seconds(3));
    try {
      for (;;) {
        std::string line = read_line(attempt_deadline);
        const auto ff = line.rfind('\xff');
        if (ff != std::string::npos) line.erase(0, ff + 1);
        if (line.find("\"return\"") != std::string::npos && line.find(std::to_string(id)) != std::string::npos)
          return;
      }
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  throw std::runtime_error("qemu-ga on " + path + " did not synchronise: " + last_error);
}

google::protobuf::Value qga_client::execute(const std::string& cmd, const std::string& args_json,
                                            std::chrono::milliseconds within) {
  send_all("{\"execute\":" + json_quote(cmd) + ",\"arguments\":" + args_json + "}\n");
  const auto deadline = clock::now() + within;
  std::string line = read_line(deadline);
  google::protobuf::Struct reply;
  if (!google::protobuf::util::JsonStringToMessage(line, &reply).ok())
    throw std::runtime_error("qemu-ga sent invalid JSON: " + line.substr(0, 200));
  const auto& f = reply.fields();
  if (auto e = f.find("error"); e != f.end()) {
    std::string desc = "?";
    if (auto d = e->second.struct_value().fields().find("desc"); d != e->second.struct_value().fields().end())
      desc = d->second.string_value();
    throw std::runtime_error("qemu-ga " + cmd + " failed: " + desc);
  }
  auto r = f.find("return");
  if (r == f.end()) throw std::runtime_error("qemu-ga reply without return: " + line.substr(0, 200));
  return r->second;
}

std::string qga_client::request(const std::string& text, std::chrono::milliseconds within) {
  send_all(text + "\n");
  std::string line = read_line(clock::now() + within);
  if (!line.empty() && line.front() == '\xff') line.erase(0, 1);
  return line;
}

qga_client::exec_result qga_client::exec(const std::vector<std::string>& argv, std::chrono::milliseconds within,
                                         std::chrono::microseconds poll_interval) {
  std::string args = "{\"path\":" + json_quote(argv.at(0)) + ",\"arg\":[";
  for (std::size_t i = 1; i < argv.size(); ++i) args += (i > 1 ? "," : "") + json_quote(argv[i]);
  args += "],\"capture-output\":true}";
  const auto deadline = clock::now() + within;
  auto started = execute("guest-exec", args, within);
  const auto pid = static_cast<long long>(started.struct_value().fields().at("pid").number_value());
  last_polls_ = 0;
  for (;;) {
    ++last_polls_;
    auto st = execute("guest-exec-status", "{\"pid\":" + std::to_string(pid) + "}", within);
    const auto& f = st.struct_value().fields();
    if (f.at("exited").bool_value()) {
      exec_result r;
      if (auto it = f.find("exitcode"); it != f.end()) r.exit_code = static_cast<int>(it->second.number_value());
      if (auto it = f.find("out-data"); it != f.end()) r.out = base64_decode(it->second.string_value());
      if (auto it = f.find("err-data"); it != f.end()) r.err = base64_decode(it->second.string_value());
      return r;
    }
    if (clock::now() > deadline) throw std::runtime_error("guest-exec of " + argv[0] + " did not finish in time");
    // qemu-ga has no completion event: a harness must poll (this is what we beat).
    std::this_thread::sleep_for(poll_interval);
  }
}

std::string qga_client::read_file(const std::string& path) {
  auto r = exec({"/bin/cat", path});
  if (r.exit_code != 0) throw std::runtime_error("cannot read " + path + " in the guest: " + r.err);
  return r.out;
}

}  // namespace tether::test
