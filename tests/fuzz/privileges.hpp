// A root fuzzer that drives the agent drops to uid/gid 65534 before any
// input, so even a bug in the policy cannot touch the machine.
#pragma once

#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "check.hpp"

namespace tether::fuzz {

inline constexpr uid_t nobody = 65534;

inline void drop_privileges() {
  if (::geteuid() != 0) return;
  check(::setgroups(0, nullptr) == 0 && ::setresgid(nobody, nobody, nobody) == 0 &&
            ::setresuid(nobody, nobody, nobody) == 0,
        "drop root privileges");
  check(::setuid(0) != 0, "root privileges are gone");
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // LeakSanitizer attaches to its own threads
}

}  // namespace tether::fuzz
