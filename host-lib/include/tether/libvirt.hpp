// libvirt domains by name: the agent's socket of a running domain, found in
// the domain's live XML through libvirt's own API (the unix channel whose
// target is org.tether.agent.0; libvirt generates its path when the domain
// starts). Add this to the domain's <devices>:
//
//   <channel type='unix'>
//     <target type='virtio' name='org.tether.agent.0'/>
//   </channel>
//
// Most programs need only client_options::domain (client.hpp), which looks
// the domain up again at every reconnect (its socket path changes each time
// the domain starts). Failures are tether::error with errc::libvirt_failed,
// no_such_domain, domain_not_running or no_agent_channel.
//
// libvirt's API blocks (it is an RPC to libvirtd): the plain functions here
// must not run on an event loop; the awaitable forms run them on a thread
// of their own and resume on the caller's executor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace tether::libvirt {

// The virtio-serial port name tether-agent opens in the guest.
inline constexpr std::string_view channel_name = "org.tether.agent.0";

// A running domain with a tether channel.
struct domain {
  std::string name;
  std::string uuid;         // libvirt's UUID, as text
  std::string socket_path;  // the channel's unix socket (QEMU chardev)
};

// The running domain `name` on `uri` (empty: libvirt's default URI, as virsh
// without -c: $LIBVIRT_DEFAULT_URI, then qemu:///system for root). Blocking.
domain find_domain(const std::string& name, const std::string& uri = {});
boost::asio::awaitable<domain> async_find_domain(std::string name, std::string uri = {});

// Every running domain on `uri` with a tether channel (others are skipped).
// Blocking.
std::vector<domain> running_domains(const std::string& uri = {});
boost::asio::awaitable<std::vector<domain>> async_running_domains(std::string uri = {});

// The tether channel's socket path in a domain's XML (`domain_name` only for
// messages). Throws tether::error: no_agent_channel when the XML has no such
// channel (or one that is not a unix socket), domain_not_running when the
// channel has no path yet (inactive XML), libvirt_failed for XML that does not
// parse.
std::string channel_socket_path(std::string_view domain_xml, std::string_view domain_name);

}  // namespace tether::libvirt
