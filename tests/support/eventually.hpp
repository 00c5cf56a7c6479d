// Waits for a condition outside our control (a file written by a guest
// command, a process gone, a log line) with a deadline: the condition is the
// proof, the short pauses between checks are not.
#pragma once

#include <chrono>
#include <thread>

namespace tether::test {

template <class F>
bool eventually(F cond, std::chrono::seconds within = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace tether::test
