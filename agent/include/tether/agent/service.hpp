// What a service sees of the agent: the call it serves, and the registry it
// adds its methods to. Services know nothing about transports or frames.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tether/common/asio.hpp"
#include "tether/v1/frame.pb.h"

namespace tether::agent {

// Thrown by a handler to answer its call with an error status.
class call_error : public std::runtime_error {
 public:
  call_error(v1::ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  v1::ErrorCode code() const noexcept { return code_; }

 private:
  v1::ErrorCode code_;
};

// Maps an errno value to the closest wire error code.
v1::ErrorCode error_code_from_errno(int err);

// Facts about the session a call belongs to.
struct session_info {
  std::string session_id;  // 16 raw bytes
  std::string agent_version;
  std::vector<std::string> services;  // enabled services
  std::uint32_t protocol_version = 0;
};

// One running call. Streams are numbered per method; stream bytes flow under
// credit-based flow control, so read() and write() may wait on the peer.
class call_context {
 public:
  virtual ~call_context() = default;

  virtual std::uint64_t id() const = 0;
  virtual const std::string& method() const = 0;
  virtual const std::string& payload() const = 0;
  virtual const session_info& session() const = 0;

  // Next chunk of inbound stream `stream`; nullopt once the peer closed it.
  virtual awaitable<std::optional<std::string>> read(std::uint32_t stream) = 0;
  // Sends bytes on outbound stream `stream`, waiting for credit as needed.
  virtual awaitable<void> write(std::uint32_t stream, std::string_view data) = 0;
  // As write(), but the frames refer to `data` instead of copying it:
  // `owner` keeps it alive and unchanged until they are written (or
  // dropped with the session). This default copies.
  virtual awaitable<void> write_shared(std::uint32_t stream, std::string_view data,
                                       std::shared_ptr<const void> owner) {
    co_await write(stream, data);
  }
  // Marks outbound stream `stream` finished.
  virtual void close_write(std::uint32_t stream) = 0;
  // Pushes one event; waits while the peer has granted no event credit.
  virtual awaitable<void> emit(std::string payload) = 0;
  // Pushes one event if credit allows; false otherwise (caller counts loss).
  virtual bool try_emit(std::string& payload) = 0;

  // Waits until everything this call sent so far (stream data, events) has
  // been written to the transport. False if it never will be: the session
  // ended or a new host session replaced this one.
  virtual awaitable<bool> flush() = 0;
  // Runs `fn` once the call's reply has been written to the transport
  // (true), or once it cannot be (false, as for flush()). For work that must
  // start only when the host has its answer, such as a power action. Called
  // at most once; a later call replaces an earlier `fn`.
  virtual void after_reply(std::function<void(bool written)> fn) = 0;

  // Parses the request payload as M, or fails the call with INVALID_ARGUMENT.
  template <class M>
  M request() const {
    M m;
    if (!m.ParseFromString(payload()))
      throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                       "request of " + method() + " is not a valid " + M::descriptor()->full_name());
    return m;
  }
};

// A handler returns the serialized reply or throws (call_error, system_error).
using method_handler = std::function<awaitable<std::string>(call_context&)>;

// What a call acts on, for the guest's audit log: the words of its target
// (argv, path(s), action, filter) read from the request payload. The session
// asks only when it logs the call; the log escapes and bounds the words.
using audit_summary = std::function<std::vector<std::string>(const std::string& payload)>;

// An audit_summary from a function of the parsed request M.
template <class M, class F>
audit_summary summary_of(F words) {
  return [words](const std::string& payload) -> std::vector<std::string> {
    M m;
    if (!m.ParseFromString(payload)) return {"(request not a valid " + M::descriptor()->full_name() + ")"};
    return words(m);
  };
}

class service {
 public:
  virtual ~service() = default;
  // Short name, also the method prefix: "ping" serves "ping.*".
  virtual std::string_view name() const = 0;
  virtual void add_methods(class service_registry& registry) = 0;
  // The agent is stopping: end background work (watchers, helpers, actions
  // under way) so the agent can exit. Called once, for every registered
  // service; calls still running are cancelled by their sessions.
  virtual void stop() {}
};

class service_registry {
 public:
  // Registers a service and its methods. A disabled service's methods answer
  // DISABLED_BY_CONFIG instead of UNKNOWN_METHOD.
  void add(std::shared_ptr<service> svc, bool enabled = true);
  // Registers service `name` as disabled without making it (a disabled
  // service does no work); `reason` says which setting to change and is sent
  // to the host with DISABLED_BY_CONFIG.
  void add_disabled(std::string_view name, std::string reason);
  // `summary` names the call's target in the audit log; without one the log
  // names the method alone.
  void add_method(std::string method, method_handler handler, audit_summary summary = {});

  struct lookup {
    const method_handler* handler = nullptr;
    const audit_summary* summary = nullptr;  // with handler; may hold no function
    bool disabled = false;
    std::string_view disabled_reason;  // may be empty
  };
  lookup find(std::string_view method) const;
  std::vector<std::string> enabled_services() const;
  // service::stop() of every registered service, in registration order.
  void stop_all();

 private:
  std::vector<std::shared_ptr<service>> services_;
  std::map<std::string, std::string, std::less<>> disabled_;  // "name." -> reason
  struct method_entry {
    method_handler handler;
    audit_summary summary;
  };
  std::map<std::string, method_entry, std::less<>> methods_;
};

}  // namespace tether::agent
