// power::shutdown_all for libvirt domains: the domains to power off
// (libvirt_guests), and libvirt as the machine that runs them: its domain
// state says when a domain is off, its own shutdown is the fallback.
#include "libvirt_api.hpp"
#include "power_machine.hpp"
#include "tether/libvirt.hpp"

namespace tether::power {
namespace api = tether::detail::libvirt;

namespace detail {
namespace {

// How often libvirt's domain state is read while waiting for "off": libvirt
// has lifecycle events, but they need a process-wide event loop
// (virEventRegisterImpl), which a library must not impose on its program.
constexpr auto state_interval = 200ms;

class libvirt_machine_impl final : public machine {
 public:
  explicit libvirt_machine_impl(const guest_config& g) : name_(g.domain), uri_(g.libvirt_uri) {}

  awaitable<follow_result> down(clock::time_point deadline) override {
    follow_result out;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    try {
      for (;;) {
        if (co_await off()) {
          out.end = follow_end::down;
          break;
        }
        if (clock::now() >= deadline) {
          out.end = follow_end::timed_out;
          out.message = "libvirt domain '" + name_ + "' was not shut off by the deadline";
          break;
        }
        pause.expires_after(std::min<clock::duration>(state_interval, deadline - clock::now()));
        co_await pause.async_wait(use_awaitable);
      }
    } catch (const error& e) {
      out.end = follow_end::failed;
      out.message = e.what();
    }
    co_return out;
  }

  awaitable<void> press_power_button() override {
    auto conn = co_await connection();
    std::function<int()> job = [conn, name = name_, uri = uri_] {
      auto d = api::lookup(conn, name, uri);
      if (virDomainIsActive(d.get()) == 0) return 0;  // already off
      if (virDomainShutdown(d.get()) < 0)
        throw error(errc::libvirt_failed, "libvirt's shutdown of domain '" + name + "': " + api::last_error());
      return 0;
    };
    co_await api::off_loop<int>(std::move(job));
  }

  std::string button_text() const override { return "libvirt's shutdown (virDomainShutdown)"; }
  guest_result::how button_how() const override { return guest_result::how::libvirt; }

 private:
  // One read-write connection for the guest's calls, opened off the loop.
  awaitable<api::conn_ptr> connection() {
    if (!conn_) {
      std::function<api::conn_ptr()> job = [uri = uri_] { return api::open(uri, false); };
      conn_ = co_await api::off_loop<api::conn_ptr>(std::move(job));
    }
    co_return conn_;
  }

  // Shut off, or gone (a transient domain ends with its QEMU).
  awaitable<bool> off() {
    auto conn = co_await connection();
    std::function<bool()> job = [conn, name = name_, uri = uri_] {
      api::domain_ptr d;
      try {
        d = api::lookup(conn, name, uri);
      } catch (const error& e) {
        if (e.code() == errc::no_such_domain) return true;
        throw;
      }
      const int active = virDomainIsActive(d.get());
      if (active < 0) throw error(errc::libvirt_failed, "libvirt domain '" + name + "': " + api::last_error());
      return active == 0;
    };
    co_return co_await api::off_loop<bool>(std::move(job));
  }

  std::string name_, uri_;
  api::conn_ptr conn_;
};

}  // namespace

std::unique_ptr<machine> libvirt_machine(const guest_config& g) {
  return std::make_unique<libvirt_machine_impl>(g);
}

}  // namespace detail

awaitable<std::vector<guest_config>> libvirt_guests(std::string uri) {
  std::vector<guest_config> out;
  for (auto& d : co_await libvirt::async_running_domains(uri)) {
    guest_config g;
    g.name = d.name;
    g.socket = d.socket_path;
    g.domain = d.name;
    g.libvirt_uri = uri;
    g.file = "libvirt domain " + d.name;
    out.push_back(std::move(g));
  }
  co_return out;
}

}  // namespace tether::power
