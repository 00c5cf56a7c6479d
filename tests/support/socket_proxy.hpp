// An in-process unix socket relay between a client and the agent: the test's
// stand-in for a QEMU chardev that can be cut, like a host disconnect.
#pragma once

#include <list>
#include <memory>

#include "tether/common/asio.hpp"

namespace tether::test {

class socket_proxy {
 public:
  socket_proxy(asio::io_context& ctx, std::string listen_path, std::string target_path)
      : ctx_(ctx), acceptor_(ctx, asio::local::stream_protocol::endpoint(listen_path)),
        target_(std::move(target_path)) {
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
  }
  ~socket_proxy() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    cut();
  }

  // Agent-to-client bytes are held back while true (calls stay in flight).
  void hold_replies(bool hold) { hold_ = hold; }
  // Closes every relayed connection, as a host disconnect would.
  void cut() {
    for (auto& p : pairs_) {
      boost::system::error_code ec;
      p->a.close(ec);
      p->b.close(ec);
    }
    pairs_.clear();
  }
  int connections() const { return accepted_; }

 private:
  struct pair {
    explicit pair(asio::io_context& c) : a(c), b(c) {}
    asio::local::stream_protocol::socket a, b;  // a: client side, b: agent side
  };

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto sock = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      auto p = std::make_shared<pair>(ctx_);
      p->a = std::move(sock);
      co_await p->b.async_connect(asio::local::stream_protocol::endpoint(target_),
                                  asio::redirect_error(use_awaitable, ec));
      if (ec) continue;
      ++accepted_;
      pairs_.push_back(p);
      asio::co_spawn(ctx_, relay(p, p->a, p->b, false), asio::detached);
      asio::co_spawn(ctx_, relay(p, p->b, p->a, true), asio::detached);
    }
  }

  awaitable<void> relay(std::shared_ptr<pair> keep, asio::local::stream_protocol::socket& from,
                        asio::local::stream_protocol::socket& to, bool is_reply) {
    char buf[65536];
    boost::system::error_code ec;
    for (;;) {
      auto n = co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      if (is_reply && hold_) continue;  // swallowed: the client never sees replies
      co_await asio::async_write(to, asio::buffer(buf, n), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    boost::system::error_code ig;
    keep->a.close(ig);
    keep->b.close(ig);
  }

  asio::io_context& ctx_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::string target_;
  std::list<std::shared_ptr<pair>> pairs_;
  bool hold_ = false;
  int accepted_ = 0;
};

}  // namespace tether::test
