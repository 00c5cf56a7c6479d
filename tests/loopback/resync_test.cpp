// Protocol robustness with a hand-driven host: stale bytes, oversize and
// malformed frames, repeated Hellos. The agent must answer clearly and keep
// serving.
#include <gtest/gtest.h>

#include "support/agent_process.hpp"
#include "support/raw_peer.hpp"
#include "tether/v1/info.pb.h"

namespace tether {
namespace {

std::string ping_payload(const std::string& s) {
  v1::PingRequest r;
  r.set_payload(s);
  return r.SerializeAsString();
}

// Every session opens with the agent's announcement: a Hello without nonce.
void expect_announcement(test::raw_peer& p) {
  auto f = p.next_frame();
  ASSERT_TRUE(f.has_value()) << "no announcement";
  ASSERT_TRUE(f->has_hello()) << f->DebugString();
  EXPECT_EQ(f->hello().role(), v1::Hello::ROLE_AGENT);
  EXPECT_TRUE(f->hello().nonce().empty());
}

class ARawHostConnection : public ::testing::Test {
 protected:
  test::agent_process agent{{"--max-frame-size", "65536"}};
  test::raw_peer peer{agent.socket_path()};

  void SetUp() override { expect_announcement(peer); }

  void expect_hello_answer(const std::string& nonce) {
    auto f = peer.next_frame();
    ASSERT_TRUE(f.has_value()) << "no Hello answer";
    ASSERT_TRUE(f->has_hello());
    EXPECT_EQ(f->hello().role(), v1::Hello::ROLE_AGENT);
    EXPECT_EQ(f->hello().nonce(), nonce);
    EXPECT_EQ(f->hello().session_id().size(), 16u);
    EXPECT_EQ(f->hello().max_frame_size(), 65536u);
  }

  void expect_ping_works(std::uint64_t id) {
    peer.send_frame(test::make_request(id, "ping.Ping", ping_payload("p")));
    auto f = peer.next_frame();
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE(f->has_response()) << f->DebugString();
    EXPECT_EQ(f->response().call_id(), id);
    EXPECT_EQ(f->response().status().code(), v1::ERROR_CODE_OK);
  }
};

TEST_F(ARawHostConnection, GetsNothingBeforeItSaysHello) {
  // A request before Hello, bare and then framed behind a preamble, gets no
  // answer: shown by order, not by waiting. The Hello answer must be the
  // very next frame, and the ping's answer the one after it.
  std::string early = test::make_request(1, "ping.Ping").SerializeAsString();
  wire::append_preamble(early);
  wire::append_frame(early, test::make_request(2, "ping.Ping"));
  peer.send(early);
  expect_hello_answer(peer.send_hello());
  expect_ping_works(3);
}

TEST_F(ARawHostConnection, SkipsGarbageBeforeThePreamble) {
  std::string garbage(10000, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
  // Half a frame from an "earlier connection", as a chardev may deliver.
  garbage += wire::encode_frame(test::make_request(99, "ping.Ping")).substr(0, 9);
  peer.send(garbage);
  const auto nonce = peer.send_hello();
  expect_hello_answer(nonce);
  expect_ping_works(1);
}

TEST_F(ARawHostConnection, RefusesAnOversizeFrameAndRecovers) {
  expect_hello_answer(peer.send_hello());
  peer.send_frame(test::make_request(5, "ping.Ping", ping_payload(std::string(200000, 'x'))));
  auto f = peer.next_frame();
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(f->has_error()) << f->DebugString();
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_NE(f->error().status().message().find("65536"), std::string::npos);
  expect_ping_works(6);
}

TEST_F(ARawHostConnection, IsToldAboutAMalformedFrameAndCanGoOn) {
  expect_hello_answer(peer.send_hello());
  peer.send(std::string{char(0x54), char(0xF7), 2, 0, 0, 0, char(0xFF), char(0xFF)});
  auto f = peer.next_frame();
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  expect_ping_works(7);
}

TEST_F(ARawHostConnection, CanResynchroniseWithANewHelloAfterLosingFrameSync) {
  expect_hello_answer(peer.send_hello());
  peer.send("this is not a frame header");
  auto f = peer.next_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  expect_hello_answer(peer.send_hello());
  expect_ping_works(8);
}

TEST_F(ARawHostConnection, GetsAFreshSessionIdForEveryHello) {
  peer.send_hello();
  auto a = peer.next_frame();
  peer.send_hello();
  auto b = peer.next_frame();
  ASSERT_TRUE(a && b && a->has_hello() && b->has_hello());
  EXPECT_NE(a->hello().session_id(), b->hello().session_id());
}

TEST_F(ARawHostConnection, IsRefusedForAnUnsupportedProtocolVersion) {
  v1::Frame f;
  f.mutable_hello()->set_protocol_version(99);
  f.mutable_hello()->set_role(v1::Hello::ROLE_HOST);
  std::string out;
  wire::append_preamble(out);
  wire::append_frame(out, f);
  peer.send(out);
  auto r = peer.next_frame();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->has_error());
  EXPECT_NE(r->error().status().message().find("protocol"), std::string::npos);
}

TEST_F(ARawHostConnection, GetsDuplicateCallIdsRejected) {
  expect_hello_answer(peer.send_hello());
  // Two requests with one id, sent together: the second may find the first
  // still running or finished; either way each gets exactly one answer.
  std::string both = wire::encode_frame(test::make_request(3, "ping.Ping")) +
                     wire::encode_frame(test::make_request(3, "ping.Ping"));
  peer.send(both);
  for (int answer = 1; answer <= 2; ++answer) {
    auto f = peer.next_frame();
    ASSERT_TRUE(f.has_value()) << "answer " << answer << " missing";
    ASSERT_TRUE(f->has_response()) << f->DebugString();
    EXPECT_EQ(f->response().call_id(), 3u);
  }
  // No third answer: the next frame answers the next call.
  expect_ping_works(4);
}

TEST_F(ARawHostConnection, IsRefusedMoreCallsThanTheLimit) {
  // Agent with a tiny limit and a host that floods requests without reading.
  test::agent_process limited{{"--max-calls", "1"}};
  test::raw_peer p{limited.socket_path()};
  expect_announcement(p);
  p.send_hello();
  ASSERT_TRUE(p.next_frame()->has_hello());
  std::string burst;
  for (int i = 1; i <= 50; ++i) burst += wire::encode_frame(test::make_request(i, "ping.Ping"));
  p.send(burst);
  int ok = 0, exhausted = 0;
  for (int i = 0; i < 50; ++i) {
    auto f = p.next_frame();
    ASSERT_TRUE(f.has_value());
    (f->response().status().code() == v1::ERROR_CODE_OK ? ok : exhausted)++;
  }
  EXPECT_EQ(ok + exhausted, 50);
  EXPECT_GE(ok, 1);
}

}  // namespace
}  // namespace tether
