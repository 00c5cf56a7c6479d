#include "sys/sd_bus.hpp"

#include <poll.h>

#include <cstring>

#include "tether/common/race.hpp"

namespace tether::agent::sys {

using namespace asio::experimental::awaitable_operators;
using stream_descriptor = asio::posix::stream_descriptor;

namespace {

[[noreturn]] void fail(const std::string& what, int r) {
  throw bus_error("", what + ": " + std::strerror(-r), -r);
}

// A failed wait on the socket ends normally (sd_bus_process then reports
// the problem); Asio's || below completes with the first branch that
// SUCCEEDS, so a failure must not leave the other direction waiting alone.
// Cancellation still throws.
awaitable<void> wait_socket(stream_descriptor& fd, stream_descriptor::wait_type w) {
  boost::system::error_code ec;
  co_await fd.async_wait(w, asio::redirect_error(use_awaitable, ec));
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
}

awaitable<void> readable_or_writable(stream_descriptor& fd) {
  co_await (wait_socket(fd, stream_descriptor::wait_write) || wait_socket(fd, stream_descriptor::wait_read));
}

}  // namespace

// --- bus_message -----------------------------------------------------------

void bus_message::check(int r, const char* what) const {
  if (r < 0) fail(std::string("cannot ") + what + " a D-Bus message", r);
}

std::string bus_message::read_string() {
  const char* s = nullptr;
  const int r = sd_bus_message_read_basic(m_.get(), 's', &s);
  if (r == 0) throw bus_error("", "D-Bus reply has fewer arguments than expected", EBADMSG);
  check(r, "read a string from");
  return s ? s : "";
}

std::string bus_message::read_object_path() {
  const char* s = nullptr;
  const int r = sd_bus_message_read_basic(m_.get(), 'o', &s);
  if (r == 0) throw bus_error("", "D-Bus reply has fewer arguments than expected", EBADMSG);
  check(r, "read an object path from");
  return s ? s : "";
}

bool bus_message::read_bool() {
  int b = 0;
  const int r = sd_bus_message_read_basic(m_.get(), 'b', &b);
  if (r == 0) throw bus_error("", "D-Bus reply has fewer arguments than expected", EBADMSG);
  check(r, "read a boolean from");
  return b != 0;
}

// --- bus -------------------------------------------------------------------

bus::bus(const asio::any_io_executor& ex, sd_bus* b) : bus_(b) {
  const int fd = sd_bus_get_fd(b);
  if (fd < 0) fail("D-Bus connection has no socket", fd);
  fd_ = std::make_unique<stream_descriptor>(ex, fd);
}

bus::bus(bus&& o) noexcept
    : bus_(std::move(o.bus_)), fd_(std::move(o.fd_)) {}

bus::~bus() {
  if (fd_) {
    boost::system::error_code ignored;
    fd_->cancel(ignored);
    fd_->release();  // sd-bus owns and closes it
  }
}

bus bus::open_system(const asio::any_io_executor& ex) {
  sd_bus* b = nullptr;
  // Starts a non-blocking connect and the authentication; both finish in
  // sd_bus_process, driven by call().
  const int r = sd_bus_open_system(&b);
  if (r < 0) fail("cannot connect to the D-Bus system bus", r);
  return bus(ex, b);
}

bus bus::open_direct(const asio::any_io_executor& ex, const std::string& address) {
  sd_bus* raw = nullptr;
  int r = sd_bus_new(&raw);
  if (r < 0) fail("cannot create a D-Bus connection", r);
  std::unique_ptr<sd_bus, close_unref> b(raw);
  r = sd_bus_set_address(b.get(), address.c_str());
  if (r < 0) fail("bad D-Bus address '" + address + "'", r);
  r = sd_bus_start(b.get());
  if (r < 0) fail("cannot connect to " + address, r);
  return bus(ex, b.release());
}

bus_message bus::new_method_call(const char* destination, const char* path, const char* interface,
                                 const char* member) {
  sd_bus_message* m = nullptr;
  const int r = sd_bus_message_new_method_call(bus_.get(), &m, destination, path, interface, member);
  if (r < 0) fail(std::string("cannot create a D-Bus call of ") + interface + "." + member, r);
  return bus_message(m);
}

awaitable<bus_message> bus::call(bus_message m, std::chrono::milliseconds timeout) {
  struct pending {
    bool done = false;
    bus_message reply;
  } p;
  auto on_reply = [](sd_bus_message* reply, void* userdata, sd_bus_error*) -> int {
    auto* st = static_cast<pending*>(userdata);
    st->reply = bus_message(sd_bus_message_ref(reply));
    st->done = true;
    return 1;
  };
  sd_bus_slot* raw_slot = nullptr;
  // sd-bus turns a missing reply into an error reply after `timeout`, and a
  // lost connection into one at once, so the callback always runs.
  const auto usec = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  const int r = sd_bus_call_async(bus_.get(), &raw_slot, m.get(), on_reply, &p, usec);
  if (r < 0) fail("cannot send a D-Bus call", r);
  // Dropping the slot (here on cancellation) cancels the pending call, so
  // the callback can never see `p` after this frame is gone.
  struct slot_unref {
    void operator()(sd_bus_slot* s) const noexcept { sd_bus_slot_unref(s); }
  };
  std::unique_ptr<sd_bus_slot, slot_unref> slot(raw_slot);
  while (!p.done) co_await step();
  slot.reset();
  if (const sd_bus_error* e = sd_bus_message_get_error(p.reply.get())) {
    throw bus_error(e->name ? e->name : "", e->message ? e->message : (e->name ? e->name : "D-Bus error"),
                    sd_bus_error_get_errno(e));
  }
  co_return std::move(p.reply);
}

awaitable<void> bus::step() {
  const int r = sd_bus_process(bus_.get(), nullptr);
  if (r < 0) fail("D-Bus connection failed", r);
  if (r > 0) co_return;  // did something; the caller re-checks, then comes back
  const int events = sd_bus_get_events(bus_.get());
  if (events < 0) fail("D-Bus connection failed", events);
  std::uint64_t until_usec = 0;
  const int t = sd_bus_get_timeout(bus_.get(), &until_usec);
  if (t < 0) fail("D-Bus connection failed", t);
  if (t > 0 && until_usec == 0) co_return;  // work to do right away
  // sd-bus reports CLOCK_MONOTONIC, which is std::chrono::steady_clock here.
  const auto deadline = t > 0 && until_usec != UINT64_MAX
                            ? deadline_clock::time_point(std::chrono::microseconds(until_usec))
                            : deadline_clock::time_point::max();
  if (events & POLLOUT)
    co_await with_deadline(readable_or_writable(*fd_), deadline);
  else
    co_await with_deadline(wait_socket(*fd_, stream_descriptor::wait_read), deadline);
}

}  // namespace tether::agent::sys
