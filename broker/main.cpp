// tetherd: the tether broker (many local clients per guest); see src/run.cpp.
#include <csignal>

#include "src/run.hpp"

int main(int argc, char** argv) {
  // A client that goes away mid-write must not kill the broker.
  std::signal(SIGPIPE, SIG_IGN);
  return tether::broker::run_tetherd(argc, argv);
}
