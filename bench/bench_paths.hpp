// This build's paths for the benchmark, defined by CMake in one generated
// file (bench_paths.cpp in the build tree) rather than as -D flags, so the
// benchmark's sources compile the same in every clone (compiler cache hits).
#pragma once

namespace tether::bench::paths {

extern const char* const floor_probe;   // tether-bench-floor, uploaded into the guest
extern const char* const guest_kernel;  // the fast guest
extern const char* const guest_initrd;
// The Python rows: the build's python3 ("" without the Python package), the
// build tree's PYTHONPATH, bench/python/bench_rows.py.
extern const char* const python_executable;
extern const char* const python_path;
extern const char* const python_rows_script;

}  // namespace tether::bench::paths
