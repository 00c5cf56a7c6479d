// Who is on the other end of a local socket (SO_PEERCRED), for the log:
// the kernel's record of the client's pid, uid and gid at connect time.
#pragma once

#include <sys/types.h>

#include <string>

namespace tether::broker {

struct peer_cred {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  bool known = false;
};

peer_cred peer_cred_of(int fd);
// "pid 1234 uid 1000 gid 1000" (or "credentials unknown").
std::string describe(const peer_cred& c);

}  // namespace tether::broker
