// Random bytes from the kernel (session ids, Hello nonces).
#pragma once

#include <cstddef>
#include <string>

namespace tether {

// `n` bytes from getrandom(2). Retries only on EINTR; any other failure
// throws std::system_error (never spins, never returns weak bytes).
std::string random_bytes(std::size_t n);

}  // namespace tether
