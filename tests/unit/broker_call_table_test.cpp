#include "call_table.hpp"

#include <gtest/gtest.h>

namespace tether::broker {
namespace {

TEST(BrokerCallTable, GivesTwoClientsSameIdsDistinctGuestIds) {
  call_table t;
  const auto a = t.open(1, 7);
  const auto b = t.open(2, 7);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(t.to_guest(1, 7), a);
  EXPECT_EQ(t.to_guest(2, 7), b);
  ASSERT_NE(t.from_guest(*b), nullptr);
  EXPECT_EQ(t.from_guest(*b)->client, 2u);
  EXPECT_EQ(t.from_guest(*b)->client_id, 7u);
}

TEST(BrokerCallTable, RefusesAnIdTheClientStillRuns) {
  call_table t;
  ASSERT_TRUE(t.open(1, 5));
  EXPECT_FALSE(t.open(1, 5));
  EXPECT_EQ(t.calls_of(1), 1u);
}

TEST(BrokerCallTable, AClientCannotNameAnotherClientsCall) {
  call_table t;
  ASSERT_TRUE(t.open(1, 5));
  EXPECT_FALSE(t.to_guest(2, 5));
}

TEST(BrokerCallTable, ClosedCallsAreForgottenAndIdsNotReused) {
  call_table t;
  const auto a = t.open(1, 5);
  t.close(*a);
  EXPECT_EQ(t.from_guest(*a), nullptr);
  EXPECT_FALSE(t.to_guest(1, 5));
  const auto again = t.open(1, 5);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *a);
}

TEST(BrokerCallTable, DroppingAClientReturnsOnlyItsCalls) {
  call_table t;
  const auto a1 = t.open(1, 1), a2 = t.open(1, 2), b1 = t.open(2, 1);
  auto gone = t.drop_client(1);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<std::uint64_t>{*a1, *a2}));
  EXPECT_EQ(t.from_guest(*a1), nullptr);
  ASSERT_NE(t.from_guest(*b1), nullptr);
  EXPECT_EQ(t.size(), 1u);
}

TEST(BrokerCallTable, FirstDataOfEachStreamIsSeenOnce) {
  call_table t;
  auto* r = t.from_guest(*t.open(1, 1));
  EXPECT_TRUE(call_table::first_data(*r, 1));
  EXPECT_FALSE(call_table::first_data(*r, 1));
  EXPECT_TRUE(call_table::first_data(*r, 2));
  EXPECT_FALSE(call_table::first_data(*r, 40));  // not a stream clients accept
}

TEST(BrokerStreamWindows, GrantsTheClientsExtraWindowOnly) {
  EXPECT_EQ((stream_windows{.announced_to_guest = 64 << 10, .client = 2 << 20}).extra(), (2u << 20) - (64u << 10));
  EXPECT_EQ((stream_windows{.announced_to_guest = 64 << 10, .client = 64 << 10}).extra(), 0u);
}

}  // namespace
}  // namespace tether::broker
