#include "tether/client.hpp"

#include "client_impl.hpp"
#include "route_connector.hpp"
#include "session_info.hpp"

namespace tether {

client_impl::client_impl(asio::any_io_executor ex, client_options o, detail::connector connect)
    : opts_(std::move(o)),
      conn_(ex, opts_,
            connect              ? std::move(connect)
            : opts_.domain.empty() ? detail::unix_socket_connector(opts_.socket_path)
                                   : detail::libvirt_domain_connector(opts_.domain, opts_.libvirt_uri),
            {.on_frame = [this](v1::Frame& f) { session_.on_frame(f); },
             .on_lost = [this](errc why, const std::string& msg) { session_.fail_all(why, msg); }}),
      session_(ex, opts_, conn_) {}

void client_impl::close() {
  conn_.close();
  for (auto& h : hops_) h->close();
}

std::optional<v1::Hello> client_impl::agent_hello() const {
  if (!conn_.established()) return std::nullopt;
  return conn_.hello();
}

detail::clock::time_point client_impl::deadline_for(call_options o) const {
  auto t = o.timeout.count() == 0 ? opts_.call_timeout : o.timeout;
  if (t == milliseconds::max()) return detail::clock::time_point::max();
  return detail::clock::now() + t;
}

awaitable<void> client_impl::wait_connected(detail::clock::time_point deadline) {
  conn_.ensure_running(shared_from_this());
  co_await conn_.wait_connected(deadline);
}

awaitable<std::shared_ptr<pending_call>> client_impl::start(std::string method, std::string payload,
                                                            call_options o) {
  const auto deadline = deadline_for(o);
  conn_.ensure_running(shared_from_this());
  co_return co_await session_.start(std::move(method), std::move(payload), deadline);
}

awaitable<std::string> client_impl::call(std::string method, std::string payload, call_options o) {
  auto c = co_await start(std::move(method), std::move(payload), o);
  call_stream s(shared_from_this(), c);
  co_return co_await s.finish();
}

// --- call_stream ---------------------------------------------------------

call_stream::call_stream(std::shared_ptr<client_impl> client, std::shared_ptr<pending_call> call)
    : client_(std::move(client)), call_(std::move(call)) {}

call_stream::~call_stream() {
  if (call_ && !call_->done) client_->abandon(*call_, errc::cancelled, "call stream dropped");
}

std::uint64_t call_stream::id() const noexcept { return call_->id; }

awaitable<std::optional<call_stream::chunk>> call_stream::next() {
  co_return co_await client_->next(*call_);
}

awaitable<void> call_stream::write(std::uint32_t stream, std::string_view data) {
  co_await client_->write(*call_, stream, data);
}

void call_stream::close_write(std::uint32_t stream) { client_->close_write(*call_, stream); }

awaitable<std::string> call_stream::finish() { co_return co_await client_->finish(*call_); }

void call_stream::cancel() { client_->cancel(*call_); }

// --- client --------------------------------------------------------------

client::client(asio::any_io_executor ex, client_options options) {
  if (!options.domain.empty() && (!options.socket_path.empty() || !options.via.empty()))
    throw error(errc::invalid_argument, "client_options: domain '" + options.domain +
                                            "' names the guest; socket_path and via must then be empty");
  std::vector<std::shared_ptr<client_impl>> hops;
  impl_ = detail::make_routed_client(std::move(ex), options, hops);
  for (auto& h : hops) hops_.push_back(std::unique_ptr<client>(new client(h)));
  impl_->hops() = std::move(hops);
}

client::client(std::shared_ptr<client_impl> impl) : impl_(std::move(impl)) {}

client& client::hop(std::size_t i) {
  if (i >= hops_.size())
    throw error(errc::invalid_argument, "hop " + std::to_string(i) + " of a route with " +
                                            std::to_string(hops_.size()) + " hops (client_options::via)");
  return *hops_[i];
}

client::~client() { impl_->close(); }

awaitable<void> client::connect(call_options opts) {
  co_await impl_->wait_connected(impl_->deadline_for(opts));
}

bool client::connected() const noexcept { return impl_->connected(); }
std::optional<hello_info> client::agent_hello() const {
  auto h = impl_->agent_hello();
  if (!h) return std::nullopt;
  return detail::to_hello_info(*h);
}
void client::close() { impl_->close(); }
const client_options& client::options() const noexcept { return impl_->options(); }

awaitable<std::string> client::call(std::string method, std::string payload, call_options opts) {
  co_return co_await impl_->call(std::move(method), std::move(payload), opts);
}

awaitable<std::unique_ptr<call_stream>> client::start(std::string method, std::string payload,
                                                      call_options opts) {
  auto c = co_await impl_->start(std::move(method), std::move(payload), opts);
  co_return std::make_unique<call_stream>(impl_, std::move(c));
}

}  // namespace tether
