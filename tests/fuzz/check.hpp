// A broken promise of the code under test: says which, then aborts, so
// libFuzzer keeps the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tether::fuzz {

inline void check(bool ok, const char* what = "", int line = __builtin_LINE(),
                  const char* file = __builtin_FILE()) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s:%d %s\n", file, line, what);
  std::abort();
}

}  // namespace tether::fuzz
