// tether._tether's statistics: the sample as read-only classes with the
// library's field names (Stats*), Client.stats / stats_subscribe and the
// StatsStream they open (tether/guest.py's stats() and stats_stream()).
#pragma once

#include <pybind11/pybind11.h>

namespace tether::py {

void bind_stats(pybind11::module_& m);

}  // namespace tether::py
