// Store quarantine: listing, release and what a release records.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

using ::testing::ElementsAre;

constexpr char kPhone[] = "+12127365000";

// A bot's submission with every field filled, as validation leaves it.
Submission BotSubmission(const std::string& listing_id = "") {
  Submission s = TestSubmission(kPhone);
  s.listing_id = listing_id;
  s.request_id = "req-1";
  s.honeypot = "Jordan Example";
  s.advertisers = {"Sunrise Recovery", "Blue Harbor"};
  s.form.form_id = "sidebar";
  s.form.page_url = "https://example.org/centers/1";
  s.form.utm_source = "news";
  s.form.utm_medium = "email";
  s.form.utm_campaign = "spring";
  return s;
}

class QuarantineTest : public StoreFixture {
 protected:
  std::string Quarantine(const Submission& s) {
    absl::StatusOr<SubmitResult> result = Submit(s, /*bot=*/true);
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->outcome, SubmissionOutcome::kBot);
    return result.ok() ? result->submission_id : "";
  }
  std::vector<std::string> ListedIds(int limit = 100, const std::string& after = "") {
    absl::StatusOr<Page<QuarantinedSubmission>> page = store_->ListQuarantined(limit, after);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const QuarantinedSubmission& q : page->items) ids.push_back(q.submission_id);
    }
    return ids;
  }
};

TEST_F(QuarantineTest, ListsWhatWasSubmittedNewestFirstUntilItExpires) {
  const absl::Time first_time = clock_.Now();
  const std::string first = Quarantine(BotSubmission());
  clock_.Advance(absl::Hours(1));
  Submission other = BotSubmission();
  other.request_id = "req-2";
  other.phone = "+12127365111";
  const std::string second = Quarantine(other);
  EXPECT_THAT(ListedIds(), ElementsAre(second, first));

  absl::StatusOr<Page<QuarantinedSubmission>> page = store_->ListQuarantined(1, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_THAT(ListedIds(1, page->next_after), ElementsAre(first));
  EXPECT_EQ(store_->ListQuarantined(1, "not a key").status().code(),
            absl::StatusCode::kInvalidArgument);

  const QuarantinedSubmission held = store_->ListQuarantined(100, "")->items[1];
  const Submission expected = BotSubmission();
  EXPECT_TRUE(held.complete);
  EXPECT_EQ(held.create_time, first_time);
  EXPECT_EQ(held.expire_time, first_time + absl::Hours(24 * 7));
  EXPECT_EQ(held.submission.phone, kPhone);
  EXPECT_EQ(held.submission.caller_name, expected.caller_name);
  EXPECT_EQ(held.submission.postal_code, expected.postal_code);
  EXPECT_EQ(held.submission.region, expected.region);
  EXPECT_EQ(held.submission.message, expected.message);
  EXPECT_EQ(held.submission.honeypot, expected.honeypot);
  EXPECT_EQ(held.submission.consent_text, expected.consent_text);
  EXPECT_EQ(held.submission.advertisers, expected.advertisers);
  EXPECT_EQ(held.submission.form.form_id, expected.form.form_id);
  EXPECT_EQ(held.submission.form.page_url, expected.form.page_url);
  EXPECT_EQ(held.submission.form.referrer, expected.form.referrer);
  EXPECT_EQ(held.submission.form.user_agent, expected.form.user_agent);
  EXPECT_EQ(held.submission.form.client_ip, expected.form.client_ip);
  EXPECT_EQ(held.submission.form.utm_source, expected.form.utm_source);
  EXPECT_EQ(held.submission.form.utm_medium, expected.form.utm_medium);
  EXPECT_EQ(held.submission.form.utm_campaign, expected.form.utm_campaign);

  clock_.Set(first_time + absl::Hours(24 * 7));
  EXPECT_THAT(ListedIds(), ElementsAre(second)) << "the first has expired";
  EXPECT_EQ(store_->ReleaseQuarantined(first).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(QuarantineTest, AReleaseBecomesARoutedLeadWithItsEventAndRecord) {
  AddProviderWithListing("a");
  const absl::Time received = clock_.Now();
  const std::string id = Quarantine(BotSubmission("a-listing"));
  clock_.Advance(absl::Hours(2));

  absl::StatusOr<Lead> lead = store_->ReleaseQuarantined(id);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(lead->state, LeadState::kNew);
  EXPECT_EQ(lead->provider_id, "a");
  EXPECT_EQ(lead->routing_reason, RoutingReason::kListingOwner);
  EXPECT_EQ(lead->phone, kPhone);
  EXPECT_EQ(lead->message, BotSubmission().message);
  EXPECT_EQ(lead->form.page_url, BotSubmission().form.page_url);
  EXPECT_EQ(lead->create_time, clock_.Now()) << "the provider hears of it now";
  EXPECT_EQ(store_->GetLeadEvidence(lead->lead_id)->consent_time, received);
  EXPECT_EQ(store_->GetLeadEvidence(lead->lead_id)->advertisers, BotSubmission().advertisers);
  EXPECT_THAT(Column(absl::StrCat("SELECT type || ':' || provider_id FROM lead_events "
                                  "WHERE lead_id = '",
                                  lead->lead_id, "'")),
              ElementsAre("1:a"));
  EXPECT_EQ(store_->head_sequence(), 1u);
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 0);
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'leads'"), 1);
  EXPECT_THAT(ListedIds(), ElementsAre());
  EXPECT_EQ(store_->ReleaseQuarantined(id).status().code(), absl::StatusCode::kNotFound)
      << "released already";

  // The original request, retried, answers as before and now names the lead.
  absl::StatusOr<SubmitResult> retry = Submit(BotSubmission("a-listing"), /*bot=*/true);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(retry->submission_id, id);
  EXPECT_EQ(retry->lead_id, lead->lead_id);
}

TEST_F(QuarantineTest, AReleaseJoinsTheCallersOpenLead) {
  AddProvider("a");
  const std::string open_lead = NewLead(TestSubmission(kPhone));
  const std::string id = Quarantine(BotSubmission());
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<Lead> lead = store_->ReleaseQuarantined(id);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(lead->lead_id, open_lead);
  EXPECT_EQ(lead->submission_count, 2u);
  EXPECT_EQ(lead->last_submit_time, clock_.Now());
  EXPECT_THAT(Column(absl::StrCat("SELECT type FROM lead_events WHERE lead_id = '", open_lead,
                                  "' ORDER BY sequence")),
              ElementsAre("1", "2"));
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'duplicates_merged'"), 1);
}

TEST_F(QuarantineTest, ARowThatKeptOnlyThePersonalDataIsListedButNotReleased) {
  const std::string id = Quarantine(BotSubmission());
  {
    // As an intaked from before this one sealed it: the personal fields alone.
    SQLite::Database db(path(), SQLite::OPEN_READWRITE);
    SQLite::Statement reseal(db, "UPDATE quarantine SET sealed = ?");
    const std::string sealed =
        TestCipher().Seal({"Jordan", kPhone, "33101", "message", "203.0.113.7", "Mozilla/5.0", ""});
    reseal.bind(1, sealed.data(), static_cast<int>(sealed.size()));
    reseal.exec();
  }
  absl::StatusOr<Page<QuarantinedSubmission>> page = store_->ListQuarantined(10, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->items[0].complete);
  EXPECT_EQ(page->items[0].submission.phone, kPhone);
  EXPECT_EQ(page->items[0].submission.consent_text, "");
  EXPECT_EQ(store_->ReleaseQuarantined(id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 1);
}

}  // namespace
}  // namespace intake::store
