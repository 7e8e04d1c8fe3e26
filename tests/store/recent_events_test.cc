#include "server/store/recent_events.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace intake::store {
namespace {

// An event of `lead_id` for `provider_id`'s stream, the lead owned by `owner`.
EventWithLead Event(uint64_t sequence, const std::string& lead_id, const std::string& provider_id,
                    const std::string& owner, LeadEventType type = LeadEventType::kAssigned) {
  EventWithLead item;
  item.event.sequence = sequence;
  item.event.type = type;
  item.event.lead_id = lead_id;
  item.event.provider_id = provider_id;
  Lead lead;
  lead.lead_id = lead_id;
  lead.provider_id = owner;
  lead.phone = "+12127365000";
  item.lead = lead;
  return item;
}

constexpr uint64_t kAll = UINT64_MAX;  // No upper bound.

std::vector<uint64_t> Sequences(const RecentRead& read) {
  std::vector<uint64_t> out;
  for (const EventWithLead& item : read.events) out.push_back(item.event.sequence);
  return out;
}

TEST(RecentEventsTest, AnswersNothingUntilItKeepsARange) {
  RecentEvents recent(16);
  EXPECT_EQ(recent.Read(0, "", 10, kAll), std::nullopt);
  recent.Append(0, 2, {Event(1, "a", "acme", "acme"), Event(2, "b", "beta", "beta")});
  ASSERT_NE(recent.Read(0, "", 10, kAll), std::nullopt);
  recent.Clear();
  EXPECT_EQ(recent.Read(0, "", 10, kAll), std::nullopt);
  EXPECT_EQ(recent.Read(2, "", 10, kAll), std::nullopt);
}

TEST(RecentEventsTest, ReadsOnlyTheProvidersEventsAfterTheCursor) {
  RecentEvents recent(16);
  recent.Append(4, 6, {Event(5, "a", "acme", "acme"), Event(6, "b", "beta", "beta")});
  recent.Append(6, 8, {Event(7, "c", "acme", "acme"), Event(8, "d", "", "")});

  std::optional<RecentRead> acme = recent.Read(4, "acme", 10, kAll);
  ASSERT_NE(acme, std::nullopt);
  EXPECT_EQ(Sequences(*acme), (std::vector<uint64_t>{5, 7}));
  EXPECT_EQ(acme->through, 8u) << "nothing else of acme's up to the end of the range";
  EXPECT_EQ(acme->events[0].lead->phone, "+12127365000");

  std::optional<RecentRead> all = recent.Read(5, "", 10, kAll);
  ASSERT_NE(all, std::nullopt);
  EXPECT_EQ(Sequences(*all), (std::vector<uint64_t>{6, 7, 8}));

  std::optional<RecentRead> none = recent.Read(8, "beta", 10, kAll);
  ASSERT_NE(none, std::nullopt);
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->through, 8u);
}

TEST(RecentEventsTest, ACursorOutsideTheRangeIsForTheDisk) {
  RecentEvents recent(16);
  recent.Append(4, 6, {Event(5, "a", "acme", "acme"), Event(6, "b", "acme", "acme")});
  EXPECT_EQ(recent.Read(3, "acme", 10, kAll), std::nullopt) << "event 4 is not kept";
  EXPECT_NE(recent.Read(4, "acme", 10, kAll), std::nullopt);
  EXPECT_EQ(recent.Read(7, "acme", 10, kAll), std::nullopt) << "beyond what is kept";
}

TEST(RecentEventsTest, AGapStartsTheRangeAfresh) {
  RecentEvents recent(16);
  recent.Append(0, 2, {Event(1, "a", "acme", "acme"), Event(2, "b", "acme", "acme")});
  // Commits 3..5 were never appended (nobody kept them).
  recent.Append(5, 6, {Event(6, "c", "acme", "acme")});
  EXPECT_EQ(recent.Read(2, "acme", 10, kAll), std::nullopt) << "3..5 would be missing";
  std::optional<RecentRead> read = recent.Read(5, "acme", 10, kAll);
  ASSERT_NE(read, std::nullopt);
  EXPECT_EQ(Sequences(*read), (std::vector<uint64_t>{6}));
}

TEST(RecentEventsTest, KeepsAtMostItsCapacityAndForgetsTheOldest) {
  RecentEvents recent(3);
  for (uint64_t s = 1; s <= 5; ++s) {
    recent.Append(s - 1, s, {Event(s, absl::StrCat("lead", s), "acme", "acme")});
  }
  EXPECT_EQ(recent.Read(1, "acme", 10, kAll), std::nullopt) << "event 2 was forgotten";
  std::optional<RecentRead> read = recent.Read(2, "acme", 10, kAll);
  ASSERT_NE(read, std::nullopt);
  EXPECT_EQ(Sequences(*read), (std::vector<uint64_t>{3, 4, 5}));
}

TEST(RecentEventsTest, AReadStopsAtItsLimit) {
  RecentEvents recent(16);
  recent.Append(0, 4,
                {Event(1, "a", "acme", "acme"), Event(2, "b", "beta", "beta"),
                 Event(3, "c", "acme", "acme"), Event(4, "d", "acme", "acme")});
  std::optional<RecentRead> first = recent.Read(0, "acme", 2, kAll);
  ASSERT_NE(first, std::nullopt);
  EXPECT_EQ(Sequences(*first), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(first->through, 3u) << "event 4 is still to read";
  std::optional<RecentRead> rest = recent.Read(first->through, "acme", 2, kAll);
  ASSERT_NE(rest, std::nullopt);
  EXPECT_EQ(Sequences(*rest), (std::vector<uint64_t>{4}));
  EXPECT_EQ(rest->through, 4u);
}

TEST(RecentEventsTest, EventsBeyondTheUpperBoundWaitForALaterRead) {
  RecentEvents recent(16);
  recent.Append(0, 3,
                {Event(1, "a", "acme", "acme"), Event(2, "b", "acme", "acme"),
                 Event(3, "c", "acme", "acme")});
  std::optional<RecentRead> read = recent.Read(0, "acme", 10, 2);
  ASSERT_NE(read, std::nullopt);
  EXPECT_EQ(Sequences(*read), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(read->through, 2u);
  read = recent.Read(2, "acme", 10, 1);
  ASSERT_NE(read, std::nullopt);
  EXPECT_TRUE(read->events.empty()) << "a bound behind the cursor reads nothing";
  EXPECT_EQ(read->through, 2u);
}

// As on disk, a lead shows as it stands now: once reassigned, its old provider sees only its
// id, in the ASSIGNED event it had too.
TEST(RecentEventsTest, AReassignedLeadShowsItsOldProviderOnlyItsId) {
  RecentEvents recent(16);
  recent.Append(0, 1, {Event(1, "a", "acme", "acme")});
  recent.Append(1, 3,
                {Event(2, "a", "acme", "beta", LeadEventType::kReassignedAway),
                 Event(3, "a", "beta", "beta")});

  std::optional<RecentRead> acme = recent.Read(0, "acme", 10, kAll);
  ASSERT_NE(acme, std::nullopt);
  ASSERT_EQ(Sequences(*acme), (std::vector<uint64_t>{1, 2}));
  for (const EventWithLead& item : acme->events) {
    ASSERT_TRUE(item.lead.has_value());
    EXPECT_EQ(item.lead->lead_id, "a");
    EXPECT_TRUE(item.lead->phone.empty()) << "at " << item.event.sequence;
    EXPECT_TRUE(item.lead->provider_id.empty());
  }
  std::optional<RecentRead> beta = recent.Read(0, "beta", 10, kAll);
  ASSERT_NE(beta, std::nullopt);
  ASSERT_EQ(Sequences(*beta), (std::vector<uint64_t>{3}));
  EXPECT_EQ(beta->events[0].lead->phone, "+12127365000");
  std::optional<RecentRead> ops = recent.Read(0, "", 10, kAll);
  ASSERT_NE(ops, std::nullopt);
  EXPECT_EQ(ops->events[0].lead->provider_id, "beta") << "ops see everything, as it stands";
}

TEST(RecentEventsTest, APurgedLeadHasNoLead) {
  RecentEvents recent(16);
  EventWithLead purged = Event(1, "a", "acme", "acme");
  purged.lead.reset();
  recent.Append(0, 1, {purged});
  std::optional<RecentRead> read = recent.Read(0, "acme", 10, kAll);
  ASSERT_NE(read, std::nullopt);
  ASSERT_EQ(read->events.size(), 1u);
  EXPECT_FALSE(read->events[0].lead.has_value());
}

TEST(RecentEventsTest, ARefreshedLeadShowsInEveryKeptEventOfIt) {
  RecentEvents recent(16);
  recent.Append(0, 2, {Event(1, "a", "acme", "acme"), Event(2, "b", "acme", "acme")});
  EXPECT_TRUE(recent.Holds("a"));
  EXPECT_FALSE(recent.Holds("c"));

  Lead acknowledged = Event(1, "a", "acme", "acme").lead.value();
  acknowledged.state = LeadState::kAcknowledged;
  recent.Refresh(acknowledged);
  Lead unknown = Event(3, "c", "acme", "acme").lead.value();
  recent.Refresh(unknown);  // No kept event: nothing to do, nothing kept.
  EXPECT_FALSE(recent.Holds("c"));

  std::optional<RecentRead> read = recent.Read(0, "acme", 10, kAll);
  ASSERT_NE(read, std::nullopt);
  ASSERT_EQ(Sequences(*read), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(read->events[0].lead->state, LeadState::kAcknowledged);
  EXPECT_EQ(read->events[1].lead->state, LeadState::kNew);
}

}  // namespace
}  // namespace intake::store
