// A QEMU Machine Protocol (QMP) client on Asio coroutines, for hotplugging
// devices into a test guest and waiting for QEMU's events.
//
//   tether::qmp::client qemu(ctx.get_executor(), {.socket_path = dir + "/qmp.sock"});
//   co_await qemu.connect();               // greeting + qmp_capabilities
//   co_await qemu.add_disk({.id = "disk7", .image_path = img, .serial = "disk7"});
//   ... wait for the guest to see it (tether::devices::wait_for) ...
//   co_await qemu.remove_device("disk7");  // device_del + DEVICE_DELETED + blockdev-del
//
// Commands carry ids and may run concurrently; replies are matched by id.
// Asynchronous events are kept in a bounded backlog with positions, so an
// event that arrives before its waiter started is still found (take
// event_mark() before the command that causes it). All member functions
// must be called from the client's executor. Failures are tether::error:
// QMP error replies with category qmp_category() (the message carries QEMU's
// "desc" and class), connection problems with tether::errc.
//
// JSON crosses this API as text (arguments, return values, event data), so
// a program may use any JSON library (this one uses Boost.JSON inside,
// linked as a shared library, never exposed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "tether/client.hpp"
#include "tether/error.hpp"

namespace tether::qmp {

using std::chrono::milliseconds;

// QMP error classes (the "class" of an error reply).
enum class errc {
  generic_error = 1,   // GenericError: most failures
  command_not_found,   // CommandNotFound
  device_not_active,   // DeviceNotActive
  device_not_found,    // DeviceNotFound
  kvm_missing_cap,     // KVMMissingCap
  other_class,         // a class this library does not know
};
const std::error_category& qmp_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), qmp_category()}; }
// The QMP class name of an error thrown by this client ("GenericError"), or
// "" if the error did not come from a QMP error reply.
std::string error_class(const tether::error& e);

struct options {
  // QEMU's QMP socket (-qmp unix:PATH,server=on,wait=off or -chardev socket +
  // -mon mode=control).
  std::string socket_path;
  // Default time a command may take until its reply, and connect() until
  // the capabilities are negotiated (a call_options timeout of 0 means this).
  milliseconds command_timeout{10'000};
  // Largest JSON message accepted from QEMU.
  std::size_t max_message_size = 16u << 20;
  // Asynchronous events kept for waiters that start late: at most this
  // many, and at most event_backlog_bytes of their names and data (the
  // newest event is always kept), so a QEMU that sends large events holds
  // this much, not event_backlog * max_message_size.
  std::size_t event_backlog = 1024;
  std::size_t event_backlog_bytes = 16u << 20;
};

// One asynchronous QMP event.
struct event {
  std::uint64_t position = 0;  // order of arrival, from 0
  std::string name;            // "DEVICE_DELETED"
  std::string data = "{}";     // the event's "data" object, as JSON text
  // QEMU's timestamp ({"seconds":..,"microseconds":..}) in microseconds
  // since the epoch; 0 if QEMU sent none (or one out of range).
  std::int64_t timestamp_us = 0;
};

using event_predicate = std::function<bool(const event&)>;

// Disk to hotplug with add_disk().
struct disk_options {
  std::string id;          // device id (also names the block nodes)
  std::string image_path;  // image file on the host
  std::string serial;      // virtio-blk serial: the guest's ID_SERIAL
  std::string format = "raw";
  bool read_only = false;
  std::string driver = "virtio-blk-pci";
  std::string bus;         // optional: e.g. a pcie-root-port id on q35
};

class client_impl;

class client {
 public:
  client(boost::asio::any_io_executor ex, options opts);
  ~client();  // closes: waiting operations fail with tether::errc::closed
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Connects, reads QEMU's greeting and negotiates capabilities. Throws
  // tether::error (connection_failed, timeout, protocol_error).
  boost::asio::awaitable<void> connect(call_options call = {});
  // True between a successful connect() and close() or a connection failure.
  bool connected() const noexcept;
  // QEMU's greeting ({"QMP": {"version": ..., "capabilities": [...]}}), as
  // JSON text.
  const std::string& greeting() const;
  // Closes the connection; commands and event waits in progress fail.
  void close();

  // Runs a command with `arguments` (a JSON object, as text) and returns
  // its "return" value as JSON text. call.timeout 0: options.command_timeout.
  // Throws tether::error: invalid_argument (arguments not a JSON object),
  // the QMP error (qmp_category), timeout, or connection_lost.
  boost::asio::awaitable<std::string> execute(std::string_view command, std::string_view arguments = "{}",
                                              call_options call = {});

  // Position the next event will get: pass it to wait_event() to catch
  // events caused by a command issued after taking the mark.
  std::uint64_t event_mark() const noexcept;
  // Waits for an event named `name` (and accepted by `pred`, if given) at a
  // position >= `since` (default: the mark when called). call.timeout 0:
  // options.command_timeout. Throws tether::error timeout, connection_lost,
  // or limit_exceeded when events after `since` were already dropped from
  // the backlog.
  boost::asio::awaitable<event> wait_event(std::string name, event_predicate pred = {},
                                           std::optional<std::uint64_t> since = std::nullopt,
                                           call_options call = {});

  // Hotplug helpers.
  // blockdev-add of a file node and a format node, then device_add of a
  // virtio-blk-pci with the serial. Undoes what it did if a step fails.
  boost::asio::awaitable<void> add_disk(disk_options disk, call_options call = {});
  // device_del, then waits for QEMU's DEVICE_DELETED of `id` (the guest must
  // release the device: for PCI it acknowledges the unplug); for disks added
  // with add_disk() the block nodes are deleted afterwards. call.timeout
  // bounds the wait for DEVICE_DELETED (0: 60 s).
  boost::asio::awaitable<void> remove_device(std::string id, call_options call = {});

 private:
  std::shared_ptr<client_impl> impl_;
  // Block nodes of disks added by add_disk(), by device id.
  std::map<std::string, std::vector<std::string>> disk_nodes_;
};

// The same client, synchronous: each call runs an io_context of its own
// until it completes. Not thread-safe.
class blocking_client {
 public:
  explicit blocking_client(options opts);
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  void connect(call_options call = {});
  bool connected() const noexcept { return client_->connected(); }
  const std::string& greeting() const { return client_->greeting(); }
  std::string execute(std::string_view command, std::string_view arguments = "{}", call_options call = {});
  std::uint64_t event_mark() const noexcept { return client_->event_mark(); }
  event wait_event(std::string name, event_predicate pred = {}, std::optional<std::uint64_t> since = std::nullopt,
                   call_options call = {});
  void add_disk(disk_options disk, call_options call = {});
  void remove_device(std::string id, call_options call = {});
  client& async() noexcept { return *client_; }

 private:
  std::unique_ptr<boost::asio::io_context> ctx_;
  std::unique_ptr<client> client_;
};

}  // namespace tether::qmp

template <>
struct std::is_error_code_enum<tether::qmp::errc> : std::true_type {};
