// detail::libvirt_domain_connector: client_options::domain. Each connection
// attempt looks the domain up again (off the io_context): libvirt gives the
// channel a new socket path every time the domain starts.
#include "connection.hpp"
#include "tether/libvirt.hpp"

namespace tether::detail {

connector libvirt_domain_connector(std::string domain, std::string uri) {
  return [domain = std::move(domain), uri = std::move(uri)]() -> awaitable<std::unique_ptr<io::byte_stream>> {
    const auto found = co_await libvirt::async_find_domain(domain, uri);
    co_return co_await unix_socket_connector(found.socket_path)();
  };
}

}  // namespace tether::detail
