#include "tether/qmp.hpp"

// Boost.JSON stays inside: linked as Debian's shared library (not compiled
// from its header-only sources, which would clash with a program that links
// it too), and JSON crosses the public API as text.
#include <boost/json.hpp>

#include <deque>

#include "tether/blocking_client.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/race.hpp"

namespace tether::qmp {

namespace json = boost::json;
using clock = std::chrono::steady_clock;
using stream_protocol = asio::local::stream_protocol;

namespace {

struct class_name {
  errc code;
  const char* name;
};
constexpr class_name class_names[] = {
    {errc::generic_error, "GenericError"},
    {errc::command_not_found, "CommandNotFound"},
    {errc::device_not_active, "DeviceNotActive"},
    {errc::device_not_found, "DeviceNotFound"},
    {errc::kvm_missing_cap, "KVMMissingCap"},
};

class qmp_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether.qmp"; }
  std::string message(int ev) const override {
    for (const auto& c : class_names)
      if (static_cast<int>(c.code) == ev) return std::string("QMP ") + c.name;
    return "QMP error";
  }
};

std::string seconds_text(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

clock::time_point deadline_after(milliseconds d) {
  if (d == milliseconds::max()) return clock::time_point::max();
  return clock::now() + d;
}

// What an event held in the backlog costs, as event_backlog_bytes counts it.
std::size_t event_bytes(const event& e) { return e.name.size() + e.data.size(); }

std::optional<std::uint64_t> id_of(const json::object& msg) {
  auto it = msg.find("id");
  if (it == msg.end()) return std::nullopt;
  if (it->value().is_uint64()) return it->value().as_uint64();
  if (it->value().is_int64() && it->value().as_int64() >= 0)
    return static_cast<std::uint64_t>(it->value().as_int64());
  return std::nullopt;
}

// QMP node names and ids: a letter, then letters, digits, '-', '.', '_'.
bool valid_qemu_id(const std::string& s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

// Argument objects, built outside coroutines: GCC 12 rejects braced lists
// of string literals inside them ("array used as initializer").
json::object node_args(const std::string& node) {
  json::object o;
  o["node-name"] = node;
  return o;
}

json::object id_args(const std::string& id) {
  json::object o;
  o["id"] = id;
  return o;
}

json::object file_node_args(const std::string& node, const std::string& path, bool read_only) {
  json::object o;
  o["driver"] = "file";
  o["node-name"] = node;
  o["filename"] = path;
  o["read-only"] = read_only;
  return o;
}

json::object format_node_args(const std::string& format, const std::string& node, const std::string& file_node,
                              bool read_only) {
  json::object o;
  o["driver"] = format;
  o["node-name"] = node;
  o["file"] = file_node;
  o["read-only"] = read_only;
  return o;
}

json::object device_args(const disk_options& disk, const std::string& drive) {
  json::object o;
  o["driver"] = disk.driver;
  o["id"] = disk.id;
  o["drive"] = drive;
  if (!disk.serial.empty()) o["serial"] = disk.serial;
  if (!disk.bus.empty()) o["bus"] = disk.bus;
  return o;
}

}  // namespace

const std::error_category& qmp_category() noexcept {
  static const qmp_category_impl c;
  return c;
}

std::string error_class(const tether::error& e) {
  if (e.code().category() != qmp_category()) return {};
  for (const auto& c : class_names)
    if (static_cast<int>(c.code) == e.code().value()) return c.name;
  return "other";
}

// --- implementation ---------------------------------------------------------

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  client_impl(asio::any_io_executor ex, options o)
      : ex_(std::move(ex)), opts_(std::move(o)), sock_(ex_), changed_(ex_) {}

  struct pending {
    std::string command;
    bool done = false;
    std::optional<json::value> result;
    std::optional<tether::error> failure;
  };

  bool connected() const { return connected_; }
  const qmp::options& opts() const { return opts_; }
  const std::string& greeting() const { return greeting_; }
  std::uint64_t event_mark() const { return next_position_; }

  awaitable<void> connect(milliseconds timeout) {
    if (connected_) co_return;
    if (closed_) throw error(tether::errc::closed, "QMP client is closed");
    if (started_) throw error(tether::errc::connection_failed, "QMP connection to " + opts_.socket_path + " failed earlier; make a new client");
    started_ = true;
    if (timeout.count() <= 0) timeout = opts_.command_timeout;
    const auto deadline = deadline_after(timeout);
    boost::system::error_code ec;
    co_await sock_.async_connect(stream_protocol::endpoint(opts_.socket_path),
                                 asio::redirect_error(use_awaitable, ec));
    if (ec) {
      boost::system::error_code ignored;
      sock_.close(ignored);
      started_ = false;  // QEMU may not have created the socket yet: connect() may be retried
      throw error(tether::errc::connection_failed,
                  "cannot connect to the QMP socket " + opts_.socket_path + ": " + ec.message() +
                      " (is QEMU running with -qmp unix:" + opts_.socket_path + ",server=on,wait=off?)");
    }
    asio::co_spawn(ex_, read_loop(shared_from_this()), asio::detached);
    while (!have_greeting_) {
      if (failure_) throw *failure_;
      const bool in_time = co_await wait_until(changed_, deadline);
      if (!in_time && !have_greeting_)
        throw error(tether::errc::timeout, "QEMU sent no QMP greeting on " + opts_.socket_path + " within " +
                                               seconds_text(timeout));
    }
    connected_ = true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    co_await execute("qmp_capabilities", {}, std::max(left, milliseconds(1)));
  }

  awaitable<json::value> execute(std::string command, json::object arguments, milliseconds timeout) {
    if (failure_) throw *failure_;
    if (!connected_)
      throw error(tether::errc::connection_failed, "QMP client is not connected; call connect() first");
    if (timeout.count() <= 0) timeout = opts_.command_timeout;
    const std::uint64_t id = next_id_++;
    auto p = std::make_shared<pending>();
    p->command = command;
    pending_.emplace(id, p);
    json::object msg;
    msg["execute"] = command;
    if (!arguments.empty()) msg["arguments"] = std::move(arguments);
    msg["id"] = id;
    send(json::serialize(msg) + "\n");
    const auto deadline = deadline_after(timeout);
    while (!p->done) {
      bool in_time = false;
      try {
        in_time = co_await wait_until(changed_, deadline);
      } catch (...) {
        pending_.erase(id);  // cancelled by the caller: a late reply is dropped
        throw;
      }
      if (!in_time && !p->done) {
        pending_.erase(id);
        throw error(tether::errc::timeout,
                    "QMP command " + command + " got no reply within " + seconds_text(timeout));
      }
    }
    if (p->failure) throw *p->failure;
    co_return std::move(*p->result);
  }

  awaitable<event> wait_event(std::string name, event_predicate pred, milliseconds timeout,
                              std::optional<std::uint64_t> since) {
    std::uint64_t scan = since.value_or(next_position_);
    const auto deadline = deadline_after(timeout);
    for (;;) {
      const std::uint64_t first_held = backlog_.empty() ? next_position_ : backlog_.front().position;
      if (scan < first_held && scan < next_position_)
        throw error(tether::errc::limit_exceeded,
                    "QMP events after position " + std::to_string(scan) + " were dropped from the backlog (" +
                        std::to_string(opts_.event_backlog) + " events, " +
                        std::to_string(opts_.event_backlog_bytes) + " bytes) before " + name + " was found");
      for (const auto& e : backlog_) {
        if (e.position < scan) continue;
        if (e.name == name && (!pred || pred(e))) co_return e;
      }
      scan = std::max(scan, next_position_);
      if (failure_) throw *failure_;
      const bool in_time = co_await wait_until(changed_, deadline);
      if (!in_time && next_position_ == scan)
        throw error(tether::errc::timeout,
                    "QMP event " + name + " did not arrive within " + seconds_text(timeout));
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    fail(error(tether::errc::closed, "QMP client closed"));
  }

 private:
  void send(std::string line) {
    outq_.push_back(std::move(line));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ex_, write_loop(shared_from_this()), asio::detached);
    }
  }

  static awaitable<void> write_loop(std::shared_ptr<client_impl> self) {
    while (!self->outq_.empty() && !self->failure_) {
      std::string line = std::move(self->outq_.front());
      self->outq_.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(self->sock_, asio::buffer(line), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        self->fail(error(tether::errc::connection_lost,
                         "writing to the QMP socket " + self->opts_.socket_path + " failed: " + ec.message()));
        break;
      }
    }
    self->writing_ = false;
  }

  static awaitable<void> read_loop(std::shared_ptr<client_impl> self) {
    std::array<char, 65536> buf;
    json::stream_parser parser;
    std::size_t message_bytes = 0;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n =
          co_await self->sock_.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        self->fail(error(tether::errc::connection_lost,
                         "QMP connection to " + self->opts_.socket_path + " ended: " +
                             (ec == asio::error::eof ? std::string("QEMU closed it") : ec.message())));
        co_return;
      }
      std::string_view data(buf.data(), n);
      while (!data.empty()) {
        boost::system::error_code jec;
        const std::size_t used = parser.write_some(data.data(), data.size(), jec);
        data.remove_prefix(used);
        message_bytes += used;
        if (jec) {
          self->fail(error(tether::errc::protocol_error, "QEMU sent invalid JSON on " + self->opts_.socket_path +
                                                             ": " + jec.message()));
          co_return;
        }
        if (message_bytes > self->opts_.max_message_size) {
          self->fail(error(tether::errc::limit_exceeded,
                           "QMP message larger than " + std::to_string(self->opts_.max_message_size) + " bytes"));
          co_return;
        }
        if (!parser.done()) {
          if (used == 0) break;  // needs more input
          continue;
        }
        json::value v = parser.release();
        parser.reset();
        message_bytes = 0;
        self->handle(std::move(v));
        if (self->failure_) co_return;
      }
    }
  }

  void handle(json::value v) {
    if (!v.is_object()) {
      fail(error(tether::errc::protocol_error, "QEMU sent a QMP message that is not a JSON object"));
      return;
    }
    auto& msg = v.as_object();
    if (auto it = msg.find("QMP"); it != msg.end()) {
      greeting_ = json::serialize(msg);
      have_greeting_ = true;
    } else if (auto ev = msg.find("event"); ev != msg.end()) {
      if (!ev->value().is_string()) return;
      event e;
      e.position = next_position_++;
      e.name = std::string(ev->value().as_string());
      if (auto d = msg.find("data"); d != msg.end() && d->value().is_object()) e.data = json::serialize(d->value());
      if (auto t = msg.find("timestamp"); t != msg.end() && t->value().is_object()) {
        const auto& ts = t->value().as_object();
        const auto* sec = ts.if_contains("seconds");
        const auto* usec = ts.if_contains("microseconds");
        // A timestamp out of range (QEMU's are seconds since 1970) stays 0
        // rather than overflowing.
        std::int64_t us = 0;
        if (sec && sec->is_int64() && usec && usec->is_int64() &&
            !__builtin_mul_overflow(sec->as_int64(), 1'000'000, &us) &&
            !__builtin_add_overflow(us, usec->as_int64(), &us))
          e.timestamp_us = us;
      }
      backlog_bytes_ += event_bytes(e);
      backlog_.push_back(std::move(e));
      while (backlog_.size() > opts_.event_backlog ||
             (backlog_bytes_ > opts_.event_backlog_bytes && backlog_.size() > 1)) {
        backlog_bytes_ -= event_bytes(backlog_.front());
        backlog_.pop_front();
      }
    } else if (msg.contains("return") || msg.contains("error")) {
      auto id = id_of(msg);
      // QEMU answers in order; a reply without id (it could not parse ours)
      // belongs to the oldest command.
      auto pit = id ? pending_.find(*id) : pending_.begin();
      if (pit == pending_.end()) return;  // late reply of a timed-out command
      auto p = pit->second;
      pending_.erase(pit);
      p->done = true;
      if (auto r = msg.find("return"); r != msg.end()) {
        p->result = r->value();
      } else {
        p->failure = qmp_failure(p->command, msg.at("error"));
      }
    } else {
      return;  // unknown message kind: ignore (forward compatibility)
    }
    changed_.notify_all();
  }

  static tether::error qmp_failure(const std::string& command, const json::value& err) {
    std::string cls = "GenericError", desc = "(no description)";
    if (err.is_object()) {
      const auto& o = err.as_object();
      if (auto c = o.find("class"); c != o.end() && c->value().is_string()) cls = std::string(c->value().as_string());
      if (auto d = o.find("desc"); d != o.end() && d->value().is_string()) desc = std::string(d->value().as_string());
    }
    errc code = errc::other_class;
    for (const auto& c : class_names)
      if (cls == c.name) code = c.code;
    return error(make_error_code(code), "QMP " + command + " failed: " + desc + " [" + cls + "]");
  }

  void fail(tether::error e) {
    if (!failure_) failure_ = std::move(e);
    connected_ = false;
    boost::system::error_code ec;
    sock_.close(ec);
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) {
      p->done = true;
      p->failure = *failure_;
    }
    changed_.notify_all();
  }

  asio::any_io_executor ex_;
  options opts_;
  stream_protocol::socket sock_;
  async_event changed_;  // greeting, reply, event or failure arrived
  bool started_ = false;
  bool connected_ = false;
  bool closed_ = false;
  bool have_greeting_ = false;
  std::optional<tether::error> failure_;
  std::string greeting_;
  std::map<std::uint64_t, std::shared_ptr<pending>> pending_;
  std::uint64_t next_id_ = 1;
  std::deque<event> backlog_;
  std::size_t backlog_bytes_ = 0;  // event_bytes() of the backlog's events
  std::uint64_t next_position_ = 0;
  std::deque<std::string> outq_;
  bool writing_ = false;
};

// --- client -------------------------------------------------------------------

client::client(asio::any_io_executor ex, options opts)
    : impl_(std::make_shared<client_impl>(std::move(ex), std::move(opts))) {}

client::~client() { impl_->close(); }

awaitable<void> client::connect(call_options call) { co_await impl_->connect(call.timeout); }
bool client::connected() const noexcept { return impl_->connected(); }
const std::string& client::greeting() const { return impl_->greeting(); }
void client::close() { impl_->close(); }
std::uint64_t client::event_mark() const noexcept { return impl_->event_mark(); }

awaitable<std::string> client::execute(std::string_view command, std::string_view arguments, call_options call) {
  boost::system::error_code ec;
  auto args = json::parse(arguments, ec);
  if (ec || !args.is_object())
    throw error(tether::errc::invalid_argument,
                "QMP command " + std::string(command) + ": arguments must be a JSON object, got '" +
                    std::string(arguments.substr(0, 200)) + "'");
  auto result = co_await impl_->execute(std::string(command), std::move(args.as_object()), call.timeout);
  co_return json::serialize(result);
}

awaitable<event> client::wait_event(std::string name, event_predicate pred, std::optional<std::uint64_t> since,
                                    call_options call) {
  const auto timeout = call.timeout.count() > 0 ? call.timeout : impl_->opts().command_timeout;
  co_return co_await impl_->wait_event(std::move(name), std::move(pred), timeout, since);
}

awaitable<void> client::add_disk(disk_options disk, call_options call) {
  // Node names are limited to 31 characters by QEMU.
  if (!valid_qemu_id(disk.id, 26))
    throw error(tether::errc::invalid_argument,
                "disk id '" + disk.id + "' must start with a letter, use letters, digits, '-', '.', '_' "
                "and have at most 26 characters");
  if (disk.image_path.empty()) throw error(tether::errc::invalid_argument, "add_disk: no image path");
  const std::string file_node = disk.id + "-file";
  const std::string format_node = disk.id + "-fmt";

  co_await impl_->execute("blockdev-add", file_node_args(file_node, disk.image_path, disk.read_only), call.timeout);
  std::exception_ptr failure;
  bool format_added = false;
  try {
    co_await impl_->execute("blockdev-add", format_node_args(disk.format, format_node, file_node, disk.read_only),
                            call.timeout);
    format_added = true;
    co_await impl_->execute("device_add", device_args(disk, format_node), call.timeout);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // Undo, best effort (co_await is not allowed inside the catch handler).
    std::vector<std::string> undo;
    if (format_added) undo.push_back(format_node);
    undo.push_back(file_node);
    for (const auto& node : undo) {
      try {
        co_await impl_->execute("blockdev-del", node_args(node), call.timeout);
      } catch (const std::exception&) {
      }
    }
    std::rethrow_exception(failure);
  }
  disk_nodes_[disk.id] = {format_node, file_node};
}

awaitable<void> client::remove_device(std::string id, call_options call) {
  const auto timeout = call.timeout.count() > 0 ? call.timeout : milliseconds(60'000);
  // The mark first: DEVICE_DELETED may arrive before device_del's reply.
  const auto mark = event_mark();
  co_await impl_->execute("device_del", id_args(id), milliseconds(0));
  co_await impl_->wait_event(
      "DEVICE_DELETED",
      [&id](const event& e) {
        boost::system::error_code ec;
        const auto data = json::parse(e.data, ec);
        const auto* device = !ec && data.is_object() ? data.as_object().if_contains("device") : nullptr;
        return device && device->is_string() && device->as_string() == id;
      },
      timeout, mark);
  if (auto it = disk_nodes_.find(id); it != disk_nodes_.end()) {
    const auto nodes = it->second;
    disk_nodes_.erase(it);
    for (const auto& node : nodes) co_await impl_->execute("blockdev-del", node_args(node), milliseconds(0));
  }
}

// --- blocking_client ---

blocking_client::blocking_client(options opts)
    : ctx_(std::make_unique<asio::io_context>(1)), client_(std::make_unique<client>(ctx_->get_executor(), std::move(opts))) {}

blocking_client::~blocking_client() {
  client_->close();
  ctx_->restart();
  ctx_->poll();
}

void blocking_client::connect(call_options call) { tether::detail::run_blocking(*ctx_, client_->connect(call)); }

std::string blocking_client::execute(std::string_view command, std::string_view arguments, call_options call) {
  return tether::detail::run_blocking(*ctx_, client_->execute(command, arguments, call));
}

event blocking_client::wait_event(std::string name, event_predicate pred, std::optional<std::uint64_t> since,
                                  call_options call) {
  return tether::detail::run_blocking(*ctx_, client_->wait_event(std::move(name), std::move(pred), since, call));
}

void blocking_client::add_disk(disk_options disk, call_options call) {
  tether::detail::run_blocking(*ctx_, client_->add_disk(std::move(disk), call));
}

void blocking_client::remove_device(std::string id, call_options call) {
  tether::detail::run_blocking(*ctx_, client_->remove_device(std::move(id), call));
}

}  // namespace tether::qmp
