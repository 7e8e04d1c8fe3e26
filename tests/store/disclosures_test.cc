// Store: the accounting of disclosures, written off the caller's path, once per (lead,
// provider, token), bounded in memory, kept by erasure and deleted by a purge.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPhone[] = "+12127365000";

class DisclosuresTest : public StoreFixture {
 protected:
  // "<provider> <token> <channel> <seconds after start>" of each disclosure of `lead_id`.
  std::vector<std::string> Disclosures(const std::string& lead_id) {
    absl::StatusOr<std::vector<Disclosure>> listed = store_->ListLeadDisclosures(lead_id);
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> out;
    for (const Disclosure& d : listed.value_or(std::vector<Disclosure>{})) {
      out.push_back(absl::StrCat(d.provider_id, " ", d.token_id, " ", static_cast<int>(d.channel),
                                 " ", absl::ToInt64Seconds(d.first_time - start_)));
    }
    return out;
  }

  // Waits until `lead_id` has `count` disclosures on disk (written off the caller's path).
  void AwaitDisclosures(const std::string& lead_id, size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (Disclosures(lead_id).size() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_EQ(Disclosures(lead_id).size(), count);
  }

  const absl::Time start_ = clock_.Now();
};

TEST_F(DisclosuresTest, EachTokenIsRecordedOnceWithTheChannelAndTimeOfTheFirst) {
  AddProviderWithListing("a");
  const std::string lead = NewLead(TestSubmission(kPhone));
  store_->RecordDisclosure(lead, "a", "tok-1", DisclosureChannel::kStream);
  clock_.Advance(absl::Seconds(5));
  store_->RecordDisclosure(lead, "a", "tok-1", DisclosureChannel::kGetLead);  // Merged in memory.
  store_->RecordDisclosure(lead, "a", "tok-2", DisclosureChannel::kListLeads);
  // No other write comes: the records make a batch of their own within the delay.
  AwaitDisclosures(lead, 2);
  clock_.Advance(absl::Seconds(5));
  store_->RecordDisclosure(lead, "a", "tok-2", DisclosureChannel::kGetLead);  // On disk already.
  store_->RecordDisclosure(lead, "a", "tok-3", DisclosureChannel::kAcknowledgeLead);
  AwaitDisclosures(lead, 3);
  EXPECT_THAT(Disclosures(lead), ElementsAre("a tok-1 1 0", "a tok-2 3 5", "a tok-3 4 10"));
}

TEST_F(DisclosuresTest, ACallersLeadsAreListedNewestFirstUntilErased) {
  AddProviderWithListing("a");
  const std::string first = NewLead(TestSubmission(kPhone));
  clock_.Advance(absl::Seconds(1));
  Submission listing = TestSubmission(kPhone);
  listing.listing_id = "a-listing";
  const std::string second = NewLead(listing);
  const std::string other = NewLead(TestSubmission("+12127365111"));
  store_->RecordDisclosure(first, "a", "tok-1", DisclosureChannel::kStream);
  store_->RecordDisclosure(other, "a", "tok-1", DisclosureChannel::kStream);
  AwaitDisclosures(other, 1);

  absl::StatusOr<std::vector<LeadDisclosures>> caller = store_->ListCallerDisclosures(kPhone);
  ASSERT_TRUE(caller.ok()) << caller.status();
  ASSERT_EQ(caller->size(), 2u);
  EXPECT_EQ((*caller)[0].lead_id, second);
  EXPECT_EQ((*caller)[0].listing_id, "a-listing");
  EXPECT_THAT((*caller)[0].disclosures, IsEmpty());
  EXPECT_EQ((*caller)[1].lead_id, first);
  EXPECT_EQ((*caller)[1].listing_id, "");
  ASSERT_EQ((*caller)[1].disclosures.size(), 1u);
  EXPECT_EQ((*caller)[1].disclosures[0].token_id, "tok-1");

  ASSERT_EQ(store_->EraseCaller(kPhone).value_or(0), 2u);
  caller = store_->ListCallerDisclosures(kPhone);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_THAT(*caller, IsEmpty());
  EXPECT_THAT(Disclosures(first), ElementsAre("a tok-1 1 1")) << "the audit trail stays";
}

TEST_F(DisclosuresTest, APurgeDeletesTheRecordsAndALateOneForAPurgedLeadIsNotWritten) {
  AddProviderWithListing("a");
  const std::string lead = NewLead(TestSubmission(kPhone));
  store_->RecordDisclosure(lead, "a", "tok-1", DisclosureChannel::kStream);
  AwaitDisclosures(lead, 1);
  clock_.Advance(absl::Hours(1));
  ASSERT_EQ(store_->PurgeLeads(clock_.Now()).value_or(0), 1u);
  EXPECT_EQ(Query("SELECT count(*) FROM disclosures"), 0);
  store_->RecordDisclosure(lead, "a", "tok-2", DisclosureChannel::kGetLead);
  store_.reset();  // A clean shutdown writes what waits.
  EXPECT_EQ(Query("SELECT count(*) FROM disclosures"), 0);
}

TEST_F(DisclosuresTest, PastTheBoundNewRecordsAreDroppedAndCountedAndShutdownWritesTheRest) {
  // No flush before shutdown: every record waits in memory.
  Open([](StoreOptions& options) { options.disclosure_delay = absl::Hours(1); });
  AddProviderWithListing("a");
  const std::string lead = NewLead(TestSubmission(kPhone));
  for (size_t i = 0; i < Store::kMaxPendingDisclosures; ++i) {
    store_->RecordDisclosure(lead, "a", absl::StrCat("tok-", i), DisclosureChannel::kStream);
  }
  EXPECT_EQ(store_->disclosures_dropped(), 0u);
  store_->RecordDisclosure(lead, "a", "tok-one-too-many", DisclosureChannel::kStream);
  EXPECT_EQ(store_->disclosures_dropped(), 1u);
  store_->RecordDisclosure(lead, "a", "tok-0", DisclosureChannel::kGetLead);  // Waiting: merged.
  EXPECT_EQ(store_->disclosures_dropped(), 1u);
  store_.reset();
  EXPECT_EQ(Query("SELECT count(*) FROM disclosures"),
            static_cast<int64_t>(Store::kMaxPendingDisclosures));
  EXPECT_EQ(Query("SELECT count(*) FROM disclosures WHERE token_id = 'tok-one-too-many'"), 0);
}

}  // namespace
}  // namespace intake::store
