#include "route_connector.hpp"

#include <cstring>

#include "client_impl.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/forward.pb.h"

namespace tether::detail {
namespace {

// e.what() without the ": <code's message>" system_error appends: a wrapped
// error of the same code would repeat it.
std::string bare(const error& e) {
  std::string w = e.what();
  const std::string tail = ": " + e.code().message();
  if (w.size() > tail.size() && w.ends_with(tail)) w.resize(w.size() - tail.size());
  return w;
}

// A forward.Open call as a byte stream: stream 0 out, stream 1 in.
class route_stream final : public io::byte_stream {
 public:
  route_stream(std::shared_ptr<client_impl> hop, std::shared_ptr<pending_call> call, std::string hop_name,
               std::string path)
      : hop_(std::move(hop)), call_(std::move(call)), hop_name_(std::move(hop_name)), path_(std::move(path)) {}
  ~route_stream() override { close(); }

  awaitable<std::size_t> read_some(std::span<std::uint8_t> into) override {
    while (at_ == pending_.size()) {
      std::optional<call_stream::chunk> ch;
      try {
        ch = co_await hop_->next(*call_);
      } catch (const error& e) {
        throw broken(e);
      }
      if (!ch) {
        try {
          co_await hop_->finish(*call_);
        } catch (const error& e) {
          throw broken(e);
        }
        throw closed();
      }
      if (ch->what == call_stream::chunk::kind::eof) throw closed();
      if (ch->what != call_stream::chunk::kind::data || ch->stream != 1) continue;
      pending_ = std::move(ch->bytes);
      at_ = 0;
    }
    const auto n = std::min(into.size(), pending_.size() - at_);
    std::memcpy(into.data(), pending_.data() + at_, n);
    at_ += n;
    co_return n;
  }

  awaitable<void> write_all(std::span<const asio::const_buffer> bufs) override {
    for (const auto& b : bufs) {
      try {
        co_await hop_->write(*call_, 0, std::string_view(static_cast<const char*>(b.data()), b.size()));
      } catch (const error& e) {
        throw broken(e);
      }
    }
  }

  void close() override { hop_->abandon(*call_, errc::cancelled, "route to " + path_ + " closed"); }

  std::string describe() const override { return path_ + " via " + hop_name_; }

 private:
  error broken(const error& e) const {
    return error(e.code().category() == category() && e.code() != errc::cancelled ? e.code()
                                                                                  : make_error_code(errc::connection_lost),
                 "route through " + hop_name_ + " to " + path_ + " broke: " + bare(e));
  }
  error closed() const {
    return error(errc::connection_lost,
                 path_ + " closed inside the guest of " + hop_name_ + " (the agent behind it went away)");
  }

  std::shared_ptr<client_impl> hop_;
  std::shared_ptr<pending_call> call_;
  std::string hop_name_, path_;
  std::string pending_;
  std::size_t at_ = 0;
};

}  // namespace

connector route_connector(std::shared_ptr<client_impl> hop, std::string hop_name, std::string socket_path) {
  return [hop = std::move(hop), hop_name = std::move(hop_name),
          path = std::move(socket_path)]() -> awaitable<std::unique_ptr<io::byte_stream>> {
    const auto limit = hop->options().handshake_timeout;
    try {
      co_await hop->wait_connected(clock::now() + limit);
    } catch (const error& e) {
      throw error(e.code(), "cannot reach " + hop_name + ": " + bare(e));
    }
    v1::ForwardRequest req;
    req.set_socket_path(path);
    std::shared_ptr<pending_call> call;
    std::optional<std::optional<call_stream::chunk>> first;
    try {
      // The route lives as long as the connection over it: no deadline.
      call = co_await hop->start("forward.Open", req.SerializeAsString(), {.timeout = milliseconds::max()});
      // The agent says when the socket is open; until then, a refusal ends the call.
      first = co_await with_timeout(hop->next(*call), limit);
      if (first && !*first) co_await hop->finish(*call);
    } catch (const error& e) {
      throw error(e.code(), hop_name + " cannot open " + path + ": " + bare(e));
    }
    if (!first) {
      hop->abandon(*call, errc::timeout, "forward.Open timed out");
      throw error(errc::timeout, hop_name + " did not open " + path + " within " + std::to_string(limit.count()) + " ms");
    }
    if (!*first || (*first)->what != call_stream::chunk::kind::event) {
      hop->abandon(*call, errc::protocol_error, "forward.Open did not start with its event");
      throw error(errc::protocol_error, hop_name + " answered forward.Open to " + path + " without opening it");
    }
    co_return std::make_unique<route_stream>(hop, std::move(call), hop_name, path);
  };
}

std::shared_ptr<client_impl> make_routed_client(asio::any_io_executor ex, const client_options& opts,
                                                std::vector<std::shared_ptr<client_impl>>& hops) {
  hops.clear();
  std::shared_ptr<client_impl> prev;
  std::string prev_name;
  auto next_client = [&](const std::string& path) {
    client_options o = opts;
    o.via.clear();
    o.socket_path = path;
    return prev ? std::make_shared<client_impl>(ex, std::move(o), route_connector(prev, prev_name, path))
                : std::make_shared<client_impl>(ex, std::move(o));
  };
  for (std::size_t i = 0; i < opts.via.size(); ++i) {
    prev = next_client(opts.via[i]);
    prev_name = "hop " + std::to_string(i + 1) + " (the agent at " + opts.via[i] + ")";
    hops.push_back(prev);
  }
  if (!prev) return std::make_shared<client_impl>(std::move(ex), opts);
  return std::make_shared<client_impl>(std::move(ex), opts, route_connector(prev, prev_name, opts.socket_path));
}

}  // namespace tether::detail
