// Test-only fault injection for transfers: proves in a real guest that each
// checksum detects a corrupted byte. When the agent's environment has
// TETHER_TEST_CORRUPT_BYTE=N (the VM tests set it on the guest's kernel
// command line, which hands it to init), the agent flips byte N of every
// transfer: after hashing it on a download (the host receives a byte the
// agent's digest does not cover), before hashing it on an upload (the agent
// keeps a byte the host's digest does not cover). Never set it elsewhere;
// it is no setting of agent.conf and has no flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tether::agent::files {

// N, read once from the environment; nullopt (the normal case) if unset.
std::optional<std::uint64_t> test_corrupt_byte();

// Flips the byte at transfer offset N in `chunk`, which starts at transfer
// offset `at`, if N is set and falls inside it. True if it flipped one.
bool test_corrupt(std::string& chunk, std::uint64_t at);

}  // namespace tether::agent::files
