// Ordering udev events by sequence number, and the replay ring (no udev).
#include "devices/event_log.hpp"

#include <gtest/gtest.h>

namespace tether::agent::devices {
namespace {

using namespace std::chrono_literals;

log_entry ev(std::uint64_t seq, std::string action = "add") {
  auto d = std::make_shared<device_info>();
  d->seqnum = seq;
  d->action = std::move(action);
  d->devpath = "/devices/virtual/test/" + std::to_string(seq);
  return log_entry{.what = log_entry::kind::device, .device = std::move(d)};
}

std::vector<std::uint64_t> seqs(const std::vector<log_entry>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& e : v) out.push_back(e.seqnum());
  return out;
}

class ASeqnumOrderer : public ::testing::Test {
 protected:
  steady_clock::time_point t0 = steady_clock::now();
  seqnum_orderer o{100, 500ms};
  std::vector<log_entry> out;
};

TEST_F(ASeqnumOrderer, ReleasesConsecutiveEventsAtOnce) {
  o.push(ev(101), t0, out);
  o.push(ev(102), t0, out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{101, 102}));
  EXPECT_EQ(o.held(), 0u);
  EXPECT_FALSE(o.next_deadline());
}

TEST_F(ASeqnumOrderer, HoldsAnEventUntilTheMissingLowerNumberArrives) {
  o.push(ev(103), t0, out);
  o.push(ev(102), t0 + 1ms, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(o.next_deadline(), t0 + 500ms);
  o.push(ev(101), t0 + 2ms, out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{101, 102, 103}));
  for (const auto& e : out) EXPECT_FALSE(e.out_of_order);
}

TEST_F(ASeqnumOrderer, GivesUpOnAGapAfterTheWindow) {
  o.push(ev(102), t0, out);
  o.push(ev(104), t0 + 100ms, out);
  o.expire(t0 + 499ms, out);
  EXPECT_TRUE(out.empty());
  o.expire(t0 + 500ms, out);  // 102's window passed; 104 still waits for 103
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{102}));
  EXPECT_EQ(o.next_deadline(), t0 + 600ms);
  o.push(ev(103), t0 + 550ms, out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{102, 103, 104}));
}

TEST_F(ASeqnumOrderer, DeliversALateEventAtOnceAndMarksItOutOfOrder) {
  o.push(ev(102), t0, out);
  o.expire(t0 + 500ms, out);  // gave up on 101
  o.push(ev(101), t0 + 600ms, out);
  ASSERT_EQ(seqs(out), (std::vector<std::uint64_t>{102, 101}));
  EXPECT_FALSE(out[0].out_of_order);
  EXPECT_TRUE(out[1].out_of_order);
}

TEST_F(ASeqnumOrderer, DeliversEventsFromBeforeItsStartWithoutComplaint) {
  o.push(ev(99), t0, out);  // in flight in udevd when the monitor started
  ASSERT_EQ(seqs(out), (std::vector<std::uint64_t>{99}));
  EXPECT_FALSE(out[0].out_of_order);
}

TEST_F(ASeqnumOrderer, NeverDropsDuplicateOrUnnumberedEvents) {
  o.push(ev(103), t0, out);
  o.push(ev(103, "change"), t0, out);
  o.push(ev(0), t0, out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{103, 0}));
  o.flush(out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{103, 0, 103}));
}

TEST_F(ASeqnumOrderer, FlushReleasesEverythingHeldInOrder) {
  o.push(ev(105), t0, out);
  o.push(ev(103), t0, out);
  o.flush(out);
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{103, 105}));
  EXPECT_EQ(o.released_upto(), 105u);
  o.push(ev(106), t0, out);
  EXPECT_EQ(out.back().seqnum(), 106u);
}

TEST(ASeqnumOrdererLimit, ReleasesTheLowestWhenTooManyAreHeld) {
  seqnum_orderer o{0, 10s, 3};
  std::vector<log_entry> out;
  const auto t = steady_clock::now();
  for (std::uint64_t s : {10, 11, 12}) o.push(ev(s), t, out);
  EXPECT_TRUE(out.empty());
  o.push(ev(20), t, out);  // a fourth held event is one too many
  EXPECT_EQ(seqs(out), (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(o.held(), 1u);
}

TEST(AnEventRing, EvictsTheOldestWhenFullAndRaisesItsFloor) {
  event_ring r(3, 100);
  for (std::uint64_t s = 101; s <= 103; ++s) EXPECT_FALSE(r.push(ev(s)));
  EXPECT_EQ(r.begin(), 0u);
  EXPECT_EQ(r.end(), 3u);
  auto evicted = r.push(ev(104));
  ASSERT_TRUE(evicted);
  EXPECT_EQ(evicted->seqnum(), 101u);
  EXPECT_EQ(r.begin(), 1u);
  EXPECT_EQ(r.at(1).seqnum(), 102u);
  EXPECT_EQ(r.floor_seqnum(), 101u);
}

TEST(AnEventRing, ResumesRightAfterTheLastEventTheHostSaw) {
  event_ring r(10, 100);
  for (std::uint64_t s = 101; s <= 105; ++s) r.push(ev(s));
  auto p = r.resume_after(103, 105);
  EXPECT_FALSE(p.gap);
  EXPECT_EQ(r.at(p.index).seqnum(), 104u);
  EXPECT_EQ(r.resume_after(105, 105).index, r.end());
}

TEST(AnEventRing, ResumeKeepsLateEventsDeliveredAfterTheResumePoint) {
  event_ring r(10, 100);
  for (std::uint64_t s : {101, 103, 104, 102}) r.push(ev(s));  // 102 came late
  auto p = r.resume_after(104, 104);
  EXPECT_FALSE(p.gap);
  ASSERT_LT(p.index, r.end());
  EXPECT_EQ(r.at(p.index).seqnum(), 102u);
}

TEST(AnEventRing, ResumeAfterAnEventItNeverHeldStartsAtTheNextHigherNumber) {
  event_ring r(10, 100);
  for (std::uint64_t s : {101, 102, 105}) r.push(ev(s));
  auto p = r.resume_after(103, 105);  // 103, 104 were not broadcast by udevd
  EXPECT_FALSE(p.gap);
  EXPECT_EQ(r.at(p.index).seqnum(), 105u);
}

TEST(AnEventRing, ReportsAGapWhenTheResumePointWasEvicted) {
  event_ring r(2, 100);
  for (std::uint64_t s = 101; s <= 104; ++s) r.push(ev(s));  // 101, 102 evicted
  auto p = r.resume_after(101, 104);
  EXPECT_TRUE(p.gap);
  EXPECT_FALSE(p.reset);
  EXPECT_EQ(p.first_available, 103u);
  EXPECT_EQ(p.index, r.begin());
  EXPECT_FALSE(r.resume_after(102, 104).gap);  // 103 and later are all held
}

TEST(AnEventRing, ReportsAGapWhenTheResumePointPredatesTheMonitor) {
  event_ring r(10, 100);  // the monitor started at kernel seqnum 100
  r.push(ev(101));
  auto p = r.resume_after(90, 101);
  EXPECT_TRUE(p.gap);
  EXPECT_EQ(p.first_available, 101u);
  EXPECT_FALSE(r.resume_after(100, 101).gap);
}

TEST(AnEventRing, ReportsAResetWhenTheResumePointIsAheadOfTheGuest) {
  event_ring r(10, 10);
  r.push(ev(11));
  r.push(ev(12));
  auto p = r.resume_after(5000, 12);  // the guest rebooted: numbers restarted
  EXPECT_TRUE(p.gap);
  EXPECT_TRUE(p.reset);
  EXPECT_EQ(p.index, r.begin());  // everything held is news to the host
}

class AnEventFeed : public ::testing::Test {
 protected:
  event_feed feed{4, 100};
  event_feed::reader all;
  event_feed::reader odd{.wants = [](const device_info& d) { return d.seqnum % 2 == 1; }};

  void SetUp() override {
    all.cursor = odd.cursor = feed.ring().end();
    feed.attach(all);
    feed.attach(odd);
  }
  void TearDown() override {
    feed.detach(all);
    feed.detach(odd);
  }
  // Entries the reader takes until it has caught up; lost markers as 0.
  std::vector<std::uint64_t> drain(event_feed::reader& r) {
    std::vector<std::uint64_t> out;
    while (auto it = feed.take(r)) out.push_back(it->what == event_feed::item::kind::entry ? it->entry->seqnum() : 0);
    return out;
  }
};

TEST_F(AnEventFeed, GivesEachReaderTheEntriesItWantsInOrder) {
  for (std::uint64_t s = 101; s <= 104; ++s) feed.publish(ev(s));
  EXPECT_EQ(drain(all), (std::vector<std::uint64_t>{101, 102, 103, 104}));
  EXPECT_EQ(drain(odd), (std::vector<std::uint64_t>{101, 103}));
  EXPECT_FALSE(feed.take(all));  // caught up
  feed.publish(ev(105));
  EXPECT_EQ(drain(odd), (std::vector<std::uint64_t>{105}));
}

TEST_F(AnEventFeed, TellsASlowReaderHowManyWantedEntriesItLost) {
  for (std::uint64_t s = 101; s <= 107; ++s) feed.publish(ev(s));  // capacity 4: 101-103 evicted
  auto lost = feed.take(odd);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->what, event_feed::item::kind::lost);
  EXPECT_EQ(lost->lost, 2u);  // 101 and 103; 102 was not wanted
  EXPECT_FALSE(lost->lost_unknown);
  EXPECT_EQ(drain(odd), (std::vector<std::uint64_t>{105, 107}));

  auto lost_all = feed.take(all);
  ASSERT_TRUE(lost_all);
  EXPECT_EQ(lost_all->lost, 3u);
  EXPECT_EQ(drain(all), (std::vector<std::uint64_t>{104, 105, 106, 107}));
}

TEST_F(AnEventFeed, LosesNothingForAReaderThatKeepsUp) {
  for (std::uint64_t s = 101; s <= 120; ++s) {
    feed.publish(ev(s));
    EXPECT_EQ(drain(all), (std::vector<std::uint64_t>{s}));
  }
}

TEST_F(AnEventFeed, PassesKernelOverflowMarkersToEveryReader) {
  feed.publish(ev(101));
  feed.publish(log_entry{.what = log_entry::kind::overflow});
  feed.publish(ev(103));
  for (auto* r : {&all, &odd}) {
    auto a = feed.take(*r);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->entry->seqnum(), 101u);
    auto m = feed.take(*r);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->what, event_feed::item::kind::overflow);
    EXPECT_EQ(drain(*r), (std::vector<std::uint64_t>{103}));
  }
}

TEST_F(AnEventFeed, ReportsAnEvictedOverflowMarkerAsAnUnknownLoss) {
  feed.publish(log_entry{.what = log_entry::kind::overflow});
  for (std::uint64_t s = 101; s <= 104; ++s) feed.publish(ev(s));  // evicts the marker
  auto lost = feed.take(all);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->what, event_feed::item::kind::lost);
  EXPECT_TRUE(lost->lost_unknown);
  EXPECT_EQ(drain(all), (std::vector<std::uint64_t>{101, 102, 103, 104}));
}

TEST_F(AnEventFeed, ReplaysFromAResumePointBeforeLiveEntries) {
  for (std::uint64_t s = 101; s <= 103; ++s) feed.publish(ev(s));
  event_feed::reader late;
  late.cursor = feed.ring().resume_after(101, 103).index;
  feed.attach(late);
  feed.publish(ev(104));
  EXPECT_EQ(drain(late), (std::vector<std::uint64_t>{102, 103, 104}));
  feed.detach(late);
  feed.publish(ev(105));  // a detached reader is not touched
  EXPECT_EQ(late.lost, 0u);
}

}  // namespace
}  // namespace tether::agent::devices
