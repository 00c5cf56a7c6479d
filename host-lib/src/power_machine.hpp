// What runs a guest, for power::shutdown_all: it tells when the guest is
// off and presses the power button when the agent does not power it off.
// QEMU through QMP (power_shutdown_all.cpp), or libvirt (power_libvirt.cpp).
// Internal to libtether.
#pragma once

#include <memory>
#include <string>

#include "power_follow.hpp"
#include "tether/common/asio.hpp"
#include "tether/power.hpp"

namespace tether::power::detail {

class machine {
 public:
  virtual ~machine() = default;
  // Completes when the guest is off (end down), or at the deadline.
  virtual awaitable<follow_result> down(clock::time_point deadline) = 0;
  // The fallback: an ACPI power button press, or libvirt's shutdown. Throws
  // tether::error.
  virtual awaitable<void> press_power_button() = 0;
  // How the fallback reads in a result line, and how it is counted.
  virtual std::string button_text() const = 0;
  virtual guest_result::how button_how() const = 0;
};

// libvirt's domain `g.domain` at `g.libvirt_uri`: virDomainShutdown, and
// libvirt's domain state for "off". Never null.
std::unique_ptr<machine> libvirt_machine(const guest_config& g);

}  // namespace tether::power::detail
