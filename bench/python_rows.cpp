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

// A measure the round did not take is absent.
std::vector<double> numbers(const boost::json::object& o, const char* key) {
  std::vector<double> v;
  if (const auto* a = o.if_contains(key))
    for (const auto& x : a->as_array()) v.push_back(x.to_number<double>());
  return v;
}

void append(std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); }

// "1.07x of the C++ row (target ≤ 1.2x)".
std::string vs_cxx(const summary& py, const row& cxx) {
  char b[96];
  std::snprintf(b, sizeof b, "%.2fx of the C++ row (target ≤ 1.2x)", py.median / cxx.tether->median);
  return b;
}

}  // namespace

void python_figures::add(const python_figures& more) {
  append(tether_ping, more.tether_ping);
  append(tether_exec, more.tether_exec);
  append(qga_ping, more.qga_ping);
  append(qga_exec, more.qga_exec);
}

python_figures measure_python(const std::string& tether_socket, const std::string& qga_socket,
                              const std::string& what) {
  const std::string cmd = "env PYTHONPATH=" + shell_quote(paths::python_path) + " " +
                          shell_quote(paths::python_executable) + " " + shell_quote(paths::python_rows_script) +
                          " --tether-socket " + shell_quote(tether_socket) + " --qga-socket " +
                          shell_quote(qga_socket) + " --measure " + shell_quote(what);
  FILE* p = ::popen(cmd.c_str(), "r");  // stderr passes through (tracebacks)
  if (!p) throw std::runtime_error("cannot start " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) throw std::runtime_error("bench_rows.py failed: " + cmd);
  const auto o = boost::json::parse(out).as_object();
  python_figures f{numbers(o, "tether_ping"), numbers(o, "tether_exec"), numbers(o, "qga_ping"), numbers(o, "qga_exec")};
  if (f.tether_ping.size() + f.tether_exec.size() == 0) throw std::runtime_error("bench_rows.py measured nothing");
  return f;
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
