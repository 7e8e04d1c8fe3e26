#include "server/store/retention_sweeper.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

using ::testing::ElementsAre;

class RetentionSweeperTest : public StoreFixture {
 protected:
  static RetentionSweeper::Options Options(absl::Duration retention, int step_rows = 100) {
    RetentionSweeper::Options options;
    options.pii_retention = retention;
    options.step_rows = step_rows;
    options.pause = absl::ZeroDuration();
    return options;
  }
  int64_t State(const std::string& lead_id) {
    return Query(absl::StrCat("SELECT state FROM leads WHERE lead_id = '", lead_id, "'"));
  }
};

TEST_F(RetentionSweeperTest, ErasesOldLeadsAndExpiredQuarantineAndNothingElse) {
  AddProvider("a");
  const std::string old_lead = NewLead(TestSubmission("+12127365001"));
  const std::string opted_out = NewLead(TestSubmission("+12127365002"));
  ASSERT_TRUE(store_->OptOutCaller("+12127365002").ok());
  ASSERT_TRUE(Submit(TestSubmission("+12127365003"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(24 * 5));
  const std::string resubmitted = NewLead(TestSubmission("+12127365004"));
  ASSERT_TRUE(Submit(TestSubmission("+12127365005"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(23));
  ASSERT_EQ(NewLead(TestSubmission("+12127365004")), resubmitted) << "merged: last submitted now";
  clock_.Advance(absl::Hours(25) + absl::Minutes(1));  // The first bot has expired, not the second.
  const std::string recent = NewLead(TestSubmission("+12127365006"));

  // The cutoff falls after `resubmitted` was created and before it was last submitted.
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::Hours(36)));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  ASSERT_TRUE(sweep.status.ok()) << sweep.status;
  EXPECT_EQ(sweep.erased_leads, 2);
  EXPECT_EQ(sweep.deleted_quarantined, 1);
  EXPECT_EQ(State(old_lead), static_cast<int>(LeadState::kErased));
  EXPECT_EQ(State(opted_out), static_cast<int>(LeadState::kErased)) << "opted out, data kept";
  EXPECT_EQ(State(resubmitted), static_cast<int>(LeadState::kNew));
  EXPECT_EQ(State(recent), static_cast<int>(LeadState::kNew));
  EXPECT_EQ(store_->GetLead(old_lead, "")->phone, "");
  EXPECT_EQ(store_->GetLead(recent, "")->phone, "+12127365006");
  EXPECT_EQ(
      Query(absl::StrCat("SELECT length(phone_hash) FROM leads WHERE lead_id = '", old_lead, "'")),
      0)
      << "nothing links it to the number, as after EraseCaller";
  EXPECT_THAT(Column(absl::StrCat("SELECT type || ':' || provider_id FROM lead_events "
                                  "WHERE lead_id = '",
                                  old_lead, "' ORDER BY sequence")),
              ElementsAre("1:a", "5:a"))
      << "its provider hears, as with EraseCaller";
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 1);
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u) << "the WAL was emptied";
  EXPECT_GT(sweep.longest_hold, absl::ZeroDuration());

  const RetentionSweeper::Sweep again = sweeper.SweepOnce();
  EXPECT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(again.erased_leads + again.deleted_quarantined, 0) << "nothing is due any more";
}

TEST_F(RetentionSweeperTest, GoesStepByStep) {
  for (int i = 0; i < 7; ++i) NewLead(TestSubmission(absl::StrCat("+1212736500", i)));
  clock_.Advance(absl::Hours(2));
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::Hours(1), /*step_rows=*/3));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  EXPECT_EQ(sweep.erased_leads, 7);
  EXPECT_EQ(sweep.steps, 3 + 1) << "3, 3 and 1 leads, then one quarantine step";
  EXPECT_EQ(Query("SELECT count(*) FROM leads WHERE sealed IS NOT NULL"), 0);
}

TEST_F(RetentionSweeperTest, ZeroRetentionKeepsLeadsButStillExpiresTheQuarantine) {
  AddProvider("a");
  const std::string lead = NewLead(TestSubmission());
  ASSERT_TRUE(Submit(TestSubmission("+12127365009"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(24 * 365));
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::ZeroDuration()));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  EXPECT_EQ(sweep.erased_leads, 0);
  EXPECT_EQ(sweep.deleted_quarantined, 1);
  EXPECT_EQ(State(lead), static_cast<int>(LeadState::kNew));
}

TEST_F(RetentionSweeperTest, TheBackgroundThreadSweepsAtStartAndEveryInterval) {
  AddProvider("a");
  const std::string first = NewLead(TestSubmission("+12127365001"));
  clock_.Advance(absl::Hours(2));
  const std::string second = NewLead(TestSubmission("+12127365002"));
  absl::Mutex mu;
  std::vector<int64_t> erased;  // Per reported sweep.
  RetentionSweeper::Options options = Options(absl::Hours(1));
  options.interval = absl::Milliseconds(10);
  options.on_sweep = [&](const RetentionSweeper::Sweep& sweep) {
    absl::MutexLock lock(&mu);
    erased.push_back(sweep.erased_leads);
  };
  RetentionSweeper sweeper(store_.get(), &clock_, options);
  sweeper.Start();
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](std::vector<int64_t>* e) { return e->size() == 1; }, &erased),
                            absl::Seconds(60)));
    EXPECT_THAT(erased, ElementsAre(1)) << "at start: the first lead only";
  }
  EXPECT_EQ(State(first), static_cast<int>(LeadState::kErased));
  EXPECT_EQ(State(second), static_cast<int>(LeadState::kNew));
  clock_.Advance(absl::Hours(2));
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](std::vector<int64_t>* e) { return e->size() == 2; }, &erased),
                            absl::Seconds(60)));
    EXPECT_THAT(erased, ElementsAre(1, 1)) << "a later sweep: the second";
  }
  sweeper.Stop();
  sweeper.Stop();  // Idempotent.
  EXPECT_EQ(State(second), static_cast<int>(LeadState::kErased));
}

// The step's query must use the partial index, or every step would scan the erased leads.
TEST_F(RetentionSweeperTest, DueLeadsAreFoundThroughAnIndexOfLeadsWithData) {
  SQLite::Database db(path(), SQLite::OPEN_READONLY);
  SQLite::Statement plan(db,
                         "EXPLAIN QUERY PLAN SELECT lead_id FROM leads WHERE sealed IS NOT NULL "
                         "AND last_submit_time_us < 0 ORDER BY last_submit_time_us LIMIT 100");
  ASSERT_TRUE(plan.executeStep());
  EXPECT_NE(plan.getColumn(3).getString().find("leads_with_data"), std::string::npos)
      << plan.getColumn(3).getString();
}

}  // namespace
}  // namespace intake::store
