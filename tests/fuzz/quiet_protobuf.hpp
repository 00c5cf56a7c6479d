// Protobuf logs every string field that is not UTF-8; fuzz inputs are full
// of them, and the log would cost more than the run (codec_fuzz wrote
// megabytes of it in a minute).
#pragma once

#include <google/protobuf/stubs/logging.h>

namespace tether::fuzz {

inline void quiet_protobuf() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace tether::fuzz
