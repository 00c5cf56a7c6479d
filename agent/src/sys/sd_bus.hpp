// A small RAII wrapper over libsystemd's sd-bus, driven by the agent's
// io_context (the shape of sdbusplus' asio connection): while a call waits
// for its reply, the caller's coroutine waits on the bus socket with
// stream_descriptor::async_wait and on a timer set from sd_bus_get_timeout,
// and runs sd_bus_process when either fires.
//
// Why not sd_bus_call on the blocking_worker: a blocking call holds a thread
// for as long as the peer takes (logind can be slow while the system is busy
// shutting down), cannot be cancelled when the host cancels the call, and
// would need the bus object to move between threads. Driven from the loop,
// a call costs no thread, honours the call's cancellation (the pending call
// is dropped with its slot) and never blocks the loop: sd-bus sockets are
// non-blocking and sd_bus_open_system only starts the connection.
//
// A bus serves one call at a time (the power service needs no more); the
// connection closes with the object.
#pragma once

#include <systemd/sd-bus.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "tether/common/asio.hpp"

namespace tether::agent::sys {

// An error reply of the peer (name set, e.g.
// "org.freedesktop.DBus.Error.ServiceUnknown"), or a failure of sd-bus or of
// the connection (name empty).
class bus_error : public std::runtime_error {
 public:
  bus_error(std::string name, const std::string& message, int err)
      : std::runtime_error(message), name_(std::move(name)), errno_(err) {}
  const std::string& name() const noexcept { return name_; }
  int error_number() const noexcept { return errno_; }

 private:
  std::string name_;
  int errno_;
};

class bus_message {
 public:
  bus_message() = default;
  // Takes over one reference.
  explicit bus_message(sd_bus_message* m) : m_(m) {}
  sd_bus_message* get() const noexcept { return m_.get(); }
  explicit operator bool() const noexcept { return m_ != nullptr; }

  // sd_bus_message_append: `types` is a D-Bus signature, e.g. "ss".
  template <class... Args>
  void append(const char* types, Args... args) {
    check(sd_bus_message_append(m_.get(), types, args...), "append arguments to");
  }
  // Reads the next argument of a basic type ('s', 'o', 'b').
  std::string read_string();
  std::string read_object_path();
  bool read_bool();

 private:
  void check(int r, const char* what) const;
  struct unref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
  };
  std::unique_ptr<sd_bus_message, unref> m_;
};

class bus {
 public:
  // The system bus: $DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket.
  // Throws bus_error when the socket cannot be connected.
  static bus open_system(const asio::any_io_executor& ex);
  // A direct connection to one peer (no bus daemon), e.g. systemd's own
  // "unix:path=/run/systemd/private" (root only).
  static bus open_direct(const asio::any_io_executor& ex, const std::string& address);

  bus(bus&&) noexcept;
  bus& operator=(bus&&) = delete;
  ~bus();

  bus_message new_method_call(const char* destination, const char* path, const char* interface,
                              const char* member);
  // Sends `m` and waits for its reply. Throws bus_error for an error reply,
  // a timeout (org.freedesktop.DBus.Error.Timeout) or a lost connection;
  // operation_aborted if the waiting coroutine is cancelled (the call is
  // then forgotten).
  awaitable<bus_message> call(bus_message m, std::chrono::milliseconds timeout);

 private:
  struct close_unref {
    // No flush: every call waits for its reply, so nothing is left to send,
    // and a flush could block on a peer that stopped reading.
    void operator()(sd_bus* b) const noexcept { sd_bus_close_unref(b); }
  };
  bus(const asio::any_io_executor& ex, sd_bus* b);
  // Processes what is pending; if nothing was, waits for the socket or the
  // bus's next timeout.
  awaitable<void> step();

  std::unique_ptr<sd_bus, close_unref> bus_;
  // Not owned: sd-bus closes the descriptor (released before that).
  std::unique_ptr<asio::posix::stream_descriptor> fd_;
};

}  // namespace tether::agent::sys
