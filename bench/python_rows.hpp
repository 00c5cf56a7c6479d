// The benchmark's Python rows: ping and `exec /bin/true` through the tether
// package and through a pure-Python qemu-ga client, measured by
// bench/python/bench_rows.py in this run, beside the C++ rows.
#pragma once

#include <string>
#include <vector>

#include "bench_table.hpp"

namespace tether::bench {

// Per-round medians (ms), as the C++ rows keep them.
struct python_figures {
  std::vector<double> tether_ping, tether_exec, qga_ping, qga_exec;
  void add(const python_figures& more);
};

// One round of the script (the build's python3, PYTHONPATH at the build
// tree's package) against the guest's two chardev sockets: `what` is "ping"
// or "exec". Each socket takes one client at a time: the caller must have
// let go of both. Throws on failure.
python_figures measure_python(const std::string& tether_socket, const std::string& qga_socket,
                              const std::string& what);

// The Python rows; each note gives the tether figure as a ratio of the C++ row's.
std::vector<row> python_rows(const python_figures& py, const row& cxx_ping, const row& cxx_exec);

}  // namespace tether::bench
