// Where audit lines go: to the journal with their structured fields when
// stderr is connected to journald (as under the systemd unit), else to
// stderr the way log.hpp writes ("tether-agent: info: audit: ...").
#pragma once

#include "audit/audit_log.hpp"

namespace tether::agent::audit {

// MESSAGE_ID of every audit line: journalctl MESSAGE_ID=... lists them all.
inline constexpr const char* message_id = "5b1f3c0e9a7d4e6b8c2a1f0d3e4b5a69";

audit_log::sink journal_or_stderr();

}  // namespace tether::agent::audit
