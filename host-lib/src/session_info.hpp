// Conversion of the handshake's Hello into the public hello_info.
#pragma once

#include "tether/client.hpp"
#include "tether/v1/frame.pb.h"

namespace tether::detail {

hello_info to_hello_info(const v1::Hello& h);

}  // namespace tether::detail
