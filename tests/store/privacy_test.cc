// Store privacy requests: opt-out and erasure, their events, and what erasure leaves on disk.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPhone[] = "+12127365000";
constexpr char kOtherPhone[] = "+12127365111";

class PrivacyTest : public StoreFixture {
 protected:
  // "<type>:<provider>" for each event of `lead_id`, oldest first.
  std::vector<std::string> Events(const std::string& lead_id) {
    return Column(absl::StrCat(
        "SELECT type || ':' || coalesce(provider_id, '') FROM lead_events WHERE lead_id = '",
        lead_id, "' ORDER BY sequence"));
  }
  int64_t State(const std::string& lead_id) {
    return Query(absl::StrCat("SELECT state FROM leads WHERE lead_id = '", lead_id, "'"));
  }

  // Three leads of kPhone, as in the issue: one from a's listing, one general (rotation among
  // a and b gives it to a), and one from b's listing reassigned to a.
  struct CallerLeads {
    std::string listing, general, reassigned;
  };
  CallerLeads ThreeLeads() {
    AddProviderWithListing("a");
    AddProviderWithListing("b");
    CallerLeads leads;
    Submission listing = TestSubmission(kPhone);
    listing.listing_id = "a-listing";
    leads.listing = NewLead(listing);
    leads.general = NewLead(TestSubmission(kPhone));
    Submission other = TestSubmission(kPhone);
    other.listing_id = "b-listing";
    leads.reassigned = NewLead(other);
    EXPECT_TRUE(store_->ReassignLead(leads.reassigned, "a").ok());
    return leads;
  }
};

constexpr char kAssigned[] = "1";
constexpr char kReassignedAway[] = "3";
constexpr char kOptedOut[] = "4";
constexpr char kErased[] = "5";

TEST_F(PrivacyTest, OptOutReachesEveryProviderThatEverHadTheLead) {
  const CallerLeads leads = ThreeLeads();
  const std::string other = NewLead(TestSubmission(kOtherPhone));
  const int64_t general_owner_is_b = Query(
      absl::StrCat("SELECT provider_id = 'b' FROM leads WHERE lead_id = '", leads.general, "'"));
  const std::string general_owner = general_owner_is_b != 0 ? "b" : "a";

  EXPECT_EQ(store_->OptOutCaller(kPhone).value_or(99), 3u);
  for (const std::string& lead : {leads.listing, leads.general, leads.reassigned}) {
    EXPECT_EQ(State(lead), static_cast<int>(LeadState::kOptedOut));
  }
  EXPECT_EQ(State(other), static_cast<int>(LeadState::kNew)) << "another caller is untouched";
  EXPECT_THAT(Events(leads.listing),
              ElementsAre(absl::StrCat(kAssigned, ":a"), absl::StrCat(kOptedOut, ":a")));
  EXPECT_THAT(Events(leads.general), ElementsAre(absl::StrCat(kAssigned, ":", general_owner),
                                                 absl::StrCat(kOptedOut, ":", general_owner)));
  EXPECT_THAT(Events(leads.reassigned),
              ElementsAre(absl::StrCat(kAssigned, ":b"), absl::StrCat(kReassignedAway, ":b"),
                          absl::StrCat(kAssigned, ":a"), absl::StrCat(kOptedOut, ":a"),
                          absl::StrCat(kOptedOut, ":b")));

  const uint64_t head = store_->head_sequence();
  EXPECT_EQ(store_->OptOutCaller(kPhone).value_or(99), 0u) << "a repeat changes nothing";
  EXPECT_EQ(store_->head_sequence(), head);
  EXPECT_EQ(store_->OptOutCaller("+13055550000").value_or(99), 0u) << "an unknown phone";
}

TEST_F(PrivacyTest, OptOutOfALeadNoProviderHadTellsAdminWatchersOnly) {
  const std::string lead = NewLead(TestSubmission(kPhone));  // No provider: UNASSIGNED.
  ASSERT_EQ(State(lead), static_cast<int>(LeadState::kUnassigned));
  EXPECT_EQ(store_->OptOutCaller(kPhone).value_or(99), 1u);
  EXPECT_THAT(Events(lead),
              ElementsAre(absl::StrCat(kAssigned, ":"), absl::StrCat(kOptedOut, ":")));
}

TEST_F(PrivacyTest, ASubmissionAfterTheOptOutIsANewLead) {
  AddProvider("a");
  const std::string first = NewLead(TestSubmission(kPhone));
  ASSERT_EQ(store_->OptOutCaller(kPhone).value_or(99), 1u);
  absl::StatusOr<SubmitResult> again = Submit(TestSubmission(kPhone));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(again->lead_id, first);
  EXPECT_EQ(State(again->lead_id), static_cast<int>(LeadState::kNew));
  EXPECT_EQ(State(first), static_cast<int>(LeadState::kOptedOut));
}

TEST_F(PrivacyTest, FeedbackOnAnOptedOutOrErasedLeadIsAFailedPrecondition) {
  AddProvider("a");
  const std::string opted_out = NewLead(TestSubmission(kPhone));
  const std::string erased = NewLead(TestSubmission(kOtherPhone));
  ASSERT_TRUE(store_->OptOutCaller(kPhone).ok());
  ASSERT_TRUE(store_->EraseCaller(kOtherPhone).ok());
  for (const std::string& lead : {opted_out, erased}) {
    EXPECT_EQ(store_->AcknowledgeLead("a", lead).status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store_->RecordContactAttempt("a", lead, ContactOutcome::kReached, "").status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store_->ReassignLead(lead, "a").status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(Query("SELECT count(*) FROM contact_attempts"), 0);
}

TEST_F(PrivacyTest, EraseRemovesThePersonalDataAndKeepsTheEvidence) {
  const CallerLeads leads = ThreeLeads();
  ASSERT_TRUE(store_
                  ->RecordContactAttempt("a", leads.listing, ContactOutcome::kNoAnswer,
                                         "spoke to her sister")
                  .ok());
  ASSERT_TRUE(store_->OptOutCaller(kPhone).ok());  // OPTED_OUT leads still hold data.
  const std::string other = NewLead(TestSubmission(kOtherPhone));

  EXPECT_EQ(store_->EraseCaller(kPhone).value_or(99), 3u);
  for (const std::string& id : {leads.listing, leads.general, leads.reassigned}) {
    EXPECT_EQ(State(id), static_cast<int>(LeadState::kErased));
    absl::StatusOr<Lead> lead = store_->GetLead(id, "");
    ASSERT_TRUE(lead.ok()) << lead.status();
    EXPECT_EQ(lead->caller_name, "");
    EXPECT_EQ(lead->phone, "");
    EXPECT_EQ(lead->postal_code, "");
    EXPECT_EQ(lead->region, "");
    EXPECT_EQ(lead->message, "");
    EXPECT_EQ(lead->form.client_ip, "");
    EXPECT_EQ(lead->form.user_agent, "");
    EXPECT_EQ(lead->form.referrer, "");
    absl::StatusOr<LeadEvidence> evidence = store_->GetLeadEvidence(id);
    ASSERT_TRUE(evidence.ok());
    EXPECT_EQ(evidence->consent_text_sha256.size(), 32u);
    EXPECT_EQ(evidence->history.back().type, LeadEventType::kErased);
  }
  EXPECT_THAT(Events(leads.reassigned),
              ElementsAre(absl::StrCat(kAssigned, ":b"), absl::StrCat(kReassignedAway, ":b"),
                          absl::StrCat(kAssigned, ":a"), absl::StrCat(kOptedOut, ":a"),
                          absl::StrCat(kOptedOut, ":b"), absl::StrCat(kErased, ":a"),
                          absl::StrCat(kErased, ":b")));
  // Nothing links the leads to the number any more.
  EXPECT_EQ(
      Query(absl::StrCat("SELECT count(*) FROM leads WHERE length(phone_hash) > 0 AND "
                         "lead_id IN ('",
                         leads.listing, "', '", leads.general, "', '", leads.reassigned, "')")),
      0);
  EXPECT_EQ(Query("SELECT count(*) FROM submissions WHERE length(payload_sha256) > 0"), 1)
      << "only the other caller's";
  EXPECT_EQ(Query("SELECT count(*) FROM contact_attempts WHERE length(note_sealed) > 0"), 0);
  EXPECT_EQ(Query("SELECT count(*) FROM contact_attempts"), 1) << "the attempt itself stays";
  EXPECT_EQ(State(other), static_cast<int>(LeadState::kNew));
  EXPECT_EQ(store_->GetLead(other, "")->phone, kOtherPhone);

  const uint64_t head = store_->head_sequence();
  EXPECT_EQ(store_->EraseCaller(kPhone).value_or(99), 0u) << "a repeat changes nothing";
  EXPECT_EQ(store_->head_sequence(), head);
}

TEST_F(PrivacyTest, EraseDeletesTheCallersQuarantinedSubmissions) {
  ASSERT_TRUE(Submit(TestSubmission(kPhone), /*bot=*/true).ok());
  ASSERT_TRUE(Submit(TestSubmission(kOtherPhone), /*bot=*/true).ok());
  EXPECT_EQ(store_->EraseCaller(kPhone).value_or(99), 0u) << "no lead, yet";
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 1);
  EXPECT_EQ(Query(absl::StrCat("SELECT count(*) FROM quarantine WHERE phone_hash = x'",
                               absl::BytesToHexString(TestCipher().PhoneHash(kOtherPhone)), "'")),
            1);
}

TEST_F(PrivacyTest, QuarantinedRowsFromBeforeThePhoneHashGetItAtOpen) {
  ASSERT_TRUE(Submit(TestSubmission(kPhone), /*bot=*/true).ok());
  store_.reset();
  {
    SQLite::Database db(path(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE quarantine SET phone_hash = NULL");
  }
  Open();
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine WHERE phone_hash IS NULL"), 0);
  ASSERT_TRUE(store_->EraseCaller(kPhone).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 0);
}

TEST_F(PrivacyTest, ARetriedRequestIdOfAnErasedLeadReplaysWithoutRecreatingIt) {
  Submission s = TestSubmission(kPhone);
  s.request_id = "r-1";
  absl::StatusOr<SubmitResult> first = Submit(s);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->EraseCaller(kPhone).ok());
  absl::StatusOr<SubmitResult> retry = Submit(s);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(retry->submission_id, first->submission_id);
  EXPECT_EQ(Query("SELECT count(*) FROM leads"), 1);
}

TEST_F(PrivacyTest, ASubmissionAfterTheErasureIsNotLinkedToTheErasedLead) {
  const std::string erased = NewLead(TestSubmission(kPhone));
  ASSERT_TRUE(store_->EraseCaller(kPhone).ok());
  absl::StatusOr<SubmitResult> again = Submit(TestSubmission(kPhone));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(again->lead_id, erased);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The promise behind EraseCaller: afterwards neither raw file holds the sealed bytes. Many
// leads, merges and feedback around the erased ones, so the pages that held them were written
// to the WAL several times and checkpointed, as in a real database.
TEST_F(PrivacyTest, AfterTheErasureNeitherTheDatabaseNorTheWalHoldsTheSealedBytes) {
  AddProvider("a");
  std::vector<std::string> erased;
  for (int i = 0; i < 600; ++i) {
    Submission s = TestSubmission(absl::StrCat("+1212736", 5000 + i % 300));
    s.message = std::string(40 + (i * 37) % 900, 'm');  // Some rows overflow their page.
    const std::string lead = NewLead(s);  // Every second one merges into an earlier lead.
    if (i % 300 == 17) erased.push_back(lead);
    if (i % 7 == 0) {
      ASSERT_TRUE(store_->AcknowledgeLead("a", lead).ok());
    }
  }
  ASSERT_EQ(erased.size(), 2u);
  ASSERT_EQ(erased[0], erased[1]) << "the second submission merged into the first";
  const std::string sealed =
      Column(absl::StrCat("SELECT hex(sealed) FROM leads WHERE lead_id = '", erased[0], "'"))[0];
  ASSERT_GT(sealed.size(), 200u);
  const std::string needle = absl::HexStringToBytes(sealed);
  // Any 16 bytes of the ciphertext would do: search for each such slice.
  const auto holds_any_slice = [&](const std::string& haystack) {
    for (size_t at = 0; at + 16 <= needle.size(); at += 16) {
      if (haystack.find(needle.substr(at, 16)) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(holds_any_slice(FileBytes(path()) + FileBytes(path() + "-wal")));

  ASSERT_EQ(store_->EraseCaller("+12127365017").value_or(99), 1u);
  EXPECT_FALSE(holds_any_slice(FileBytes(path()))) << "the database file";
  EXPECT_FALSE(holds_any_slice(FileBytes(path() + "-wal"))) << "the WAL";
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u);
  const std::string phone_hash = TestCipher().PhoneHash("+12127365017");
  EXPECT_EQ(FileBytes(path()).find(phone_hash), std::string::npos) << "the keyed phone hash";
}

TEST_F(PrivacyTest, PurgeDeletesLeadsLastSubmittedBeforeTheCutoffWithAllTheirRows) {
  AddProvider("a");
  const absl::Time start = clock_.Now();
  Submission old_one = TestSubmission(kPhone);
  old_one.request_id = "old";
  const std::string old_lead = NewLead(old_one);
  ASSERT_TRUE(store_->AcknowledgeLead("a", old_lead).ok());
  ASSERT_TRUE(store_->RecordContactAttempt("a", old_lead, ContactOutcome::kReached, "").ok());
  const std::string resubmitted = NewLead(TestSubmission(kOtherPhone));
  clock_.Advance(absl::Hours(20));
  ASSERT_EQ(NewLead(TestSubmission(kOtherPhone)), resubmitted) << "merged: last submitted now";
  clock_.Advance(absl::Hours(24 * 10));
  const std::string recent = NewLead(TestSubmission("+12127365222"));
  const uint64_t head = store_->head_sequence();

  EXPECT_EQ(store_->PurgeLeads(start + absl::Hours(1)).value_or(99), 1u);
  EXPECT_EQ(store_->GetLead(old_lead, "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetLeadEvidence(old_lead).status().code(), absl::StatusCode::kNotFound);
  for (const char* table : {"lead_events", "contact_attempts", "submissions"}) {
    EXPECT_EQ(
        Query(absl::StrCat("SELECT count(*) FROM ", table, " WHERE lead_id = '", old_lead, "'")), 0)
        << table;
  }
  EXPECT_TRUE(store_->GetLead(resubmitted, "").ok());
  EXPECT_TRUE(store_->GetLead(recent, "").ok());
  EXPECT_EQ(store_->PurgeLeads(start + absl::Hours(1)).value_or(99), 0u) << "a repeat";
  EXPECT_EQ(store_->head_sequence(), head);
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u);

  // Sequences are never reused, even once the newest events were purged.
  clock_.Advance(absl::Seconds(1));  // `recent` is now last submitted before the cutoff too.
  ASSERT_EQ(store_->PurgeLeads(clock_.Now()).value_or(99), 2u);
  EXPECT_EQ(Query("SELECT count(*) FROM lead_events"), 0);
  NewLead(TestSubmission(kPhone));
  EXPECT_EQ(store_->head_sequence(), head + 1);
}

TEST_F(PrivacyTest, PurgeGoesThroughEveryBatch) {
  for (int i = 0; i < Store::kPurgeBatch * 2 + 7; ++i) {
    NewLead(TestSubmission(absl::StrCat("+1212736", 5000 + i)));
  }
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(store_->PurgeLeads(clock_.Now()).value_or(0), Store::kPurgeBatch * 2u + 7u);
  EXPECT_EQ(Query("SELECT count(*) FROM leads"), 0);
}

}  // namespace
}  // namespace intake::store
