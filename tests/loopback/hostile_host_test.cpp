// A hostile host against the real agent binary: oversized frames, floods of
// calls beyond max_concurrent_calls, frames for unknown call ids, data no
// handler reads and data beyond credit, deeply nested and huge fields, and a
// host that sends requests but never reads. Each attack gets a clear error,
// the agent's peak memory (VmHWM) stays within the bound README documents,
// and another connection to the same agent keeps answering.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/agent_process.hpp"
#include "support/proc_text.hpp"
#include "support/raw_peer.hpp"
#include "support/slurp.hpp"
#include "tether/common/frames.hpp"
#include "tether/v1/exec.pb.h"
#include "tether/v1/frame.pb.h"
#include "tether/v1/info.pb.h"
#include "support/sanitizers.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;

// Slack over each attack's own bound: allocator rounding, the decoder's
// 64 KiB reads, socket batches. Far below what an unbounded queue reaches.
constexpr std::uint64_t slack_kib = 24 * 1024;

class HostileHost : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args = {}) {
    agent = std::make_unique<test::agent_process>(std::move(args));
    attacker = std::make_unique<test::raw_peer>(agent->socket_path());
    handshake(*attacker);
    baseline_hwm = status_kib("VmHWM");
  }

  static void handshake(test::raw_peer& p) {
    const auto nonce = p.send_hello();
    for (;;) {  // the agent's announcement (no nonce) may come first
      auto f = p.next_frame();
      ASSERT_TRUE(f) << "no Hello from the agent";
      if (f->has_hello() && f->hello().nonce() == nonce) return;
    }
  }

  std::uint64_t status_kib(std::string_view key) const {
    return test::proc::kib_field(test::slurp("/proc/" + std::to_string(agent->pid()) + "/status"), key);
  }

  // The peak memory the attack added stays under `bound_kib` (+ slack).
  void expect_peak_growth_below(std::uint64_t bound_kib) const {
    if (!test::memory_figures_mean_something) return;
    const auto hwm = status_kib("VmHWM");
    EXPECT_LT(hwm, baseline_hwm + bound_kib + slack_kib)
        << "agent VmHWM grew from " << baseline_hwm << " KiB to " << hwm << " KiB";
  }

  // A ping on `p`, answered with our payload.
  static void expect_ping(test::raw_peer& p, std::uint64_t id) {
    v1::PingRequest req;
    req.set_payload("still here");
    p.send_frame(test::make_request(id, "ping.Ping", req.SerializeAsString()));
    for (;;) {
      auto f = p.next_frame(10s);
      ASSERT_TRUE(f) << "no answer to the ping";
      if (!f->has_response() || f->response().call_id() != id) continue;
      ASSERT_EQ(f->response().status().code(), v1::ERROR_CODE_OK) << f->response().status().message();
      v1::PingReply reply;
      ASSERT_TRUE(reply.ParseFromString(f->response().payload()));
      EXPECT_EQ(reply.payload(), "still here");
      return;
    }
  }

  // Another host connection to the same agent answers a ping.
  void expect_ping_from_another_connection() const {
    test::raw_peer other(agent->socket_path());
    handshake(other);
    expect_ping(other, 7);
  }

  // `n` calls of /bin/sleep that run until the connection ends.
  void start_sleepers(std::uint64_t first_id, int n) {
    v1::ExecRequest req;
    req.add_argv("/bin/sleep");
    req.add_argv("60");
    std::string out;
    for (int i = 0; i < n; ++i)
      out += wire::encode_frame(test::make_request(first_id + i, "exec.Run", req.SerializeAsString()));
    attacker->send(out);
  }

  // The Response of each of `ids`' calls (other frames skipped).
  std::map<std::uint64_t, v1::Response> responses(const std::set<std::uint64_t>& ids, std::chrono::seconds within) {
    std::map<std::uint64_t, v1::Response> got;
    const auto until = std::chrono::steady_clock::now() + within;
    while (got.size() < ids.size() && std::chrono::steady_clock::now() < until) {
      auto f = attacker->next_frame(1s);
      if (f && f->has_response() && ids.contains(f->response().call_id()))
        got[f->response().call_id()] = f->response();
    }
    return got;
  }

  std::unique_ptr<test::agent_process> agent;
  std::unique_ptr<test::raw_peer> attacker;
  std::uint64_t baseline_hwm = 0;
};

// A frame header and `body` as it is, valid or not.
std::string raw_frame(const std::string& body) {
  return test::frame_header(static_cast<std::uint32_t>(body.size())) + body;
}

std::string data_frames(std::uint64_t call, std::uint32_t stream, std::size_t bytes) {
  std::string out;
  for (std::size_t sent = 0; sent < bytes; sent += 64 * 1024) {
    v1::Frame f;
    f.mutable_data()->set_call_id(call);
    f.mutable_data()->set_stream(stream);
    f.mutable_data()->set_data(std::string(std::min<std::size_t>(64 * 1024, bytes - sent), 'x'));
    out += wire::encode_frame(f);
  }
  return out;
}

TEST_F(HostileHost, OversizedFrameIsSkippedWithoutBeingBuffered) {
  start();
  constexpr std::uint32_t huge = 48u << 20;  // the agent's limit is 1 MiB
  attacker->send(test::frame_header(huge));
  attacker->send(std::string(huge, '\0'));
  auto f = attacker->next_frame(10s);
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_NE(f->error().status().message().find("exceeds the agent's limit"), std::string::npos)
      << f->error().status().message();
  expect_peak_growth_below(1024);
  expect_ping(*attacker, 1);  // the same connection goes on after the skipped frame
}

TEST_F(HostileHost, CallsBeyondTheLimitAreRefusedOneByOne) {
  start({"--max-calls", "8"});
  start_sleepers(1, 8);
  constexpr int flood = 20'000;
  std::string out;
  std::set<std::uint64_t> ids;
  for (int i = 0; i < flood; ++i) {
    out += wire::encode_frame(test::make_request(1000 + i, "ping.Ping"));
    ids.insert(1000 + i);
  }
  attacker->send(out);
  expect_ping_from_another_connection();
  auto got = responses(ids, 30s);
  ASSERT_EQ(got.size(), ids.size());
  for (const auto& [id, r] : got) {
    ASSERT_EQ(r.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << "call " << id;
    ASSERT_EQ(r.status().message(), "too many concurrent calls (limit 8)");
  }
  expect_peak_growth_below(8 * 1024);
}

TEST_F(HostileHost, FramesForUnknownCallIdsAreDropped) {
  start();
  std::string out;
  for (std::uint64_t id = 1; id <= 30'000; ++id) {
    out += wire::encode_frame(frames::credit(id, 1, 1u << 30));
    out += wire::encode_frame(frames::cancel(id));
    out += data_frames(id, 0, 16);
  }
  attacker->send(out);
  // Nothing answers them: the next frame is the ping's answer.
  expect_ping(*attacker, std::uint64_t{1} << 40);
  expect_peak_growth_below(4 * 1024);
}

TEST_F(HostileHost, FloodOfEventsFromTheHostIsRefusedFrameByFrame) {
  start();
  // Events flow from the agent only: each is answered with an error, and
  // those answers wait in the bounded control queue like any other.
  v1::Frame ev;
  ev.mutable_event()->set_call_id(1);
  ev.mutable_event()->set_payload(std::string(1024, 'e'));
  const auto frame = wire::encode_frame(ev);
  std::string out;
  for (int i = 0; i < 20'000; ++i) out += frame;
  attacker->send(out);
  auto f = attacker->next_frame(10s);
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  EXPECT_EQ(f->error().status().message(), "unexpected frame kind from host");
  expect_ping_from_another_connection();
  expect_ping(*attacker, 2);
  expect_peak_growth_below(8 * 1024);
}

TEST_F(HostileHost, DataNoHandlerReadsIsBoundedPerSession) {
  constexpr std::size_t budget = 4u << 20;
  start({"--max-buffered", std::to_string(budget)});
  start_sleepers(1, 8);
  // 1 MiB each on a stream exec never reads: within each stream's 2 MiB
  // window, but 8 MiB in all, twice the session's budget.
  std::string out;
  for (std::uint64_t id = 1; id <= 8; ++id) out += data_frames(id, 5, 1u << 20);
  attacker->send(out);
  auto got = responses({5, 6, 7, 8}, 10s);
  ASSERT_EQ(got.size(), 4u) << "the calls past the budget did not end";
  for (const auto& [id, r] : got) {
    EXPECT_EQ(r.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << "call " << id;
    EXPECT_NE(r.status().message().find("limits.max_buffered_bytes"), std::string::npos) << r.status().message();
  }
  expect_ping_from_another_connection();
  expect_peak_growth_below(budget / 1024 + 4 * 1024);
}

TEST_F(HostileHost, DataBeyondCreditEndsTheCall) {
  start();
  start_sleepers(1, 1);
  attacker->send(data_frames(1, 5, 3u << 20));  // the window is 2 MiB
  auto got = responses({1}, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[1].status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  EXPECT_NE(got[1].status().message().find("broke the stream protocol"), std::string::npos)
      << got[1].status().message();
  expect_ping(*attacker, 2);
  expect_peak_growth_below(4 * 1024);
}

TEST_F(HostileHost, DeeplyNestedAndHugeFieldsAreRefused) {
  start();
  // 200 000 nested unknown groups (field 15): protobuf's recursion limit
  // refuses the frame instead of descending.
  attacker->send(raw_frame(std::string(200'000, '\x7B') + std::string(200'000, '\x7C')));
  auto f = attacker->next_frame(10s);
  ASSERT_TRUE(f && f->has_error());
  EXPECT_EQ(f->error().status().code(), v1::ERROR_CODE_PROTOCOL_ERROR);
  EXPECT_EQ(f->error().status().message(), "malformed frame discarded");
  // A 900 KiB method name: refused, quoted only in part, so the answer fits
  // any host's frames.
  attacker->send_frame(test::make_request(3, std::string(900 * 1024, 'm')));
  auto got = responses({3}, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[3].status().code(), v1::ERROR_CODE_UNKNOWN_METHOD);
  EXPECT_LT(got[3].status().message().size(), 200u);
  expect_ping(*attacker, 4);
  expect_peak_growth_below(4 * 1024);
}

TEST_F(HostileHost, HostThatNeverReadsStopsTheAgentReadingNotItsMemory) {
  start();
  // 64 MiB of requests whose answers are as large; the host reads none.
  v1::PingRequest req;
  req.set_payload(std::string(8 * 1024, 'p'));
  std::string out;
  for (std::uint64_t id = 1; id <= 8 * 1024; ++id)
    out += wire::encode_frame(test::make_request(id, "ping.Ping", req.SerializeAsString()));
  const auto sent = attacker->send_until_stalled(out, 1s);
  EXPECT_LT(sent, out.size()) << "the agent read everything: its queue of answers is not bounded";
  expect_ping_from_another_connection();
  // max_queued_control_bytes (8 MiB) of answers, plus the socket buffers.
  expect_peak_growth_below(8 * 1024 + 4 * 1024);
  // The slow host is still served once it reads.
  auto f = attacker->next_frame(10s);
  ASSERT_TRUE(f && f->has_response());
  EXPECT_EQ(f->response().status().code(), v1::ERROR_CODE_OK);
}

}  // namespace
}  // namespace tether
