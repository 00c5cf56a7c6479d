// What a sanitizer build changes for tests.
#pragma once

namespace tether::test {

// Under AddressSanitizer freed memory waits in ASan's quarantine (256 MiB by
// default) and every allocation carries redzones, so RSS and VmHWM measure
// ASan, not tether: memory bounds are asserted in the release build, where
// the figures mean something; the ASan pass still checks every outcome.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool memory_figures_mean_something = false;
#else
inline constexpr bool memory_figures_mean_something = true;
#endif

}  // namespace tether::test
