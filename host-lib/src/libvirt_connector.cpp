// detail::libvirt_domain_connector: client_options::domain. Each connection
// attempt looks the domain up again (off the io_context): libvirt gives the
// channel a new socket path every time the domain starts.
#include "connection.hpp"
#include "tether/libvirt.hpp"

namespace tether::detail {

connector libvirt_domain_connector(std::string domain, std::string uri) {
  return [domain = std::move(domain), uri = std::move(uri)]() -> awaitable<std::unique_ptr<io::byte_stream>> {
    std::string name = domain, at = uri;  // named: no temporaries in the co_await (GCC 12)
    const auto found = co_await libvirt::async_find_domain(std::move(name), std::move(at));
    auto connect = unix_socket_connector(found.socket_path);
    co_return co_await connect();
  };
}

}  // namespace tether::detail
