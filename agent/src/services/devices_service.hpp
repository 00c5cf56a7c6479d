// Service "devices": devices.List, devices.Wait and devices.Subscribe over
// the agent's shared udev monitor (devices/device_hub.hpp).
#pragma once

#include <memory>

#include "devices/device_hub.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent {

class devices_service final : public service {
 public:
  // Starts listening to udev at once when udevd runs, so that the replay
  // ring covers the agent's whole life.
  devices_service(asio::any_io_executor ex, devices::hub_options options);
  ~devices_service() override;

  std::string_view name() const override { return "devices"; }
  void add_methods(service_registry& registry) override;
  // Ends the monitor at agent shutdown; running calls fail with UNAVAILABLE.
  void stop() override;

 private:
  std::shared_ptr<devices::device_hub> hub_;
};

}  // namespace tether::agent
