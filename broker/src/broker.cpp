#include "broker.hpp"

#include "guest_hub.hpp"
#include "log.hpp"

namespace tether::broker {

broker::broker(asio::any_io_executor ex, socket_settings sockets, limits lim, activated_sockets activated)
    : ex_(std::move(ex)), sockets_(std::move(sockets)), lim_(lim), activated_(std::move(activated)) {}

broker::~broker() { stop(); }

void broker::add_guest(const std::string& name, detail::connector connect, std::string target) {
  (void)guest_socket_path(sockets_.runtime_dir, name);  // validates the name
  if (guests_.contains(name)) throw std::invalid_argument("guest '" + name + "' is already served");
  auto hub = std::make_shared<guest_hub>(ex_, name, std::move(connect), std::move(target), lim_, sockets_,
                                         activated_.take(name));
  guests_.emplace(name, hub);
  hub->start();
}

void broker::add_guest(const std::string& name, const std::string& chardev_socket) {
  add_guest(name, detail::unix_socket_connector(chardev_socket), chardev_socket);
}

bool broker::remove_guest(const std::string& name) {
  const auto it = guests_.find(name);
  if (it == guests_.end()) return false;
  it->second->stop();
  guests_.erase(it);
  log::info("guest " + name + ": no longer served");
  return true;
}

std::vector<std::string> broker::guests() const {
  std::vector<std::string> out;
  for (const auto& [name, hub] : guests_) out.push_back(name);
  return out;
}

void broker::stop() {
  for (auto& [name, hub] : guests_) hub->stop();
  guests_.clear();
}

}  // namespace tether::broker
