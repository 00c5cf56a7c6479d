#include "client_link.hpp"

#include "guest_hub.hpp"
#include "log.hpp"
#include "tether/common/frame_reader.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"

namespace tether::broker {
namespace {

// A remapped call id may take more varint bytes than the client's: the
// frames a client may send are this much smaller than the agent's limit.
constexpr std::uint32_t remap_margin = 16;
// Control frames (answers) queued toward a client before its reads pause.
constexpr std::size_t max_queued_control = 1u << 20;
// The agent takes at most this as a stream window (session.cpp).
constexpr std::uint32_t max_window = 64u << 20;

// The largest frame a client may send: what the agent and the broker's own
// reader take, less the remapping margin.
std::uint32_t client_frame_limit(const v1::Hello& guest, std::uint32_t broker_limit) {
  const auto m = std::min(guest.max_frame_size() ? guest.max_frame_size() : wire::default_max_frame_size, broker_limit);
  return m > 2 * remap_margin ? m - remap_margin : m;
}

}  // namespace

client_link::client_link(std::shared_ptr<guest_hub> hub, std::uint64_t key, asio::local::stream_protocol::socket s,
                         peer_cred cred)
    : hub_(std::move(hub)),
      key_(key),
      cred_(cred),
      description_("guest " + hub_->name() + ", client " + std::to_string(key) + " (" + tether::broker::describe(cred) + ")"),
      stream_(std::move(s), "tetherd client " + std::to_string(key)),
      writer_(stream_.socket().get_executor()),
      // The hub checks each frame against the agent's limit once remapped.
      decoder_({.max_frame_size = hub_->lim().max_frame_size}) {}

awaitable<void> client_link::run() {
  auto self = shared_from_this();  // alive until the hub forgets it
  const auto ended = co_await first_to_end(read_loop(), writer_.run(stream_));
  std::string why = "closed";
  if (ended) {
    try {
      std::rethrow_exception(ended);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted) why = e.code().message();
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  close();
  const auto cancelled = hub_->cancel_calls_of(*this);
  log::info(description_ + " disconnected (" + why + ")" +
            (cancelled ? "; its " + std::to_string(cancelled) + " running call(s) cancelled in the guest" : ""));
  hub_->client_gone(*this);
}

void client_link::close() {
  if (closed_) return;
  closed_ = true;
  writer_.stop();
  stream_.close();
}

void client_link::send(const v1::Frame& f) { send(f, frame_writer::lane_for(f)); }

void client_link::send(const v1::Frame& f, frame_writer::lane lane) {
  if (closed_) return;
  writer_.send(f, lane);
  if (writer_.queued_bytes() > hub_->lim().max_client_queue) {
    log::warning(description_ + " does not read what it asked for (" + std::to_string(writer_.queued_bytes()) +
                 " bytes queued, limit " + std::to_string(hub_->lim().max_client_queue) + "); disconnecting it");
    close();
  }
}

// Reads pause while this client's answers pile up unread, or the guest's
// queue is full (a client must not grow the broker's memory by sending).
awaitable<void> client_link::pace() {
  co_await writer_.wait_control_below(max_queued_control);
  // The writer lives until its connection ends; stop() wakes this wait first.
  if (auto* w = hub_->guest_writer()) co_await w->wait_queued_below(hub_->lim().max_guest_queue);
}

awaitable<void> client_link::read_loop() {
  co_await read_frames(
      stream_, decoder_, [this](wire::frame_decoder::item& item) { handle(item); }, [this] { return pace(); });
}

void client_link::handle(wire::frame_decoder::item& item) {
  using kind = wire::frame_decoder::item::kind;
  if (closed_ || item.what == kind::preamble) return;
  if (item.what == kind::error) {
    if (!established_) return;  // as the agent: nothing to say before a Hello
    switch (item.error) {
      case wire::codec_error::frame_too_large:
        return send_error(v1::ERROR_CODE_FRAME_TOO_LARGE,
                          "frame of " + std::to_string(item.length) + " bytes exceeds the limit of " +
                              std::to_string(hub_->lim().max_frame_size) + " bytes; it was discarded");
      case wire::codec_error::malformed_frame:
        return send_error(v1::ERROR_CODE_PROTOCOL_ERROR, "malformed frame discarded");
      case wire::codec_error::bad_frame_magic:
        return send_error(v1::ERROR_CODE_PROTOCOL_ERROR,
                          "lost frame synchronisation; send a preamble and Hello to resume");
    }
    return;
  }
  auto& f = item.frame;
  switch (f.body_case()) {
    case v1::Frame::kHello:
      return on_hello(f.hello());
    case v1::Frame::kRequest:
    case v1::Frame::kData:
    case v1::Frame::kCredit:
    case v1::Frame::kCancel:
      if (established_) hub_->from_client(*this, f);
      return;
    case v1::Frame::kError:
      log::debug(description_ + " reported: " + f.error().status().message());
      return;
    default:
      if (established_) send_error(v1::ERROR_CODE_PROTOCOL_ERROR, "unexpected frame kind from host");
      return;
  }
}

void client_link::on_hello(const v1::Hello& h) {
  if (h.role() != v1::Hello::ROLE_HOST) return;
  auto refuse = [&](v1::ErrorCode code, const std::string& why) {
    writer_.send_raw(frames::with_preamble(frames::error(code, why)));
  };
  if (h.protocol_version() != wire::protocol_version)
    return refuse(v1::ERROR_CODE_PROTOCOL_ERROR, "tetherd speaks protocol " + std::to_string(wire::protocol_version) +
                                                     ", host asked for " + std::to_string(h.protocol_version()));
  const auto window = std::min(h.initial_stream_window(), max_window);
  if (window < hub_->lim().min_stream_window)
    return refuse(v1::ERROR_CODE_PROTOCOL_ERROR,
                  "tetherd: a stream window of " + std::to_string(window) + " bytes is below the broker's minimum of " +
                      std::to_string(hub_->lim().min_stream_window) + " (client_options.stream_window)");
  if (established_) {
    // A new session on the same connection: the old one's calls end, as in the agent.
    hub_->cancel_calls_of(*this);
    writer_.clear();
    established_ = false;
  }
  stream_window_ = window;
  max_frame_size_ = h.max_frame_size() ? h.max_frame_size() : wire::default_max_frame_size;
  nonce_ = h.nonce();
  hello_waiting_ = true;
  if (hub_->guest_up()) return answer_hello();
  refuse(v1::ERROR_CODE_UNAVAILABLE, "tetherd: guest " + hub_->name() + " has no agent session yet (" +
                                         hub_->why_down() + ")");
}

void client_link::on_guest_up() {
  if (hello_waiting_ && !closed_) answer_hello();
}

void client_link::answer_hello() {
  const auto& guest = hub_->guest_hello();
  v1::Frame f;
  auto* h = f.mutable_hello();
  *h = guest;  // role, version, session id, capabilities, the agent's windows
  h->set_nonce(nonce_);
  h->set_max_frame_size(client_frame_limit(guest, hub_->lim().max_frame_size));
  const std::uint64_t agent_calls = guest.max_concurrent_calls() ? guest.max_concurrent_calls() : UINT32_MAX;
  h->set_max_concurrent_calls(
      static_cast<std::uint32_t>(std::min<std::uint64_t>(agent_calls, hub_->lim().max_calls_per_client)));
  writer_.send_raw(frames::with_preamble(f));
  hello_waiting_ = false;
  established_ = true;
}

void client_link::send_error(v1::ErrorCode code, const std::string& message) {
  writer_.send(frames::error(code, message));
}

}  // namespace tether::broker
