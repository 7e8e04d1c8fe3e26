#include <sodium.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/rows.h"
#include "server/store/store.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {

StoreOptions TestOptions(const Clock* clock);  // store_test.cc

namespace {

Submission ValidSubmission(const std::string& phone = "+12127365000") {
  Submission s;
  s.phone = phone;
  s.caller_name = "Jordan";
  s.region = "FL";
  s.consent_granted = true;
  s.consent_text = "I agree.";
  return s;
}

class SubmissionsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    StoreOptions options = TestOptions(&clock_);
    options.on_events_committed = [this](uint64_t head, const std::vector<std::string>&) {
      notified_head_ = head;
    };
    auto store = Store::Open(dir_.File("intake.db"), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  absl::StatusOr<SubmitResult> Submit(Submission s, bool bot = false) {
    absl::Notification done;
    absl::StatusOr<SubmitResult> result;
    store_->Submit(std::move(s), bot, [&](absl::StatusOr<SubmitResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }
  int64_t Query(const std::string& sql) {
    SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }
  void AddProvider(const std::string& id, ProviderState state = ProviderState::kActive) {
    Provider p;
    p.provider_id = id;
    p.display_name = id;
    p.state = state;
    ASSERT_TRUE(store_->CreateProvider(p).ok());
  }

  intake::testing::TempDir dir_;
  FakeClock clock_;
  std::atomic<uint64_t> notified_head_{0};
  std::unique_ptr<Store> store_;
};

TEST_F(SubmissionsTest, NewLeadAppendsAnEventAndNotifiesTheHead) {
  auto result = Submit(ValidSubmission());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, SubmissionOutcome::kNewLead);
  EXPECT_FALSE(result->lead_id.empty());
  EXPECT_EQ(store_->head_sequence(), 1u);
  EXPECT_EQ(notified_head_.load(), 1u);
  EXPECT_EQ(Query("SELECT count(*) FROM lead_events WHERE type = 1"), 1);
}

TEST_F(SubmissionsTest, DedupWindowSlidesWithTheLastSubmission) {
  const std::string first = Submit(ValidSubmission())->lead_id;
  clock_.Advance(absl::Hours(23));
  auto merged = Submit(ValidSubmission());
  EXPECT_EQ(merged->outcome, SubmissionOutcome::kMerged);
  EXPECT_EQ(merged->lead_id, first);
  clock_.Advance(absl::Hours(23));  // 46 h after the first, 23 h after the last.
  EXPECT_EQ(Submit(ValidSubmission())->lead_id, first);
  clock_.Advance(absl::Hours(24) + absl::Seconds(1));
  auto fresh = Submit(ValidSubmission());
  EXPECT_EQ(fresh->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(fresh->lead_id, first);
  EXPECT_EQ(Query("SELECT count(*) FROM leads"), 2);
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'duplicates_merged'"), 2);
}

// "Within" the window includes its edge: a resubmission exactly dedup_window after the last
// one is merged; a microsecond later it is a new lead.
TEST_F(SubmissionsTest, DedupWindowIncludesItsEdge) {
  const std::string first = Submit(ValidSubmission())->lead_id;
  clock_.Advance(absl::Hours(24));
  auto at_edge = Submit(ValidSubmission());
  ASSERT_TRUE(at_edge.ok()) << at_edge.status();
  EXPECT_EQ(at_edge->outcome, SubmissionOutcome::kMerged);
  EXPECT_EQ(at_edge->lead_id, first);
  clock_.Advance(absl::Hours(24) + absl::Microseconds(1));
  auto past_edge = Submit(ValidSubmission());
  ASSERT_TRUE(past_edge.ok()) << past_edge.status();
  EXPECT_EQ(past_edge->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(past_edge->lead_id, first);
}

TEST_F(SubmissionsTest, EachLeadKeepsTheHashOfItsOwnConsentText) {
  // Alternating texts from one thread, which keeps the hash of the last text it saw.
  const std::string texts[] = {"I agree.", "I agree to be called.", "I agree."};
  for (int i = 0; i < 3; ++i) {
    Submission s = ValidSubmission(absl::StrCat("+1212736500", i));
    s.consent_text = texts[i];
    auto result = Submit(s);
    ASSERT_TRUE(result.ok()) << result.status();
    auto evidence = store_->GetLeadEvidence(result->lead_id);
    ASSERT_TRUE(evidence.ok()) << evidence.status();
    std::string expected(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(expected.data()),
                       reinterpret_cast<const unsigned char*>(texts[i].data()), texts[i].size());
    EXPECT_EQ(evidence->consent_text_sha256, expected) << texts[i];
  }
  EXPECT_EQ(Query("SELECT count(*) FROM consent_texts"), 2);
}

TEST_F(SubmissionsTest, BotsAreQuarantinedWithoutLeadOrEvent) {
  auto result = Submit(ValidSubmission(), /*bot=*/true);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, SubmissionOutcome::kBot);
  EXPECT_EQ(Query("SELECT count(*) FROM quarantine"), 1);
  EXPECT_EQ(Query("SELECT count(*) FROM leads"), 0);
  EXPECT_EQ(store_->head_sequence(), 0u);
  EXPECT_EQ(notified_head_.load(), 0u) << "no event, no wake-up";
}

TEST_F(SubmissionsTest, RequestIdReplaysOrRefuses) {
  Submission s = ValidSubmission();
  s.request_id = "r-1";
  auto first = Submit(s);
  auto again = Submit(s);
  EXPECT_EQ(again->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(again->submission_id, first->submission_id);
  EXPECT_EQ(again->lead_id, first->lead_id);
  s.caller_name = "Someone else";
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kInvalidArgument);
  s = ValidSubmission();
  s.request_id = "r-1";
  EXPECT_EQ(Submit(s, /*bot=*/true).status().code(), absl::StatusCode::kInvalidArgument)
      << "the honeypot verdict is part of the payload";
  EXPECT_EQ(Query("SELECT count(*) FROM submissions"), 1);
}

// Payload hashes recorded before they were keyed are emptied by a migration; a retry of such
// a request_id replays its first outcome, whatever it carries.
TEST_F(SubmissionsTest, ARequestIdWithoutAPayloadHashReplays) {
  Submission s = ValidSubmission();
  s.request_id = "r-1";
  auto first = Submit(s);
  ASSERT_TRUE(first.ok()) << first.status();
  store_.reset();
  {
    SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READWRITE);
    db.exec("UPDATE submissions SET payload_sha256 = X''");
  }
  Open();
  s.caller_name = "Someone else";
  auto again = Submit(s);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(again->submission_id, first->submission_id);
  EXPECT_EQ(again->lead_id, first->lead_id);
  EXPECT_EQ(Query("SELECT count(*) FROM submissions"), 1);
}

// The persistent counters by name, as Counters() reports them.
std::map<std::string, int64_t> CountersOf(Store& store) {
  auto counters = store.Counters();
  EXPECT_TRUE(counters.ok()) << counters.status();
  std::map<std::string, int64_t> out;
  if (counters.ok()) out.insert(counters->begin(), counters->end());
  return out;
}

TEST_F(SubmissionsTest, EveryAcceptedCallCountsAsASubmissionReplaysIncluded) {
  Submission s = ValidSubmission();
  s.request_id = "r-1";
  ASSERT_TRUE(Submit(s).ok());
  ASSERT_TRUE(Submit(s).ok());  // Replayed: nothing changes, but it is a call received.
  ASSERT_TRUE(Submit(ValidSubmission()).ok());        // Merged.
  ASSERT_TRUE(Submit(ValidSubmission(), true).ok());  // Bot.
  const std::map<std::string, int64_t> counters = CountersOf(*store_);
  EXPECT_EQ(counters.at("submissions"), 4);
  EXPECT_EQ(counters.at("leads"), 1);
  EXPECT_EQ(counters.at("duplicates_merged"), 1);
  EXPECT_EQ(counters.at("bot_submissions"), 1);
}

TEST_F(SubmissionsTest, RefusedCallsCountAtOnceAndSurviveAReopen) {
  ASSERT_TRUE(Submit(ValidSubmission()).ok());
  store_->CountRefusedSubmission(RefusedSubmission::kInvalid);
  store_->CountRefusedSubmission(RefusedSubmission::kInvalid);
  store_->CountRefusedSubmission(RefusedSubmission::kRateLimited);
  store_->CountRefusedSubmission(RefusedSubmission::kOther);
  std::map<std::string, int64_t> counters = CountersOf(*store_);
  EXPECT_EQ(counters.at("submissions"), 5);
  EXPECT_EQ(counters.at("invalid_submissions"), 2);
  EXPECT_EQ(counters.at("rate_limited"), 1);

  store_->CountRefusedSubmission(RefusedSubmission::kInvalid);  // Still in memory at close.
  store_.reset();
  Open();
  counters = CountersOf(*store_);
  EXPECT_EQ(counters.at("submissions"), 6);
  EXPECT_EQ(counters.at("invalid_submissions"), 3);
}

TEST_F(SubmissionsTest, RefusedCallsReachTheDiskWithoutAnyOtherWrite) {
  store_->CountRefusedSubmission(RefusedSubmission::kInvalid);
  // No Counters() call and no other write: the count must still reach the file, read here by
  // another connection, within refused_count_delay (1 s); the deadline is generous.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Query("SELECT value FROM counters WHERE name = 'invalid_submissions'") == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'invalid_submissions'"), 1);
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'submissions'"), 1);
}

TEST_F(SubmissionsTest, AFloodOfRefusalsCostsOneCommitNotOneEach) {
  ASSERT_TRUE(Submit(ValidSubmission()).ok());
  const std::string wal = dir_.File("intake.db-wal");
  const uintmax_t before = std::filesystem::file_size(wal);
  for (int i = 0; i < 1000; ++i) store_->CountRefusedSubmission(RefusedSubmission::kRateLimited);
  EXPECT_EQ(CountersOf(*store_).at("rate_limited"), 1000);
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'submissions'"), 1001);
  // Every commit appends at least one 4 KiB frame to the WAL; a commit per refusal would have
  // grown it by megabytes.
  EXPECT_LE(std::filesystem::file_size(wal) - before, uintmax_t{4} * (4096 + 24));
}

// Every lead once, newest first, whatever the page size, and also when many leads share one
// create_time (the clock stands still here: ties are ordered by lead_id).
TEST_F(SubmissionsTest, ListLeadsPagesNeitherRepeatNorSkipWithinOneMicrosecond) {
  AddProvider("p1");
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(Submit(ValidSubmission("+1212736510" + std::to_string(i))).ok());
  }
  clock_.Advance(absl::Microseconds(1));
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Submit(ValidSubmission("+1212736520" + std::to_string(i))).ok());
  }
  LeadFilter filter;
  filter.provider_id = "p1";
  auto everything = store_->ListLeads(filter, 1000, "");
  ASSERT_TRUE(everything.ok()) << everything.status();
  ASSERT_EQ(everything->items.size(), 13u);
  EXPECT_EQ(everything->next_after, "");
  std::vector<std::string> all;
  for (const Lead& lead : everything->items) all.push_back(lead.lead_id);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  for (size_t i = 1; i < everything->items.size(); ++i) {
    EXPECT_GE(everything->items[i - 1].create_time, everything->items[i].create_time);
  }
  for (int page_size : {1, 2, 3, 5, 6, 7, 12, 13}) {
    std::vector<std::string> paged;
    std::string after;
    for (int pages = 0; pages <= 13; ++pages) {
      auto page = store_->ListLeads(filter, page_size, after);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_LE(page->items.size(), static_cast<size_t>(page_size));
      for (const Lead& lead : page->items) paged.push_back(lead.lead_id);
      after = page->next_after;
      if (after.empty()) break;
    }
    EXPECT_EQ(paged, all) << "page_size " << page_size;
  }
}

TEST_F(SubmissionsTest, UnknownListingStoresNothing) {
  Submission s = ValidSubmission();
  s.listing_id = "nowhere";
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Query("SELECT count(*) FROM submissions"), 0);
  EXPECT_EQ(Query("SELECT value FROM counters WHERE name = 'submissions'"), 0);
}

TEST_F(SubmissionsTest, PausedOwnerFallsBackToRotation) {
  AddProvider("owner", ProviderState::kPaused);
  AddProvider("other");
  ASSERT_TRUE(store_->CreateListing({"l-1", "owner", "Center", "FL", {}}).ok());
  Submission s = ValidSubmission();
  s.listing_id = "l-1";
  ASSERT_TRUE(Submit(s).ok());
  SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READONLY);
  SQLite::Statement lead(db, "SELECT provider_id, routing_reason, state FROM leads");
  ASSERT_TRUE(lead.executeStep());
  EXPECT_EQ(lead.getColumn(0).getString(), "other");
  EXPECT_EQ(lead.getColumn(1).getInt(), 5);  // LISTING_OWNER_PAUSED
  EXPECT_EQ(lead.getColumn(2).getInt(), static_cast<int>(LeadState::kNew));
}

TEST_F(SubmissionsTest, DailyCapCountsTheProvidersLocalDay) {
  Provider capped;
  capped.provider_id = "capped";
  capped.display_name = "Capped";
  capped.daily_cap = 2;
  capped.time_zone = "America/Los_Angeles";
  ASSERT_TRUE(store_->CreateProvider(capped).ok());
  clock_.Set(
      absl::FromCivil(absl::CivilSecond(2026, 3, 2, 10, 0, 0), absl::FixedTimeZone(-8 * 3600)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Submit(ValidSubmission("+1212736500" + std::to_string(i))).ok());
  }
  EXPECT_EQ(Query("SELECT count(*) FROM leads WHERE provider_id = 'capped'"), 2);
  EXPECT_EQ(Query("SELECT count(*) FROM leads WHERE state = 2"), 1) << "third: unassigned";
  clock_.Advance(absl::Hours(14));  // 00:00 the next local day.
  ASSERT_TRUE(Submit(ValidSubmission("+12127365009")).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM leads WHERE provider_id = 'capped'"), 3);
}

// Rotation orders by the last assignment, whoever made it: a lead ops gave to "alpha" makes
// "bravo", who never had one, next in line.
TEST_F(SubmissionsTest, RotationCountsAssignmentsOpsMade) {
  // Before any provider exists: UNASSIGNED, for ops to place.
  const std::string unassigned = Submit(ValidSubmission("+12127365001"))->lead_id;
  AddProvider("alpha");
  AddProvider("bravo");
  clock_.Advance(absl::Minutes(1));
  auto manual = store_->ReassignLead(unassigned, "alpha");
  ASSERT_TRUE(manual.ok()) << manual.status();
  clock_.Advance(absl::Minutes(1));
  const std::string next = Submit(ValidSubmission("+12127365002"))->lead_id;
  EXPECT_EQ(store_->GetLead(next, "").value().provider_id, "bravo")
      << "alpha was assigned a lead a minute ago; bravo never was";
  clock_.Advance(absl::Minutes(1));
  const std::string after = Submit(ValidSubmission("+12127365003"))->lead_id;
  EXPECT_EQ(store_->GetLead(after, "").value().provider_id, "alpha");
}

// The cap counts assignments of the provider's day: a lead ops moved away still counts, and
// one ops gave it counts too.
TEST_F(SubmissionsTest, DailyCapCountsAssignmentsNotLeadsHeldNow) {
  Provider capped;
  capped.provider_id = "capped";
  capped.display_name = "Capped";
  capped.daily_cap = 1;
  capped.regions = {"FL"};
  ASSERT_TRUE(store_->CreateProvider(capped).ok());
  Provider elsewhere;
  elsewhere.provider_id = "elsewhere";
  elsewhere.display_name = "Elsewhere";
  elsewhere.regions = {"TX"};
  ASSERT_TRUE(store_->CreateProvider(elsewhere).ok());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0),
                             absl::FixedTimeZone(-5 * 3600)));  // 09:00 in New York.

  const std::string first = Submit(ValidSubmission("+12127365001"))->lead_id;
  ASSERT_EQ(store_->GetLead(first, "").value().provider_id, "capped");
  ASSERT_TRUE(store_->ReassignLead(first, "elsewhere").ok());  // capped holds none now.
  const std::string second = Submit(ValidSubmission("+12127365002"))->lead_id;
  const Lead refused = store_->GetLead(second, "").value();
  EXPECT_EQ(refused.state, LeadState::kUnassigned) << "capped had its one lead of the day";
  EXPECT_EQ(refused.routing_detail,
            "no eligible provider; skipped: capped (cap 1 reached), elsewhere (does not serve FL)");

  // The next local day starts afresh; a lead ops give it then uses up that day's cap.
  clock_.Advance(absl::Hours(15));  // 00:00 the next day in New York.
  ASSERT_TRUE(store_->ReassignLead(second, "capped").ok());
  const std::string third = Submit(ValidSubmission("+12127365003"))->lead_id;
  EXPECT_EQ(store_->GetLead(third, "").value().state, LeadState::kUnassigned)
      << "ops' assignment counts against the cap";
  EXPECT_TRUE(store_->ReassignLead(third, "capped").ok()) << "the cap limits routing, not ops";
  clock_.Advance(absl::Hours(24));
  const std::string fourth = Submit(ValidSubmission("+12127365004"))->lead_id;
  EXPECT_EQ(store_->GetLead(fourth, "").value().provider_id, "capped");
}

constexpr uint64_t kAll = UINT64_MAX;  // No upper bound.

// One line per event: what a stream would send of it.
std::vector<std::string> Describe(const std::vector<EventWithLead>& events) {
  std::vector<std::string> out;
  for (const EventWithLead& item : events) {
    const LeadEvent& e = item.event;
    std::string line = absl::StrCat(e.sequence, " ", static_cast<int>(e.type), " ", e.lead_id,
                                    " for '", e.provider_id, "': ");
    if (!item.lead) {
      absl::StrAppend(&line, "no lead");
    } else {
      const Lead& l = *item.lead;
      absl::StrAppend(&line, l.lead_id, " owner '", l.provider_id, "' phone '", l.phone, "' state ",
                      static_cast<int>(l.state), " count ", l.submission_count, " acked ",
                      l.acknowledge_time.has_value(), " contacted ",
                      l.first_contact_time.has_value());
    }
    out.push_back(std::move(line));
  }
  return out;
}

TEST_F(SubmissionsTest, LiveReadersFindTheLastCommitsInMemoryExactlyAsOnDisk) {
  AddProvider("alpha");
  AddProvider("bravo");
  ASSERT_TRUE(Submit(ValidSubmission("+12127365001")).ok());
  EXPECT_EQ(store_->ReadRecentEvents(0, "", 100, kAll), std::nullopt)
      << "without a live reader the writer keeps nothing";

  store_->AddLiveReader();
  const uint64_t start = store_->head_sequence();
  const std::string first = Submit(ValidSubmission("+12127365002"))->lead_id;
  ASSERT_TRUE(Submit(ValidSubmission("+12127365003")).ok());
  ASSERT_TRUE(Submit(ValidSubmission("+12127365002")).ok());  // A duplicate: RESUBMITTED.
  const std::string owner = store_->GetLead(first, "").value().provider_id;
  const std::string other = owner == "alpha" ? "bravo" : "alpha";
  ASSERT_TRUE(store_->ReassignLead(first, other).ok());
  const std::string third = Submit(ValidSubmission("+12127365004"))->lead_id;
  // Changes that append no event: the kept events show them too, as the disk does.
  ASSERT_TRUE(store_->AcknowledgeLead(other, first).ok());
  const std::string third_owner = store_->GetLead(third, "").value().provider_id;
  ASSERT_TRUE(store_->RecordContactAttempt(third_owner, third, ContactOutcome::kNoAnswer, "").ok());

  for (const std::string reader : {"", "alpha", "bravo"}) {
    std::optional<RecentRead> memory = store_->ReadRecentEvents(start, reader, 100, kAll);
    ASSERT_NE(memory, std::nullopt) << reader;
    auto disk = store_->ReadEvents(start, reader, 100);
    ASSERT_TRUE(disk.ok()) << disk.status();
    EXPECT_EQ(Describe(memory->events), Describe(*disk)) << "reader '" << reader << "'";
    EXPECT_EQ(memory->through, store_->head_sequence());
    // Page by page too.
    memory = store_->ReadRecentEvents(start, reader, 2, kAll);
    disk = store_->ReadEvents(start, reader, 2);
    ASSERT_NE(memory, std::nullopt);
    EXPECT_EQ(Describe(memory->events), Describe(*disk)) << "reader '" << reader << "'";
  }
  std::optional<RecentRead> old_owner = store_->ReadRecentEvents(start, owner, 100, kAll);
  ASSERT_FALSE(old_owner->events.empty());
  EXPECT_TRUE(old_owner->events.front().lead->phone.empty())
      << "the lead is no longer " << owner << "'s: its id only";
  EXPECT_EQ(store_->ReadRecentEvents(start - 1, "", 100, kAll), std::nullopt)
      << "an event committed before the first live reader is on disk only";

  store_->RemoveLiveReader();
  ASSERT_TRUE(Submit(ValidSubmission("+12127365005")).ok());
  EXPECT_EQ(store_->ReadRecentEvents(start, "", 100, kAll), std::nullopt)
      << "the last reader gone, the writer stops keeping events";
}

TEST_F(SubmissionsTest, HeadSequenceSurvivesReopen) {
  ASSERT_TRUE(Submit(ValidSubmission("+12127365001")).ok());
  ASSERT_TRUE(Submit(ValidSubmission("+12127365002")).ok());
  store_.reset();
  Open();
  EXPECT_EQ(store_->head_sequence(), 2u);
}

// The figures rescan the window every few seconds when asked: the scan must read the index
// only, never the lead rows with their sealed data (ten times slower over a million leads).
TEST_F(SubmissionsTest, TheWindowScanIsCoveredByAnIndex) {
  SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READONLY);
  // The query of Store::ListLeadTimesSince.
  SQLite::Statement plan(db,
                         "EXPLAIN QUERY PLAN SELECT provider_id, create_time_us, "
                         "acknowledge_time_us, first_contact_time_us, lead_id FROM leads "
                         "WHERE (create_time_us, lead_id) > (0, '') "
                         "ORDER BY create_time_us, lead_id LIMIT 4097");
  ASSERT_TRUE(plan.executeStep());
  EXPECT_NE(plan.getColumn(3).getString().find("COVERING INDEX leads_by_create_time"),
            std::string::npos)
      << plan.getColumn(3).getString();
}

TEST_F(SubmissionsTest, NewLeadsSayHowTheyWereRouted) {
  auto unassigned = Submit(ValidSubmission("+12127365001"));
  ASSERT_TRUE(unassigned.ok()) << unassigned.status();
  EXPECT_EQ(unassigned->routing, RoutingReason::kNoEligibleProvider);
  AddProvider("acme");
  auto rotated = Submit(ValidSubmission("+12127365002"));
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->routing, RoutingReason::kRotation);
  auto merged = Submit(ValidSubmission("+12127365002"));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->outcome, SubmissionOutcome::kMerged);
  EXPECT_FALSE(merged->routing.has_value());
}

TEST_F(SubmissionsTest, GaugesCountWaitingLeadsByProviderWithTheOldest) {
  auto empty = store_->Gauges();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->unassigned_leads, 0);
  EXPECT_TRUE(empty->unacknowledged.empty());
  EXPECT_GT(empty->database_bytes, 0);
  EXPECT_GT(empty->filesystem_bytes, 0);

  ASSERT_TRUE(Submit(ValidSubmission("+12127365001")).ok());  // No provider yet: UNASSIGNED.
  AddProvider("acme");
  const absl::Time first = clock_.Now();
  auto a = Submit(ValidSubmission("+12127365002"));
  clock_.Advance(absl::Minutes(3));
  auto b = Submit(ValidSubmission("+12127365003"));
  ASSERT_TRUE(a.ok() && b.ok());

  auto gauges = store_->Gauges();
  ASSERT_TRUE(gauges.ok()) << gauges.status();
  EXPECT_EQ(gauges->unassigned_leads, 1);
  ASSERT_EQ(gauges->unacknowledged.size(), 1u);
  EXPECT_EQ(gauges->unacknowledged[0].first, "acme");
  EXPECT_EQ(gauges->unacknowledged[0].second.count, 2);
  EXPECT_EQ(gauges->unacknowledged[0].second.oldest_create_time, first);
  EXPECT_GT(gauges->wal_bytes, 0);

  // Acknowledged: no longer waiting, and the oldest is now the other one.
  ASSERT_TRUE(store_->AcknowledgeLead("acme", a->lead_id).ok());
  gauges = store_->Gauges();
  ASSERT_TRUE(gauges.ok()) << gauges.status();
  ASSERT_EQ(gauges->unacknowledged.size(), 1u);
  EXPECT_EQ(gauges->unacknowledged[0].second.count, 1);
  EXPECT_EQ(gauges->unacknowledged[0].second.oldest_create_time, first + absl::Minutes(3));
}

TEST_F(SubmissionsTest, GaugeQueriesReadOnlyThePartialIndexesOfWaitingLeads) {
  SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READONLY);
  const std::pair<const char*, const char*> cases[] = {
      {rows::kUnassignedLeadsQuery, "COVERING INDEX leads_unassigned"},
      {rows::kWaitingLeadsQuery, "COVERING INDEX leads_unacknowledged"}};
  for (const auto& [query, index] : cases) {
    SQLite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + query);
    std::string details;
    while (plan.executeStep()) details += plan.getColumn(3).getString() + "\n";
    EXPECT_NE(details.find(index), std::string::npos) << query << "\n" << details;
  }
}

}  // namespace
}  // namespace intake::store
