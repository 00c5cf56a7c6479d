// RAII handles for libudev: the only place that calls *_unref.
#pragma once

#include <libudev.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace tether::agent::udev {

struct udev_deleter { void operator()(::udev* p) const { ::udev_unref(p); } };
struct monitor_deleter { void operator()(::udev_monitor* p) const { ::udev_monitor_unref(p); } };
struct device_deleter { void operator()(::udev_device* p) const { ::udev_device_unref(p); } };
struct enumerate_deleter { void operator()(::udev_enumerate* p) const { ::udev_enumerate_unref(p); } };

using context_ptr = std::unique_ptr<::udev, udev_deleter>;
using monitor_ptr = std::unique_ptr<::udev_monitor, monitor_deleter>;
using device_ptr = std::unique_ptr<::udev_device, device_deleter>;
using enumerate_ptr = std::unique_ptr<::udev_enumerate, enumerate_deleter>;

inline context_ptr make_context() {
  context_ptr c(::udev_new());
  if (!c) throw std::runtime_error("udev_new failed");
  return c;
}

inline std::string str(const char* s) { return s ? std::string(s) : std::string(); }

// Calls fn(name, value) for every entry of a libudev list (value may be "").
template <class F>
void for_each_entry(::udev_list_entry* first, F&& fn) {
  for (auto* e = first; e; e = ::udev_list_entry_get_next(e))
    fn(str(::udev_list_entry_get_name(e)), str(::udev_list_entry_get_value(e)));
}

}  // namespace tether::agent::udev
