#include "libvirt_api.hpp"

#include <libvirt/virterror.h>

#include <cstdlib>
#include <mutex>

namespace tether::detail::libvirt {
namespace {

// libvirt prints every error to stderr unless a handler is set; the library
// reports errors by throwing and never logs, so the handler drops them (the
// message stays available through virGetLastErrorMessage).
void quiet(void*, virErrorPtr) {}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { virSetErrorFunc(nullptr, quiet); });
}

}  // namespace

std::string uri_text(const std::string& uri) { return uri.empty() ? "libvirt's default URI" : uri; }

std::string last_error() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "unknown libvirt error";
}

conn_ptr open(const std::string& uri, bool read_only) {
  init_once();
  const char* u = uri.empty() ? nullptr : uri.c_str();
  virConnectPtr c = read_only ? virConnectOpenReadOnly(u) : virConnectOpen(u);
  if (!c)
    throw error(errc::libvirt_failed, "cannot connect to libvirt at " + uri_text(uri) + ": " + last_error() +
                                          " (is libvirtd running? another URI: --connect)");
  return conn_ptr(c, [](virConnectPtr p) { virConnectClose(p); });
}

domain_ptr lookup(const conn_ptr& conn, const std::string& name, const std::string& uri) {
  virDomainPtr d = virDomainLookupByName(conn.get(), name.c_str());
  if (d) return domain_ptr(d);
  if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
    throw error(errc::no_such_domain, "no libvirt domain named '" + name + "' at " + uri_text(uri) +
                                          " ('virsh list --all' lists them)");
  throw error(errc::libvirt_failed, "looking up libvirt domain '" + name + "': " + last_error());
}

std::string live_xml(virDomainPtr dom, const std::string& name) {
  char* xml = virDomainGetXMLDesc(dom, 0);
  if (!xml) throw error(errc::libvirt_failed, "reading the XML of libvirt domain '" + name + "': " + last_error());
  std::string out(xml);
  std::free(xml);
  return out;
}

asio::thread_pool& blocking_pool() {
  static asio::thread_pool pool(2);
  return pool;
}

}  // namespace tether::detail::libvirt
