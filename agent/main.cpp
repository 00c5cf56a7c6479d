#include <iostream>

#include "agent.hpp"
#include "config/config_file.hpp"

int main(int argc, char** argv) {
  try {
    auto parsed = tether::agent::parse_args(argc, argv);
    if (parsed.exit_now) return 0;
    return tether::agent::run_agent(parsed.options);
  } catch (const tether::agent::config_error& e) {
    std::cerr << "tether-agent: " << e.what() << "\n";
    return 2;
  } catch (const tether::agent::usage_error& e) {
    std::cerr << "tether-agent: " << e.what() << "\nTry 'tether-agent --help'.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tether-agent: fatal: " << e.what() << "\n";
    return 1;
  }
}
