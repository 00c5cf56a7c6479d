#include "audit/journal_sink.hpp"

#define SD_JOURNAL_SUPPRESS_LOCATION  // the call site is this file: no use to anyone
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <cstdlib>

namespace tether::agent::audit {
namespace {

// JOURNAL_STREAM names the device and inode of the stream systemd connected
// to stderr; it only counts if stderr still is that stream (sd-daemon(3)).
bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (!env) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st{};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void to_journal(const line& l) {
  std::vector<std::string> items = {"MESSAGE=" + l.message,
                                    "PRIORITY=" + std::to_string(static_cast<int>(l.priority)),
                                    "SYSLOG_IDENTIFIER=tether-agent", std::string("MESSAGE_ID=") + message_id};
  for (const auto& [key, value] : l.fields) items.push_back(key + "=" + value);
  std::vector<iovec> iov;
  for (auto& s : items) iov.push_back({s.data(), s.size()});
  // Failing to reach journald must not fail the call; say so on stderr.
  if (const int r = ::sd_journal_sendv(iov.data(), static_cast<int>(iov.size())); r < 0)
    log::write(l.priority, l.message + " [not in the journal: " + std::strerror(-r) + "]");
}

}  // namespace

audit_log::sink journal_or_stderr() {
  if (stderr_is_journal()) return to_journal;
  return [](const line& l) { log::write(l.priority, l.message); };
}

}  // namespace tether::agent::audit
