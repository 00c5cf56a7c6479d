// tether._tether.Process: a command started in the guest whose output a
// pump on the loop thread moves, as it arrives, into a queue that Python
// threads read (or straight to a file descriptor, or nowhere), under flow
// control: the pump stops reading once `queue_limit` bytes wait unread, so
// a command producing more than anyone reads blocks in the guest, as with
// subprocess's pipes. Backs tether.Popen.
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_process(pybind11::module_& m);

}  // namespace tether::py
