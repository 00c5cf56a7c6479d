// Every setting of tether-agent, described once: its command-line flag, its
// key in the config file, the value it takes, its help text, and the one
// function that parses and validates a value, whether it came from a flag or
// from the file. options.cpp (flags, --help) and config_file.cpp (agent.conf)
// both work from this table, so a value one path refuses the other refuses
// with the same words, and the help cannot forget a flag.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent.hpp"

namespace tether::agent {

struct setting {
  std::string_view flag;     // "--max-calls"; empty: config file only
  std::string_view section;  // "limits"; empty: flag only
  std::string_view key;      // "max_concurrent_calls"
  // The value in the help ("N"); empty: a flag that takes no value.
  std::string_view value_name;
  // A list: the key takes comma-separated items; the flag is repeatable, one
  // item each, and its items replace the file's list. Otherwise one value,
  // and the last flag wins.
  bool list = false;
  // For --help (wrapped there); "(default X)" is added from `show`.
  std::string_view help;
  // Parses and applies the value(s): one for a single setting, the items of a
  // list (maybe none: "roots =" in the file), none for a switch. Throws
  // std::invalid_argument whose what() continues the name of the flag or key:
  // "needs a number from 1 to 1048576, got '0'". Empty for the flags
  // parse_args handles itself (--config, --help, ...).
  std::function<void(agent_options&, std::span<const std::string>)> apply;
  // The value of the setting in `o` as the user would write it; empty when
  // there is nothing to show. --help shows it for default options.
  std::function<std::string(const agent_options&)> show;

  bool has_key() const { return !key.empty(); }
  // "limits.max_concurrent_calls", as messages name a key.
  std::string dotted() const { return std::string(section) + "." + std::string(key); }
};

// In --help order.
std::span<const setting> settings();
const setting* find_flag(std::string_view flag);
const setting* find_key(std::string_view section, std::string_view key);

// Parses `value` as a decimal number in [min, max]; throws std::invalid_argument
// with "needs a number from MIN to MAX, got 'VALUE'".
std::uint64_t parse_bounded(std::string_view value, std::uint64_t min, std::uint64_t max);

// The Options part of --help, generated from settings().
std::string options_help();

}  // namespace tether::agent
