// libvirt's C API, wrapped once for libtether (internal): connections and
// domains as RAII handles, libvirt's error as tether::error, and the thread
// the blocking calls run on.
#pragma once

#include <libvirt/libvirt.h>

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "tether/common/asio.hpp"
#include "tether/error.hpp"

namespace tether::detail::libvirt {

using conn_ptr = std::shared_ptr<virConnect>;
struct domain_free {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using domain_ptr = std::unique_ptr<virDomain, domain_free>;

// "qemu:///system", or "libvirt's default URI" for an empty one.
std::string uri_text(const std::string& uri);
// libvirt's message for the calling thread's last failure.
std::string last_error();
// Opens `uri` (empty: libvirt's default). Read-only is enough for lookups and
// is open to users outside the libvirt group. Throws errc::libvirt_failed.
conn_ptr open(const std::string& uri, bool read_only);
// The domain `name`, or errc::no_such_domain / libvirt_failed.
domain_ptr lookup(const conn_ptr& conn, const std::string& name, const std::string& uri);
// The live XML of a domain.
std::string live_xml(virDomainPtr dom, const std::string& name);

// One thread for libvirt's blocking calls, off every io_context.
asio::thread_pool& blocking_pool();

template <class T>
awaitable<T> run_job(std::shared_ptr<std::function<T()>> job) {
  co_return (*job)();
}
// Runs `job` on the blocking pool; resumes on the caller's executor with its
// result or exception. Not cancellable: libvirt's calls end on their own
// (its RPC has keepalive and timeouts). Pass a named std::function, never a
// lambda made in the co_await expression: GCC 12 destroys such a temporary
// twice (a double free).
template <class T>
awaitable<T> off_loop(std::function<T()> job) {
  auto shared = std::make_shared<std::function<T()>>(std::move(job));
  co_return co_await asio::co_spawn(blocking_pool(), run_job<T>(std::move(shared)), use_awaitable);
}

}  // namespace tether::detail::libvirt
