// libvirt::find_domain / running_domains: the tether channels of running
// domains, from their live XML (libvirt_xml.cpp).
#include <cstdlib>

#include "libvirt_api.hpp"
#include "tether/libvirt.hpp"

namespace tether::libvirt {
namespace api = detail::libvirt;

namespace {

std::string uuid_of(virDomainPtr d) {
  char buf[VIR_UUID_STRING_BUFLEN] = {};
  return virDomainGetUUIDString(d, buf) == 0 ? buf : "";
}

}  // namespace

domain find_domain(const std::string& name, const std::string& uri) {
  auto conn = api::open(uri, true);
  auto d = api::lookup(conn, name, uri);
  const int active = virDomainIsActive(d.get());
  if (active < 0) throw error(errc::libvirt_failed, "libvirt domain '" + name + "': " + api::last_error());
  if (active == 0)
    throw error(errc::domain_not_running, "libvirt domain '" + name + "' is not running (virsh start " + name + ")");
  return {name, uuid_of(d.get()), channel_socket_path(api::live_xml(d.get(), name), name)};
}

std::vector<domain> running_domains(const std::string& uri) {
  auto conn = api::open(uri, true);
  virDomainPtr* list = nullptr;
  const int n = virConnectListAllDomains(conn.get(), &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) throw error(errc::libvirt_failed, "listing the domains at " + api::uri_text(uri) + ": " + api::last_error());
  std::vector<api::domain_ptr> owned;
  for (int i = 0; i < n; ++i) owned.emplace_back(list[i]);
  std::free(list);
  std::vector<domain> out;
  for (auto& d : owned) {
    const char* name = virDomainGetName(d.get());
    if (!name) continue;
    try {
      out.push_back({name, uuid_of(d.get()), channel_socket_path(api::live_xml(d.get(), name), name)});
    } catch (const error& e) {
      // Without a tether channel, or stopped since the listing: not ours.
      if (e.code() != errc::no_agent_channel && e.code() != errc::domain_not_running &&
          virDomainIsActive(d.get()) == 1)
        throw;
    }
  }
  return out;
}

// (Each job is a named local: GCC 12 destroys a temporary std::function
// made inside a co_await expression twice.)
awaitable<domain> async_find_domain(std::string name, std::string uri) {
  std::function<domain()> job = [name, uri] { return find_domain(name, uri); };
  co_return co_await api::off_loop<domain>(std::move(job));
}

awaitable<std::vector<domain>> async_running_domains(std::string uri) {
  std::function<std::vector<domain>()> job = [uri] { return running_domains(uri); };
  co_return co_await api::off_loop<std::vector<domain>>(std::move(job));
}

}  // namespace tether::libvirt
