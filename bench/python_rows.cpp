#include "python_rows.hpp"

#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>
#include <stdexcept>

#include "bench_paths.hpp"

namespace tether::bench {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::vector<double> numbers(const boost::json::object& o, const char* key) {
  std::vector<double> v;
  for (const auto& x : o.at(key).as_array()) v.push_back(x.to_number<double>());
  if (v.empty()) throw std::runtime_error(std::string("bench_rows.py reported no ") + key);
  return v;
}

// "1.07x of the C++ row (target ≤ 1.2x)".
std::string vs_cxx(const summary& py, const row& cxx) {
  char b[96];
  std::snprintf(b, sizeof b, "%.2fx of the C++ row (target ≤ 1.2x)", py.median / cxx.tether->median);
  return b;
}

}  // namespace

python_figures measure_python(const std::string& tether_socket, const std::string& qga_socket, int rounds) {
  const std::string cmd = "env PYTHONPATH=" + shell_quote(paths::python_path) + " " +
                          shell_quote(paths::python_executable) + " " + shell_quote(paths::python_rows_script) +
                          " --tether-socket " + shell_quote(tether_socket) + " --qga-socket " +
                          shell_quote(qga_socket) + " --rounds " + std::to_string(rounds);
  FILE* p = ::popen(cmd.c_str(), "r");  // stderr passes through (tracebacks)
  if (!p) throw std::runtime_error("cannot start " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) throw std::runtime_error("bench_rows.py failed: " + cmd);
  const auto o = boost::json::parse(out).as_object();
  return {numbers(o, "tether_ping"), numbers(o, "tether_exec"), numbers(o, "qga_ping"), numbers(o, "qga_exec")};
}

std::vector<row> python_rows(const python_figures& py, const row& cxx_ping, const row& cxx_exec) {
  const auto ping = summarize(py.tether_ping), exec = summarize(py.tether_exec);
  return {{.metric = "ping round trip from Python (median of 200 per round)", .unit = "ms",
           .tether = ping, .qemu_ga = summarize(py.qga_ping),
           .note = "tether.Guest.ping(): " + vs_cxx(ping, cxx_ping) +
                   "; vs guest-ping through bench/python/qga_exec.py (socket + json)"},
          {.metric = "exec /bin/true round trip from Python (median of 20 per round)", .unit = "ms",
           .tether = exec, .qemu_ga = summarize(py.qga_exec), .raw = cxx_exec.raw,
           .note = "tether.Guest.run(): " + vs_cxx(exec, cxx_exec) +
                   "; vs guest-exec + guest-exec-status polled every 1 ms (bench/python/qga_exec.py)"}};
}

}  // namespace tether::bench
