// A hostile agent against the real libtether: oversized frames, data beyond
// credit, floods of events (by count and by bytes), frames for unknown call
// ids, deeply nested fields, and an agent that never reads. Each attack
// fails the call (or the connection) with a clear error, the host process's
// peak memory (VmHWM, reset through /proc/self/clear_refs) stays within the
// bound README documents, and a real agent driven by another client on the
// same io_context keeps answering pings throughout.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/raw_agent.hpp"
#include "support/slurp.hpp"
#include "tether/client.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/info.pb.h"
#include "support/sanitizers.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t slack_kib = 16 * 1024;

std::uint64_t own_kib(std::string_view key) { return test::proc::kib_field(test::slurp("/proc/self/status"), key); }

// Starts a new peak: VmHWM becomes the current VmRSS.
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// The request the host sent next (other frames skipped).
v1::Request next_request(test::raw_peer& host) {
  for (;;) {
    auto f = host.next_frame(10s);
    if (!f) throw std::runtime_error("the host sent no request");
    if (f->has_request()) return f->request();
  }
}

void answer_ping(test::raw_peer& host, const v1::Request& req) {
  v1::PingRequest in;
  in.ParseFromString(req.payload());
  v1::PingReply out;
  out.set_payload(in.payload());
  v1::Frame f;
  f.mutable_response()->set_call_id(req.call_id());
  f.mutable_response()->mutable_status()->set_code(v1::ERROR_CODE_OK);
  f.mutable_response()->set_payload(out.SerializeAsString());
  host.send_frame(f);
}

class HostileAgent : public ::testing::Test {
 protected:
  HostileAgent()
      : good(ctx.get_executor(), {.socket_path = good_agent.socket_path(), .call_timeout = 10s}),
        bad(ctx.get_executor(), {.socket_path = hostile.socket_path(), .call_timeout = 10s}) {}

  // Runs `attack` against the hostile agent while the good one is pinged
  // over and over; the good guest must answer every ping, and the host's
  // peak memory must grow by less than `bound_kib` (+ slack).
  void run_attack(std::function<awaitable<void>()> attack, std::uint64_t bound_kib) {
    test::run_for(ctx, good.ping("warm-up"));  // connections and buffers exist before the baseline
    reset_peak();
    const auto baseline = own_kib("VmHWM");
    int pings = 0;
    async_event pinged(ctx.get_executor());
    test::run_for(ctx, [&]() -> awaitable<void> {
      auto pinger = [&]() -> awaitable<void> {
        for (;;) {
          auto r = co_await good.ping("good");
          EXPECT_EQ(r.payload, "good");
          ++pings;
          pinged.notify_all();
        }
      };
      auto attacker = [&]() -> awaitable<void> {
        co_await attack();
        // One more ping answered after the attack, so the pings span it.
        for (const int before = pings; pings <= before;) co_await pinged.wait();
      };
      if (auto failed = co_await first_to_end(pinger(), attacker())) std::rethrow_exception(failed);
    }());
    EXPECT_GT(pings, 0) << "the good guest answered no ping during the attack";
    bad.close();  // the raw agent's script ends when the host hangs up
    const auto hwm = own_kib("VmHWM");
    if (test::memory_figures_mean_something)
      EXPECT_LT(hwm, baseline + bound_kib + slack_kib) << "host VmHWM grew from " << baseline << " to " << hwm << " KiB";
    EXPECT_EQ(hostile.join(), "");
  }

  // A ping to the hostile agent fails: the connection is dropped, and its
  // calls fail naming why. The host's peak grows by less than 2 MiB.
  void expect_connection_dropped() {
    run_attack([&]() -> awaitable<void> {
      auto e = co_await failure_of([&] { return bad.ping("x"); });
      EXPECT_EQ(e.code(), make_error_code(errc::connection_lost)) << e.what();
      EXPECT_NE(std::string(e.what()).find("agent sent an invalid frame"), std::string::npos) << e.what();
    }, 2 * 1024);
  }

  // The error the hostile agent's call ends with.
  template <class Op>
  static awaitable<error> failure_of(Op op) {
    try {
      co_await op();
    } catch (const error& e) {
      co_return e;
    }
    ADD_FAILURE() << "the call succeeded against a hostile agent";
    co_return error(errc::closed, "");
  }

  test::agent_process good_agent;
  test::raw_agent hostile;
  asio::io_context ctx;
  client good;
  client bad;
};

TEST_F(HostileAgent, OversizedFrameEndsTheConnectionUnbuffered) {
  hostile.serve([](test::raw_peer& host) {
    next_request(host);
    constexpr std::uint32_t huge = 48u << 20;
    host.send(test::frame_header(huge));
    try {
      const std::string zeros(64 * 1024, '\0');  // in pieces: this thread's memory is the host process's too
      for (std::uint32_t sent = 0; sent < huge; sent += zeros.size()) host.send(zeros);
    } catch (const std::runtime_error&) {
      // The host dropped the connection once it saw the length: expected.
    }
  });
  expect_connection_dropped();
}

TEST_F(HostileAgent, DataBeyondCreditFailsTheCall) {
  hostile.serve([](test::raw_peer& host) {
    const auto req = next_request(host);
    std::string out;
    for (int i = 0; i < 48; ++i) {  // 3 MiB on a 2 MiB window
      v1::Frame f;
      f.mutable_data()->set_call_id(req.call_id());
      f.mutable_data()->set_stream(1);
      f.mutable_data()->set_data(std::string(64 * 1024, 'd'));
      out += wire::encode_frame(f);
    }
    host.send(out);
    answer_ping(host, next_request(host));  // arrives after the data
  });
  run_attack([&]() -> awaitable<void> {
    auto call = co_await bad.start("exec.Run", "");
    co_await bad.ping("after the data");  // the data was handled, none read (reading grants credit)
    auto e = co_await failure_of([&] { return call->finish(); });
    EXPECT_EQ(e.code(), make_error_code(errc::protocol_error)) << e.what();
    EXPECT_NE(std::string(e.what()).find("agent overran the stream credit"), std::string::npos) << e.what();
  }, 4 * 1024);
}

// Events beyond the count window, then large events beyond the byte bound.
TEST_F(HostileAgent, EventFloodsFailTheCall) {
  hostile.serve([](test::raw_peer& host) {
    auto flood = [&](std::uint64_t call, int n, std::size_t size) {
      v1::Frame f;
      f.mutable_event()->set_call_id(call);
      f.mutable_event()->set_payload(std::string(size, 'e'));
      const auto frame = wire::encode_frame(f);
      for (int i = 0; i < n; ++i) host.send(frame);  // one at a time: this thread's memory counts too
    };
    flood(next_request(host).call_id(), 300, 16);  // window: 256 events
    flood(next_request(host).call_id(), 40, 1000 * 1000);  // 40 MB, under the count window
    answer_ping(host, next_request(host));  // arrives after the flood
  });
  run_attack([&]() -> awaitable<void> {
    auto by_count = co_await bad.start("devices.Subscribe", "");
    auto by_bytes = co_await bad.start("stats.Subscribe", "");
    co_await bad.ping("after the floods");  // the floods were handled, none read
    auto e = co_await failure_of([&] { return by_count->finish(); });
    EXPECT_NE(std::string(e.what()).find("agent overran the event credit"), std::string::npos) << e.what();
    e = co_await failure_of([&] { return by_bytes->finish(); });
    EXPECT_EQ(e.code(), make_error_code(errc::protocol_error)) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_unread_event_bytes"), std::string::npos) << e.what();
  }, 16 * 1024 + 2 * 1024);
}

TEST_F(HostileAgent, FramesForUnknownCallIdsAreDropped) {
  hostile.serve([](test::raw_peer& host) {
    const auto req = next_request(host);
    std::string out;
    for (std::uint64_t id = 1000; id < 31'000; ++id) {
      v1::Frame r;
      r.mutable_response()->set_call_id(id);
      r.mutable_response()->mutable_status()->set_code(v1::ERROR_CODE_OK);
      out += wire::encode_frame(r);
      v1::Frame d;
      d.mutable_data()->set_call_id(id);
      d.mutable_data()->set_data("data");
      out += wire::encode_frame(d);
      v1::Frame e;
      e.mutable_event()->set_call_id(id);
      e.mutable_event()->set_payload("event");
      out += wire::encode_frame(e);
      out += wire::encode_frame(frames::credit(id, 0, 1u << 30));
    }
    host.send(out);
    answer_ping(host, req);
  });
  run_attack([&]() -> awaitable<void> {
    auto r = co_await bad.ping("through the noise");
    EXPECT_EQ(r.payload, "through the noise");
  }, 4 * 1024);
}

TEST_F(HostileAgent, DeeplyNestedFrameEndsTheConnection) {
  hostile.serve([](test::raw_peer& host) {
    next_request(host);
    const std::string body = std::string(200'000, '\x7B') + std::string(200'000, '\x7C');
    host.send(test::frame_header(static_cast<std::uint32_t>(body.size())) + body);
  });
  expect_connection_dropped();
}

TEST_F(HostileAgent, AgentThatNeverReadsBoundsTheUpload) {
  std::atomic<bool> stop = false;
  hostile.serve([&](test::raw_peer&) {
    // Reads nothing and grants nothing until the upload gave up.
    while (!stop) std::this_thread::sleep_for(10ms);
  });
  run_attack([&]() -> awaitable<void> {
    auto call = co_await bad.start("files.Upload", "", {.timeout = 2s});
    const std::string chunk(1u << 20, 'u');
    auto e = co_await failure_of([&]() -> awaitable<void> {
      for (int i = 0; i < 64; ++i) co_await call->write(0, chunk);  // 64 MiB offered, 2 MiB of credit
    });
    EXPECT_EQ(e.code(), make_error_code(errc::timeout)) << e.what();
    stop = true;
  }, 4 * 1024);
}

}  // namespace
}  // namespace tether
