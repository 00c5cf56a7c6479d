// Hostile clients of tetherd: garbage, oversize frames, frames of the wrong
// kind, duplicate call ids, frames naming another client's calls, a client
// that never reads. Each gets the agent's kind of answer (an Error frame or
// an error Response) or is disconnected; the broker stays up and the other
// clients' calls are untouched.
#include <gtest/gtest.h>

#include <signal.h>

#include "support/async.hpp"
#include "support/broker_rig.hpp"
#include "support/eventually.hpp"
#include "support/raw_peer.hpp"
#include "support/start_process.hpp"
#include "tether/common/frames.hpp"
#include "tether/exec.hpp"
#include "tether/v1/exec.pb.h"
#include "tether/wire/codec.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

class BrokerHostile : public ::testing::Test, public broker_rig {
 protected:
  BrokerHostile() : broker_rig({"--max-client-queue", "262144"}) {
    // The broker's socket appears once it reached the agent.
    run_for(ctx, probe.connect({10s}));
  }
  asio::io_context ctx;
  client probe{ctx.get_executor(), client_opts()};

  std::unique_ptr<raw_peer> attacker() {
    auto p = std::make_unique<raw_peer>(socket());
    const auto nonce = p->send_hello();
    auto f = p->next_frame();
    EXPECT_TRUE(f && f->has_hello()) << "the broker did not answer a Hello";
    if (f && f->has_hello()) {
      EXPECT_EQ(f->hello().nonce(), nonce);
      EXPECT_EQ(f->hello().role(), v1::Hello::ROLE_AGENT);
    }
    return p;
  }

  // The broker still serves everyone: a ping through a fresh client.
  void still_serves() {
    client fresh(ctx.get_executor(), client_opts());
    EXPECT_NO_THROW(run_for(ctx, fresh.ping()));
    EXPECT_EQ(::kill(broker.pid(), 0), 0) << "tetherd died; log:\n" << broker.log_text();
  }
};

std::string exec_payload(std::vector<std::string> argv) {
  v1::ExecRequest r;
  for (auto& a : argv) r.add_argv(a);
  return r.SerializeAsString();
}

TEST_F(BrokerHostile, OversizeWrongKindsAndGarbageGetErrorsNotACrash) {
  auto p = attacker();
  p->send(frame_header(8u << 20) + std::string(8u << 20, 'x'));
  auto f = p->next_frame(10s);
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_FRAME_TOO_LARGE);

  v1::Frame wrong;
  wrong.mutable_response()->set_call_id(1);
  p->send_frame(wrong);
  f = p->next_frame();
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);

  // Garbage: the broker loses the frames' thread until the next preamble.
  p->send(std::string(5000, '\x42'));
  f = p->next_frame();
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  p->send_hello();
  f = p->next_frame();
  ASSERT_TRUE(f && f->has_hello());

  p->send_frame(make_request(9, "ping.Ping"));
  f = p->next_frame();
  ASSERT_TRUE(f && f->has_response());
  EXPECT_EQ(f->response().call_id(), 9u);
  EXPECT_EQ(f->response().status().code(), v1::ERROR_CODE_OK);
  still_serves();
}

TEST_F(BrokerHostile, ADuplicateCallIdIsRefusedAndCancelEndsTheCall) {
  auto p = attacker();
  p->send_frame(make_request(5, "exec.Run", exec_payload({"sleep", "30"})));
  p->send_frame(make_request(5, "ping.Ping"));
  auto f = p->next_frame();
  ASSERT_TRUE(f && f->has_response());
  EXPECT_EQ(f->response().call_id(), 5u);
  EXPECT_EQ(f->response().status().code(), v1::ERROR_CODE_DUPLICATE_CALL_ID);
  p->send_frame(frames::cancel(5));
  f = p->next_frame(10s);
  ASSERT_TRUE(f && f->has_response());
  EXPECT_EQ(f->response().call_id(), 5u);
  EXPECT_EQ(f->response().status().code(), v1::ERROR_CODE_CANCELLED);
}

// Call ids are per client: another client's Cancel, Credit or data naming
// the same number reaches nothing.
TEST_F(BrokerHostile, AClientCannotTouchAnotherClientsCalls) {
  auto victim = run_for(ctx, start_process(probe, {.argv = {"sh", "-c", "read x; echo got $x"}, .stdin = true}));
  const auto id = victim->call_id();
  auto p = attacker();
  p->send_frame(frames::cancel(id));
  p->send_frame(frames::credit(id, 1, 1u << 30));
  v1::Frame d;
  d.mutable_data()->set_call_id(id);
  d.mutable_data()->set_stream(0);
  d.mutable_data()->set_data("evil\n");
  p->send_frame(d);
  // Its own ping answered: everything it sent before went through the broker.
  p->send_frame(make_request(77, "ping.Ping"));
  auto f = p->next_frame();
  ASSERT_TRUE(f && f->has_response());
  EXPECT_EQ(f->response().call_id(), 77u);

  const auto out = run_for(ctx, [&]() -> awaitable<std::string> {
    co_await victim->write("mine\n");
    victim->close_stdin();
    std::string text;
    for (;;) {
      auto c = co_await victim->read();
      if (!c) break;
      text += c->bytes;
    }
    const auto r = co_await victim->wait();
    EXPECT_EQ(r.exit_code, 0);
    co_return text;
  }());
  EXPECT_EQ(out, "got mine\n");
}

TEST_F(BrokerHostile, AClientThatNeverReadsIsDisconnectedAndItsCallCancelled) {
  auto p = attacker();
  // A new session with a 16 MiB window: the agent may send far more than
  // the socket buffers and --max-client-queue hold.
  auto hello = frames::hello(v1::Hello::ROLE_HOST, "test");
  hello.mutable_hello()->set_nonce("fedcba9876543210");
  hello.mutable_hello()->set_initial_stream_window(16u << 20);
  p->send(frames::with_preamble(hello));
  auto f = p->next_frame();
  ASSERT_TRUE(f && f->has_hello());
  p->send_frame(make_request(1, "exec.Run", exec_payload({"sh", "-c", "exec cat /dev/zero"})));
  // Never read: the broker's queue toward it passes --max-client-queue.
  const bool cut =
      eventually([&] { return broker.log_text().find("does not read what it asked for") != std::string::npos; }, 60s);
  EXPECT_TRUE(cut) << broker.log_text();
  still_serves();
  const auto log = broker.log_text();
  EXPECT_NE(log.find("its 1 running call(s) cancelled in the guest"), std::string::npos) << log;
}

}  // namespace
}  // namespace tether::test
