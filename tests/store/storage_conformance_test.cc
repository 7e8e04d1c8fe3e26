// Every storage behaviour the services rely on (server/store/storage.h), run against both
// backends: SQLite in a temp dir and PostgreSQL on a private server (tests/testing/pg_server.h),
// so neither can drift from the contract. A behaviour a backend does not offer is listed in
// ItIsUnimplementedWhereTheBackendSaysSo, never skipped silently. What one backend promises
// beyond the contract (SQLite: no file keeps an erased lead's bytes) is tested beside it.
#include <sodium.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/clock.h"
#include "server/store/pii_cipher.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/postgres_store.h"
#include "server/store/retention_sweeper.h"
#include "server/store/storage.h"
#include "server/store/store.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::testing::ElementsAre;

constexpr absl::Duration kDeadline = absl::Seconds(60);

const PiiCipher& Cipher() {
  static const PiiCipher* cipher = PiiCipher::FromKeyHex(PiiCipher::NewKeyHex())->release();
  return *cipher;
}

// What a test needs of a backend: a fresh, empty database behind Storage.
struct Backend {
  std::string name;
  bool postgres = false;
};

class StorageConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    // A weekday noon in New York, so that providers with hours are open.
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 3, 4, 17, 0, 0), absl::UTCTimeZone()));
    if (GetParam().postgres) {
      absl::StatusOr<testing::PgServer*> server = testing::SharedPgServer();
      ASSERT_TRUE(server.ok()) << server.status();
      absl::StatusOr<std::string> database = (*server)->CreateDatabase();
      ASSERT_TRUE(database.ok()) << database.status();
      conninfo_ = (*server)->Uri(*database);
    }
    Open();
  }

  // (Re)opens the store on the test's database.
  void Open() {
    store_.reset();
    auto on_events = [this](uint64_t head, const std::vector<std::string>&) {
      absl::MutexLock lock(&mu_);
      if (head > notified_head_) notified_head_ = head;
    };
    if (GetParam().postgres) {
      postgres::PostgresStoreOptions options;
      options.conninfo = conninfo_;
      options.clock = &clock_;
      options.cipher = &Cipher();
      options.on_events_committed = on_events;
      auto store = postgres::PostgresStore::Open(std::move(options));
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
    } else {
      StoreOptions options;
      options.clock = &clock_;
      options.cipher = &Cipher();
      options.on_events_committed = on_events;
      auto store = Store::Open(dir_.File("intake.db"), options);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
    }
  }

  static Provider MakeProvider(const std::string& id, std::vector<std::string> regions = {}) {
    Provider p;
    p.provider_id = id;
    p.display_name = "Provider " + id;
    p.regions = std::move(regions);
    p.time_zone = "America/New_York";
    return p;
  }

  static Submission MakeSubmission(const std::string& phone, const std::string& listing = "") {
    Submission s;
    s.listing_id = listing;
    s.phone = phone;
    s.caller_name = "Jordan";
    s.postal_code = "33101";
    s.region = "FL";
    s.consent_granted = true;
    s.consent_text = "I agree to be called back.";
    s.advertisers = {"Acme Recovery"};
    s.message = "Please call after 5";
    s.form.form_id = "callback";
    s.form.client_ip = "203.0.113.7";
    s.form.user_agent = "Mozilla/5.0";
    s.form.referrer = "https://example.org/search";
    return s;
  }

  // The lead id of a new (or merged) submission, failing the test if there is none.
  std::string NewLead(Submission s) {
    absl::StatusOr<SubmitResult> result = Submit(std::move(s));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->lead_id : "";
  }

  // A nationwide provider with one listing, "<id>-listing".
  void AddProviderWithListing(const std::string& id) {
    ASSERT_TRUE(store_->CreateProvider(MakeProvider(id)).ok());
    ASSERT_TRUE(store_->CreateListing(Listing{id + "-listing", id, "Center", "FL", {}}).ok());
  }

  LeadState State(const std::string& lead_id) {
    absl::StatusOr<Lead> lead = store_->GetLead(lead_id, "");
    EXPECT_TRUE(lead.ok()) << lead.status();
    return lead.ok() ? lead->state : LeadState::kNew;
  }

  // "<type number>:<provider>" for each event of `lead_id`, oldest first.
  std::vector<std::string> History(const std::string& lead_id) {
    absl::StatusOr<LeadEvidence> evidence = store_->GetLeadEvidence(lead_id);
    EXPECT_TRUE(evidence.ok()) << evidence.status();
    std::vector<std::string> out;
    if (!evidence.ok()) return out;
    for (const LeadEvent& e : evidence->history) {
      out.push_back(absl::StrCat(static_cast<int>(e.type), ":", e.provider_id));
    }
    return out;
  }

  // The integer the first column of the first row of `sql` holds, read from the database
  // itself on a connection of its own. `sql` must be valid on both backends.
  int64_t RawInt(const std::string& sql) {
    if (GetParam().postgres) {
      auto conn = postgres::Connection::Open(conninfo_, "conformance-test");
      EXPECT_TRUE(conn.ok()) << conn.status();
      if (!conn.ok()) return -1;
      auto rows = (*conn)->Exec(sql);
      EXPECT_TRUE(rows.ok()) << rows.status();
      return rows.ok() && rows->rows() == 1 ? rows->Int64(0, 0) : -1;
    }
    SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }
  // Runs `sql` on the database itself, bypassing the store.
  void RawExec(const std::string& sql) {
    if (GetParam().postgres) {
      auto conn = postgres::Connection::Open(conninfo_, "conformance-test");
      ASSERT_TRUE(conn.ok()) << conn.status();
      ASSERT_TRUE((*conn)->ExecScript(sql).ok());
      return;
    }
    SQLite::Database db(dir_.File("intake.db"), SQLite::OPEN_READWRITE);
    db.exec(sql);
  }
  // `bytes` as a blob literal of the backend's SQL.
  std::string BlobLiteral(absl::string_view bytes) const {
    const std::string hex = absl::BytesToHexString(bytes);
    return GetParam().postgres ? absl::StrCat("'\\x", hex, "'::bytea")
                               : absl::StrCat("x'", hex, "'");
  }

  absl::StatusOr<SubmitResult> Submit(Submission s, bool bot = false,
                                      absl::Time deadline = absl::InfiniteFuture()) {
    absl::Notification done;
    absl::StatusOr<SubmitResult> result;
    store_->Submit(std::move(s), bot, deadline, [&](absl::StatusOr<SubmitResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  // Sets up providers p1 (owner of listing l1) and p2, both nationwide.
  void TwoProvidersAndAListing() {
    ASSERT_TRUE(store_->CreateProvider(MakeProvider("p1")).ok());
    ASSERT_TRUE(store_->CreateProvider(MakeProvider("p2")).ok());
    ASSERT_TRUE(store_->CreateListing(Listing{"l1", "p1", "Listing 1", "FL", {}}).ok());
  }

  // Waits until on_events_committed has reported `head` (PostgreSQL reports a moment after
  // the commit, from its listener).
  bool WaitForNotifiedHead(uint64_t head) {
    struct Wait {
      const uint64_t* notified;
      uint64_t head;
      static bool Reached(Wait* w) { return *w->notified >= w->head; }
    };
    absl::MutexLock lock(&mu_);
    Wait wait{&notified_head_, head};
    return mu_.AwaitWithTimeout(absl::Condition(&Wait::Reached, &wait), kDeadline);
  }

  std::vector<EventWithLead> Events(const std::string& provider, uint64_t after = 0) {
    auto events = store_->ReadEvents(after, provider, 1000);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<EventWithLead>();
  }

  // Every page of ListLeadTimesSince, `limit` at a time.
  std::vector<LeadTimes> LeadTimesSince(absl::Time since, int limit = 2) {
    std::vector<LeadTimes> all;
    std::string after;
    do {
      auto page = store_->ListLeadTimesSince(since, limit, after);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->items.size()), limit);
      all.insert(all.end(), page->items.begin(), page->items.end());
      after = page->next_after;
    } while (!after.empty());
    return all;
  }

  int64_t Counter(const std::string& name) {
    auto counters = store_->Counters();
    EXPECT_TRUE(counters.ok()) << counters.status();
    if (!counters.ok()) return -1;
    for (const auto& [n, v] : *counters) {
      if (n == name) return v;
    }
    ADD_FAILURE() << "no counter " << name;
    return -1;
  }

  testing::TempDir dir_;
  std::string conninfo_;  // PostgreSQL's database.
  FakeClock clock_;
  absl::Mutex mu_;
  uint64_t notified_head_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<Storage> store_;
};

TEST_P(StorageConformanceTest, ProvidersRoundTripAndRefuseDuplicatesAndUnknownIds) {
  Provider p = MakeProvider("acme", {"FL", "GA"});
  p.daily_cap = 7;
  p.hours = {{Weekday::kMonday, 540, 1020}, {Weekday::kSaturday, 0, 1440}};
  ASSERT_TRUE(store_->CreateProvider(p).ok());
  EXPECT_EQ(store_->CreateProvider(p).status().code(), absl::StatusCode::kAlreadyExists);
  auto stored = store_->GetProvider("acme");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->regions, p.regions);
  EXPECT_EQ(stored->daily_cap, 7u);
  EXPECT_EQ(stored->hours, p.hours);
  EXPECT_EQ(stored->create_time, clock_.Now());
  EXPECT_EQ(store_->GetProvider("nobody").status().code(), absl::StatusCode::kNotFound);

  clock_.Advance(absl::Minutes(1));
  auto paused = store_->UpdateProvider("acme", [](Provider& q) {
    q.state = ProviderState::kPaused;
    return absl::OkStatus();
  });
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(store_->GetProvider("acme")->state, ProviderState::kPaused);
  EXPECT_EQ(store_->GetProvider("acme")->update_time, clock_.Now());
  EXPECT_EQ(store_->UpdateProvider("acme", [](Provider&) { return absl::AbortedError("no"); })
                .status()
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(
      store_->UpdateProvider("nobody", [](Provider&) { return absl::OkStatus(); }).status().code(),
      absl::StatusCode::kNotFound);

  ASSERT_TRUE(store_->CreateProvider(MakeProvider("beta")).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("zed")).ok());
  auto first = store_->ListProviders(2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].provider_id, "acme");
  EXPECT_EQ(first->next_after, "beta");
  auto second = store_->ListProviders(2, first->next_after);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].provider_id, "zed");
  EXPECT_EQ(second->next_after, "");
}

TEST_P(StorageConformanceTest, ListingsNeedTheirProviderAndListByProvider) {
  TwoProvidersAndAListing();
  EXPECT_EQ(store_->CreateListing(Listing{"l1", "p2", "Again", "FL", {}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateListing(Listing{"l9", "nobody", "X", "FL", {}}).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateListing(Listing{"l2", "p2", "Listing 2", "GA", {}}).ok());
  EXPECT_EQ(store_->GetListing("l2")->provider_id, "p2");
  EXPECT_EQ(store_->GetListing("l9").status().code(), absl::StatusCode::kNotFound);
  auto of_p2 = store_->ListListings(10, "", "p2");
  ASSERT_TRUE(of_p2.ok());
  ASSERT_EQ(of_p2->items.size(), 1u);
  EXPECT_EQ(of_p2->items[0].listing_id, "l2");
  EXPECT_EQ(store_->ListListings(10, "", "")->items.size(), 2u);
}

TEST_P(StorageConformanceTest, TokensAreIssuedRevokedOnceAndListedWhileActive) {
  TwoProvidersAndAListing();
  const std::string hash(32, 'h');
  auto issued = store_->IssueProviderToken("p1", hash);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_FALSE(issued->token_id.empty());
  EXPECT_EQ(store_->IssueProviderToken("nobody", std::string(32, 'x')).status().code(),
            absl::StatusCode::kNotFound);
  auto active = store_->ActiveProviderTokens();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].token_sha256, hash);
  EXPECT_EQ((*active)[0].provider_id, "p1");

  auto revoked = store_->RevokeProviderToken(issued->token_id);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->token_sha256, hash);
  EXPECT_TRUE(store_->RevokeProviderToken(issued->token_id).ok());
  EXPECT_EQ(store_->RevokeProviderToken("tok-nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->ActiveProviderTokens()->empty());
}

TEST_P(StorageConformanceTest, ANewLeadIsStoredSealedRoutedToItsListingAndStreamed) {
  TwoProvidersAndAListing();
  auto result = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, SubmissionOutcome::kNewLead);
  EXPECT_EQ(result->routing, RoutingReason::kListingOwner);
  EXPECT_EQ(result->listing_owner, "p1");

  auto lead = store_->GetLead(result->lead_id, "p1");
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(lead->state, LeadState::kNew);
  EXPECT_EQ(lead->provider_id, "p1");
  EXPECT_EQ(lead->phone, "+13055550123");
  EXPECT_EQ(lead->caller_name, "Jordan");
  EXPECT_EQ(lead->message, "Please call after 5");
  EXPECT_EQ(lead->listing_id, "l1");
  EXPECT_EQ(lead->submission_count, 1u);
  EXPECT_EQ(lead->create_time, clock_.Now());
  EXPECT_EQ(store_->GetLead(result->lead_id, "p2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetLead("lead-nope", "").status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(*store_->CommittedHeadSequence(), 1u);  // At once, notified or not.
  ASSERT_TRUE(WaitForNotifiedHead(1));
  EXPECT_EQ(store_->head_sequence(), 1u);
  std::vector<EventWithLead> events = Events("p1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.sequence, 1u);
  EXPECT_EQ(events[0].event.type, LeadEventType::kAssigned);
  ASSERT_TRUE(events[0].lead.has_value());
  EXPECT_EQ(events[0].lead->phone, "+13055550123");
  EXPECT_TRUE(Events("p2").empty());
  EXPECT_EQ(Events("").size(), 1u);
  EXPECT_EQ(Counter("leads"), 1);
  EXPECT_EQ(Counter("submissions"), 1);
}

TEST_P(StorageConformanceTest, ADuplicateMergesWithAResubmittedEventAndOnlyWithinTheWindow) {
  TwoProvidersAndAListing();
  auto first = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Hours(1));
  auto again = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, SubmissionOutcome::kMerged);
  EXPECT_EQ(again->lead_id, first->lead_id);
  EXPECT_NE(again->submission_id, first->submission_id);
  auto lead = store_->GetLead(first->lead_id, "");
  EXPECT_EQ(lead->submission_count, 2u);
  EXPECT_EQ(lead->last_submit_time, clock_.Now());
  std::vector<EventWithLead> events = Events("p1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.type, LeadEventType::kResubmitted);
  EXPECT_EQ(Counter("duplicates_merged"), 1);

  // Another target is another lead; so is the same one after the window.
  auto general = Submit(MakeSubmission("+13055550123"));
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(general->outcome, SubmissionOutcome::kNewLead);
  clock_.Advance(absl::Hours(25));
  auto later = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(later->lead_id, first->lead_id);
}

TEST_P(StorageConformanceTest, ARequestIdReplaysItsFirstResultAndRefusesAnotherPayload) {
  TwoProvidersAndAListing();
  Submission s = MakeSubmission("+13055550123", "l1");
  s.request_id = "req-1";
  auto first = Submit(s);
  ASSERT_TRUE(first.ok());
  auto replay = Submit(s);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(replay->submission_id, first->submission_id);
  EXPECT_EQ(replay->lead_id, first->lead_id);
  EXPECT_EQ(replay->listing_owner, "p1");
  EXPECT_EQ(Events("p1").size(), 1u);
  s.message = "something else";
  EXPECT_EQ(Submit(s).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Counter("submissions"), 2);  // The refusal is counted by the service, not here.
}

TEST_P(StorageConformanceTest, ABotIsQuarantinedWithNoLeadAndNoEvent) {
  TwoProvidersAndAListing();
  auto bot = Submit(MakeSubmission("+13055550123", "l1"), /*bot=*/true);
  ASSERT_TRUE(bot.ok()) << bot.status();
  EXPECT_EQ(bot->outcome, SubmissionOutcome::kBot);
  EXPECT_TRUE(bot->lead_id.empty());
  EXPECT_TRUE(Events("").empty());
  EXPECT_EQ(Counter("bot_submissions"), 1);
  EXPECT_EQ(Counter("leads"), 0);
}

TEST_P(StorageConformanceTest, AnUnknownListingIsNotFoundAndStoresNothing) {
  TwoProvidersAndAListing();
  EXPECT_EQ(Submit(MakeSubmission("+13055550123", "nope")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Events("").empty());
  EXPECT_EQ(Counter("submissions"), 0);
}

TEST_P(StorageConformanceTest, ASubmissionWhoseCallerGaveUpIsNotAppliedAndStoresNothing) {
  TwoProvidersAndAListing();
  Submission s = MakeSubmission("+13055550123", "l1");
  s.request_id = "late-1";
  EXPECT_EQ(Submit(s, /*bot=*/false, absl::Now() - absl::Milliseconds(1)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(Events("").empty());
  EXPECT_EQ(Counter("submissions"), 0);
  EXPECT_EQ(Counter("leads"), 0);
  // Nothing was recorded under its request_id either: the retry is a first submission.
  auto retried = Submit(s, /*bot=*/false, absl::Now() + absl::Minutes(1));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->outcome, SubmissionOutcome::kNewLead);
}

TEST_P(StorageConformanceTest, GeneralLeadsRotateLeastRecentlyAssignedAndUnassignedWithNobody) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p1", {"FL"})).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p2", {"FL"})).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Seconds(1));
    auto r = Submit(MakeSubmission("+1305555012" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->routing, RoutingReason::kRotation);
    order.push_back(store_->GetLead(r->lead_id, "")->provider_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"p1", "p2", "p1", "p2"}));

  Submission texan = MakeSubmission("+13055550199");
  texan.region = "TX";
  auto r = Submit(texan);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->routing, RoutingReason::kNoEligibleProvider);
  auto lead = store_->GetLead(r->lead_id, "");
  EXPECT_EQ(lead->state, LeadState::kUnassigned);
  EXPECT_EQ(lead->provider_id, "");
  EXPECT_EQ(store_->Gauges()->unassigned_leads, 1);
}

TEST_P(StorageConformanceTest, ADailyCapCountsThisBatchesAssignmentsToo) {
  Provider capped = MakeProvider("p1");
  capped.daily_cap = 2;
  ASSERT_TRUE(store_->CreateProvider(capped).ok());
  // Concurrent submissions share batches: the cap must count what the batch assigned.
  std::vector<std::thread> threads;
  threads.reserve(5);
  std::vector<absl::StatusOr<SubmitResult>> results(5);
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = Submit(MakeSubmission("+1305555013" + std::to_string(i))); });
  }
  for (std::thread& t : threads) t.join();
  int assigned = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->routing == RoutingReason::kRotation) ++assigned;
  }
  EXPECT_EQ(assigned, 2);
}

TEST_P(StorageConformanceTest, FeedbackIsScopedStampedOnceAndMovesTheState) {
  TwoProvidersAndAListing();
  auto r = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(r.ok());
  const absl::Time created = clock_.Now();
  EXPECT_EQ(store_->AcknowledgeLead("p2", r->lead_id).status().code(), absl::StatusCode::kNotFound);
  clock_.Advance(absl::Minutes(2));
  auto acked = store_->AcknowledgeLead("p1", r->lead_id);
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(acked->state, LeadState::kAcknowledged);
  EXPECT_EQ(acked->acknowledge_time, clock_.Now());
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(store_->AcknowledgeLead("p1", r->lead_id)->acknowledge_time,
            created + absl::Minutes(2));

  auto contacted = store_->RecordContactAttempt("p1", r->lead_id, ContactOutcome::kNoAnswer, "");
  ASSERT_TRUE(contacted.ok()) << contacted.status();
  EXPECT_EQ(contacted->state, LeadState::kContacted);
  EXPECT_EQ(contacted->first_contact_time, clock_.Now());
  clock_.Advance(absl::Minutes(1));
  auto again = store_->RecordContactAttempt("p1", r->lead_id, ContactOutcome::kReached, "ok");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first_contact_time, created + absl::Minutes(4));
  EXPECT_EQ(again->last_outcome, ContactOutcome::kReached);
  EXPECT_EQ(
      store_->RecordContactAttempt("p2", r->lead_id, ContactOutcome::kReached, "").status().code(),
      absl::StatusCode::kNotFound);

  const std::vector<LeadTimes> times = LeadTimesSince(created);
  ASSERT_EQ(times.size(), 1u);
  EXPECT_EQ(times[0].provider_id, "p1");
  EXPECT_EQ(times[0].acknowledge_time, created + absl::Minutes(2));
  EXPECT_EQ(times[0].first_contact_time, created + absl::Minutes(4));
  EXPECT_TRUE(LeadTimesSince(created + absl::Seconds(1)).empty());
}

TEST_P(StorageConformanceTest, LeadTimesPageTheWindowOldestFirstThroughLeadsOfOneInstant) {
  TwoProvidersAndAListing();
  ASSERT_TRUE(Submit(MakeSubmission("+13055550100")).ok());  // Before the window.
  clock_.Advance(absl::Seconds(1));
  const absl::Time since = clock_.Now();
  // Five leads of one instant, so pages of two split them.
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(Submit(MakeSubmission(absl::StrCat("+1305555010", i), "l1")).ok());
  }
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Submit(MakeSubmission("+13055550106")).ok());
  ASSERT_TRUE(Submit(MakeSubmission("+13055550107", "l1")).ok());

  for (int limit : {1, 2, 3, 7, 100}) {
    const std::vector<LeadTimes> times = LeadTimesSince(since, limit);
    ASSERT_EQ(times.size(), 7u) << "limit " << limit;
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(times[i].create_time, since);
      EXPECT_EQ(times[i].provider_id, "p1");
    }
    EXPECT_EQ(times[5].create_time, since + absl::Seconds(1));
    EXPECT_EQ(times[6].create_time, since + absl::Seconds(1));
  }
  auto last = store_->ListLeadTimesSince(since, 7, "");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->next_after, "") << "a page that ends the window says so";
  EXPECT_EQ(store_->ListLeadTimesSince(since, 2, "not a key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StorageConformanceTest, ListLeadsPagesNewestFirstWithFilters) {
  TwoProvidersAndAListing();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    ids.push_back(Submit(MakeSubmission("+1305555014" + std::to_string(i), "l1"))->lead_id);
  }
  auto first = store_->ListLeads(LeadFilter{"p1", false, std::nullopt}, 2, "");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].lead_id, ids[2]);
  EXPECT_EQ(first->items[1].lead_id, ids[1]);
  auto second = store_->ListLeads(LeadFilter{"p1", false, std::nullopt}, 2, first->next_after);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].lead_id, ids[0]);
  EXPECT_EQ(second->next_after, "");
  EXPECT_TRUE(store_->ListLeads(LeadFilter{"p2", false, std::nullopt}, 10, "")->items.empty());
  ASSERT_TRUE(store_->AcknowledgeLead("p1", ids[1]).ok());
  auto acked = store_->ListLeads(LeadFilter{"", false, LeadState::kAcknowledged}, 10, "");
  ASSERT_EQ(acked->items.size(), 1u);
  EXPECT_EQ(acked->items[0].lead_id, ids[1]);
  EXPECT_EQ(store_->ListLeads(LeadFilter{}, 10, "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StorageConformanceTest, RefusalsAreCountedBeforeCountersAnswer) {
  store_->CountRefusedSubmission(RefusedSubmission::kInvalid);
  store_->CountRefusedSubmission(RefusedSubmission::kRateLimited);
  store_->CountRefusedSubmission(RefusedSubmission::kOther);
  EXPECT_EQ(Counter("submissions"), 3);
  EXPECT_EQ(Counter("invalid_submissions"), 1);
  EXPECT_EQ(Counter("rate_limited"), 1);
  auto created = store_->CreateTime();
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_LE(*created, absl::Now());
}

TEST_P(StorageConformanceTest, AStreamReadsEveryEventOfItsProviderInOrderFromAnyCursor) {
  TwoProvidersAndAListing();
  ASSERT_TRUE(store_->CreateListing(Listing{"l2", "p2", "Listing 2", "FL", {}}).ok());
  std::vector<std::thread> threads;
  threads.reserve(40);
  for (int i = 0; i < 40; ++i) {
    threads.emplace_back([&, i] {
      ASSERT_TRUE(Submit(MakeSubmission("+130555502" + std::to_string(10 + i % 20),
                                        i % 2 == 0 ? "l1" : "l2"))
                      .ok());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(WaitForNotifiedHead(40));
  std::vector<EventWithLead> all = Events("");
  ASSERT_EQ(all.size(), 40u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].event.sequence, i + 1);
  for (const std::string provider : {"p1", "p2"}) {
    std::vector<EventWithLead> mine = Events(provider);
    EXPECT_EQ(mine.size(), 20u);
    for (const EventWithLead& e : mine) {
      EXPECT_EQ(e.event.provider_id, provider);
      ASSERT_TRUE(e.lead.has_value());
      EXPECT_EQ(e.lead->provider_id, provider);
    }
    const uint64_t middle = mine[9].event.sequence;
    std::vector<EventWithLead> rest = Events(provider, middle);
    ASSERT_EQ(rest.size(), 10u);
    EXPECT_EQ(rest[0].event.sequence, mine[10].event.sequence);
  }
}

TEST_P(StorageConformanceTest, ConcurrentGeneralLeadsShareTheRotationEvenly) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p1")).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p2")).ok());
  // However the writer batches them, each lead sees the assignments before it, those of its
  // own batch included.
  constexpr int kLeads = 8;
  std::vector<std::thread> threads;
  threads.reserve(kLeads);
  std::vector<absl::StatusOr<SubmitResult>> results(kLeads);
  for (int i = 0; i < kLeads; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = Submit(MakeSubmission("+1305555014" + std::to_string(i))); });
  }
  for (std::thread& t : threads) t.join();
  std::map<std::string, int> leads;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    ++leads[store_->GetLead(r->lead_id, "")->provider_id];
  }
  EXPECT_EQ(leads, (std::map<std::string, int>{{"p1", kLeads / 2}, {"p2", kLeads / 2}}));
}

TEST_P(StorageConformanceTest, ReassignLeadMovesTheLeadWithAnEventForEachProvider) {
  TwoProvidersAndAListing();
  auto r = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(r.ok()) << r.status();
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(store_->AcknowledgeLead("p1", r->lead_id).ok());
  ASSERT_TRUE(store_->RecordContactAttempt("p1", r->lead_id, ContactOutcome::kNoAnswer, "").ok());

  clock_.Advance(absl::Minutes(1));
  auto moved = store_->ReassignLead(r->lead_id, "p2");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->provider_id, "p2");
  EXPECT_EQ(moved->state, LeadState::kNew);
  EXPECT_EQ(moved->routing_reason, RoutingReason::kManual);
  EXPECT_FALSE(moved->acknowledge_time.has_value());
  EXPECT_FALSE(moved->first_contact_time.has_value());
  EXPECT_FALSE(moved->last_outcome.has_value());
  auto stored = store_->GetLead(r->lead_id, "p2");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->state, LeadState::kNew);
  EXPECT_EQ(stored->routing_reason, RoutingReason::kManual);
  EXPECT_FALSE(stored->acknowledge_time.has_value());
  EXPECT_EQ(store_->GetLead(r->lead_id, "p1").status().code(), absl::StatusCode::kNotFound);

  // p1 hears that it lost the lead, and sees nothing of it any more; p2 gets it whole.
  std::vector<EventWithLead> p1 = Events("p1");
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1[1].event.type, LeadEventType::kReassignedAway);
  ASSERT_TRUE(p1[1].lead.has_value());
  EXPECT_EQ(p1[1].lead->lead_id, r->lead_id);
  EXPECT_EQ(p1[1].lead->phone, "");
  EXPECT_EQ(p1[1].lead->provider_id, "");
  std::vector<EventWithLead> p2 = Events("p2");
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2[0].event.type, LeadEventType::kAssigned);
  EXPECT_EQ(p2[0].event.sequence, p1[1].event.sequence + 1);
  ASSERT_TRUE(p2[0].lead.has_value());
  EXPECT_EQ(p2[0].lead->phone, "+13055550123");

  // To its current provider: nothing changes, no event.
  auto same = store_->ReassignLead(r->lead_id, "p2");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->provider_id, "p2");
  EXPECT_EQ(Events("").size(), 3u);

  EXPECT_EQ(store_->ReassignLead("lead-nope", "p1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ReassignLead(r->lead_id, "nobody").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetLead(r->lead_id, "p2")->provider_id, "p2");
  EXPECT_EQ(Events("").size(), 3u);
}

TEST_P(StorageConformanceTest, AReassignmentCountsAsTheProvidersLatestForRotation) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p1")).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("p2")).ok());
  clock_.Advance(absl::Seconds(1));
  auto first = Submit(MakeSubmission("+13055550150"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(store_->GetLead(first->lead_id, "")->provider_id, "p1");
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(store_->ReassignLead(first->lead_id, "p2").ok());
  // p2 was assigned a lead (by ops) after p1: p1 is next.
  clock_.Advance(absl::Seconds(1));
  auto next = Submit(MakeSubmission("+13055550151"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(store_->GetLead(next->lead_id, "")->provider_id, "p1");
}

TEST_P(StorageConformanceTest, LeadEvidenceKeepsTheConsentAndTheWholeHistory) {
  TwoProvidersAndAListing();
  Submission s = MakeSubmission("+13055550123", "l1");
  s.advertisers = {"Acme Recovery", "Sunrise Health"};
  const absl::Time submitted = clock_.Now();
  auto r = Submit(s);
  ASSERT_TRUE(r.ok()) << r.status();
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(Submit(s).ok());  // A duplicate: RESUBMITTED.
  ASSERT_TRUE(store_->ReassignLead(r->lead_id, "p2").ok());
  ASSERT_TRUE(Submit(MakeSubmission("+13055550124", "l1")).ok());  // Another lead's event.

  auto evidence = store_->GetLeadEvidence(r->lead_id);
  ASSERT_TRUE(evidence.ok()) << evidence.status();
  std::string sha256(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(sha256.data()),
                     reinterpret_cast<const unsigned char*>(s.consent_text.data()),
                     s.consent_text.size());
  EXPECT_EQ(evidence->consent_text_sha256, sha256);
  EXPECT_EQ(evidence->advertisers, s.advertisers);
  EXPECT_EQ(evidence->consent_time, submitted);
  std::vector<std::pair<LeadEventType, std::string>> history;
  for (size_t i = 0; i < evidence->history.size(); ++i) {
    const LeadEvent& e = evidence->history[i];
    EXPECT_EQ(e.lead_id, r->lead_id);
    EXPECT_EQ(e.sequence, i + 1);
    history.emplace_back(e.type, e.provider_id);
  }
  EXPECT_EQ(history, (std::vector<std::pair<LeadEventType, std::string>>{
                         {LeadEventType::kAssigned, "p1"},
                         {LeadEventType::kResubmitted, "p1"},
                         {LeadEventType::kReassignedAway, "p1"},
                         {LeadEventType::kAssigned, "p2"}}));
  EXPECT_EQ(evidence->history[1].event_time, submitted + absl::Minutes(1));
  EXPECT_EQ(store_->GetLeadEvidence("lead-nope").status().code(), absl::StatusCode::kNotFound);
}

// The disclosures of `lead_id`, once `count` are written (records wait in memory for a write
// that comes a moment later).
std::vector<Disclosure> AwaitDisclosures(Storage& store, const std::string& lead_id, size_t count) {
  const absl::Time deadline = absl::Now() + kDeadline;
  absl::StatusOr<std::vector<Disclosure>> disclosures = store.ListLeadDisclosures(lead_id);
  while (disclosures.ok() && disclosures->size() < count && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    disclosures = store.ListLeadDisclosures(lead_id);
  }
  EXPECT_TRUE(disclosures.ok()) << disclosures.status();
  EXPECT_EQ(disclosures.ok() ? disclosures->size() : 0, count);
  return disclosures.ok() ? *disclosures : std::vector<Disclosure>();
}

TEST_P(StorageConformanceTest, EachTokensFirstDisclosureOfALeadIsRecordedOnce) {
  TwoProvidersAndAListing();
  auto r = Submit(MakeSubmission("+13055550123", "l1"));
  ASSERT_TRUE(r.ok()) << r.status();
  const absl::Time start = clock_.Now();
  store_->RecordDisclosure(r->lead_id, "p1", "tok-1", DisclosureChannel::kStream);
  clock_.Advance(absl::Seconds(5));
  store_->RecordDisclosure(r->lead_id, "p1", "tok-1", DisclosureChannel::kGetLead);
  store_->RecordDisclosure(r->lead_id, "p1", "tok-2", DisclosureChannel::kListLeads);
  store_->RecordDisclosure("no-such-lead", "p1", "tok-1", DisclosureChannel::kGetLead);
  AwaitDisclosures(*store_, r->lead_id, 2);
  clock_.Advance(absl::Seconds(5));
  // Once written, a later record of the same token changes nothing.
  store_->RecordDisclosure(r->lead_id, "p1", "tok-2", DisclosureChannel::kGetLead);
  store_->RecordDisclosure(r->lead_id, "p2", "tok-3", DisclosureChannel::kAcknowledgeLead);
  const std::vector<Disclosure> written = AwaitDisclosures(*store_, r->lead_id, 3);
  ASSERT_EQ(written.size(), 3u);
  const auto expect = [](const Disclosure& d, const std::string& provider, const std::string& token,
                         DisclosureChannel channel, absl::Time time) {
    EXPECT_EQ(d.provider_id, provider);
    EXPECT_EQ(d.token_id, token);
    EXPECT_EQ(d.channel, channel);
    EXPECT_EQ(d.first_time, time);
  };
  expect(written[0], "p1", "tok-1", DisclosureChannel::kStream, start);
  expect(written[1], "p1", "tok-2", DisclosureChannel::kListLeads, start + absl::Seconds(5));
  expect(written[2], "p2", "tok-3", DisclosureChannel::kAcknowledgeLead, start + absl::Seconds(10));
  auto unknown = store_->ListLeadDisclosures("no-such-lead");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_TRUE(unknown->empty());

  // The caller's leads, newest first, each with its disclosures.
  clock_.Advance(absl::Seconds(5));
  auto general = Submit(MakeSubmission("+13055550123"));
  ASSERT_TRUE(general.ok()) << general.status();
  auto caller = store_->ListCallerDisclosures("+13055550123");
  ASSERT_TRUE(caller.ok()) << caller.status();
  ASSERT_EQ(caller->size(), 2u);
  EXPECT_EQ((*caller)[0].lead_id, general->lead_id);
  EXPECT_EQ((*caller)[0].listing_id, "");
  EXPECT_TRUE((*caller)[0].disclosures.empty());
  EXPECT_EQ((*caller)[1].lead_id, r->lead_id);
  EXPECT_EQ((*caller)[1].listing_id, "l1");
  EXPECT_EQ((*caller)[1].create_time, start);
  EXPECT_EQ((*caller)[1].disclosures.size(), 3u);
  auto nobody = store_->ListCallerDisclosures("+13055550199");
  ASSERT_TRUE(nobody.ok()) << nobody.status();
  EXPECT_TRUE(nobody->empty());
}

// Not offered on PostgreSQL (backups are made with PostgreSQL's own tools): it answers
// kUnimplemented rather than anything misleading.
TEST_P(StorageConformanceTest, ItIsUnimplementedWhereTheBackendSaysSo) {
  auto backup = store_->Backup(BackupOptions{});
  if (GetParam().postgres) {
    EXPECT_EQ(backup.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(backup.status().message().find("pg_basebackup"), absl::string_view::npos)
        << backup.status();
  } else {
    EXPECT_TRUE(backup.ok()) << backup.status();
  }
}

// Privacy requests (Storage::OptOutCaller, EraseCaller, PurgeLeads).

constexpr char kCaller[] = "+12127365000";
constexpr char kOtherCaller[] = "+12127365111";

// Three leads of kCaller, as in issue 11: one from a's listing, one general (rotation gives it
// to a or b), and one from b's listing reassigned to a.
struct CallerLeads {
  std::string listing, general, reassigned;
};

class PrivacyConformanceTest : public StorageConformanceTest {
 protected:
  CallerLeads ThreeLeads() {
    AddProviderWithListing("a");
    AddProviderWithListing("b");
    CallerLeads leads;
    leads.listing = NewLead(MakeSubmission(kCaller, "a-listing"));
    leads.general = NewLead(MakeSubmission(kCaller));
    leads.reassigned = NewLead(MakeSubmission(kCaller, "b-listing"));
    EXPECT_TRUE(store_->ReassignLead(leads.reassigned, "a").ok());
    return leads;
  }
};

constexpr int kAssigned = static_cast<int>(LeadEventType::kAssigned);
constexpr int kReassignedAway = static_cast<int>(LeadEventType::kReassignedAway);
constexpr int kOptedOut = static_cast<int>(LeadEventType::kOptedOut);
constexpr int kErased = static_cast<int>(LeadEventType::kErased);

std::string Ev(int type, const std::string& provider) { return absl::StrCat(type, ":", provider); }

TEST_P(PrivacyConformanceTest, OptOutReachesEveryProviderThatEverHadTheLead) {
  const CallerLeads leads = ThreeLeads();
  const std::string other = NewLead(MakeSubmission(kOtherCaller));
  const std::string general_owner = store_->GetLead(leads.general, "")->provider_id;

  EXPECT_EQ(store_->OptOutCaller(kCaller).value_or(99), 3u);
  for (const std::string& lead : {leads.listing, leads.general, leads.reassigned}) {
    EXPECT_EQ(State(lead), LeadState::kOptedOut);
  }
  EXPECT_EQ(State(other), LeadState::kNew) << "another caller is untouched";
  EXPECT_THAT(History(leads.listing), ElementsAre(Ev(kAssigned, "a"), Ev(kOptedOut, "a")));
  EXPECT_THAT(History(leads.general),
              ElementsAre(Ev(kAssigned, general_owner), Ev(kOptedOut, general_owner)));
  EXPECT_THAT(History(leads.reassigned),
              ElementsAre(Ev(kAssigned, "b"), Ev(kReassignedAway, "b"), Ev(kAssigned, "a"),
                          Ev(kOptedOut, "a"), Ev(kOptedOut, "b")));
  // Each provider's stream carries them: b hears of the lead it no longer has, by id only.
  const uint64_t head = *store_->CommittedHeadSequence();
  ASSERT_TRUE(WaitForNotifiedHead(head));
  std::optional<EventWithLead> b_heard;
  for (const EventWithLead& e : Events("b")) {
    if (e.event.lead_id == leads.reassigned && e.event.type == LeadEventType::kOptedOut) {
      b_heard = e;
    }
  }
  ASSERT_TRUE(b_heard.has_value());
  ASSERT_TRUE(b_heard->lead.has_value());
  EXPECT_EQ(b_heard->lead->lead_id, leads.reassigned);
  EXPECT_EQ(b_heard->lead->phone, "") << "not b's any more: the id only";

  EXPECT_EQ(store_->OptOutCaller(kCaller).value_or(99), 0u) << "a repeat changes nothing";
  EXPECT_EQ(*store_->CommittedHeadSequence(), head);
  EXPECT_EQ(store_->OptOutCaller("+13055550000").value_or(99), 0u) << "an unknown phone";
  EXPECT_EQ(*store_->CommittedHeadSequence(), head);
}

TEST_P(PrivacyConformanceTest, OptOutOfALeadNoProviderHadTellsAdminWatchersOnly) {
  const std::string lead = NewLead(MakeSubmission(kCaller));  // No provider: UNASSIGNED.
  ASSERT_EQ(State(lead), LeadState::kUnassigned);
  EXPECT_EQ(store_->OptOutCaller(kCaller).value_or(99), 1u);
  EXPECT_THAT(History(lead), ElementsAre(Ev(kAssigned, ""), Ev(kOptedOut, "")));
}

TEST_P(PrivacyConformanceTest, ASubmissionAfterTheOptOutIsANewLead) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string first = NewLead(MakeSubmission(kCaller));
  ASSERT_EQ(store_->OptOutCaller(kCaller).value_or(99), 1u);
  absl::StatusOr<SubmitResult> again = Submit(MakeSubmission(kCaller));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(again->lead_id, first);
  EXPECT_EQ(State(again->lead_id), LeadState::kNew);
  EXPECT_EQ(State(first), LeadState::kOptedOut);
}

TEST_P(PrivacyConformanceTest, FeedbackOnAnOptedOutOrErasedLeadIsAFailedPrecondition) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string opted_out = NewLead(MakeSubmission(kCaller));
  const std::string erased = NewLead(MakeSubmission(kOtherCaller));
  ASSERT_TRUE(store_->OptOutCaller(kCaller).ok());
  ASSERT_TRUE(store_->EraseCaller(kOtherCaller).ok());
  for (const std::string& lead : {opted_out, erased}) {
    EXPECT_EQ(store_->AcknowledgeLead("a", lead).status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store_->RecordContactAttempt("a", lead, ContactOutcome::kReached, "").status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(store_->ReassignLead(lead, "a").status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(RawInt("SELECT count(*) FROM contact_attempts"), 0);
}

TEST_P(PrivacyConformanceTest, EraseRemovesThePersonalDataAndKeepsTheEvidence) {
  const CallerLeads leads = ThreeLeads();
  ASSERT_TRUE(store_
                  ->RecordContactAttempt("a", leads.listing, ContactOutcome::kNoAnswer,
                                         "spoke to her sister")
                  .ok());
  ASSERT_TRUE(store_->OptOutCaller(kCaller).ok());  // OPTED_OUT leads still hold data.
  const std::string other = NewLead(MakeSubmission(kOtherCaller));

  EXPECT_EQ(store_->EraseCaller(kCaller).value_or(99), 3u);
  for (const std::string& id : {leads.listing, leads.general, leads.reassigned}) {
    absl::StatusOr<Lead> lead = store_->GetLead(id, "");
    ASSERT_TRUE(lead.ok()) << lead.status();
    EXPECT_EQ(lead->state, LeadState::kErased);
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
  EXPECT_THAT(
      History(leads.reassigned),
      ElementsAre(Ev(kAssigned, "b"), Ev(kReassignedAway, "b"), Ev(kAssigned, "a"),
                  Ev(kOptedOut, "a"), Ev(kOptedOut, "b"), Ev(kErased, "a"), Ev(kErased, "b")));
  // Nothing links the leads to the number any more.
  EXPECT_EQ(
      RawInt(absl::StrCat("SELECT count(*) FROM leads WHERE length(phone_hash) > 0 AND "
                          "lead_id IN ('",
                          leads.listing, "', '", leads.general, "', '", leads.reassigned, "')")),
      0);
  EXPECT_EQ(RawInt("SELECT count(*) FROM submissions WHERE length(payload_sha256) > 0"), 1)
      << "only the other caller's";
  EXPECT_EQ(RawInt("SELECT count(*) FROM contact_attempts WHERE length(note_sealed) > 0"), 0);
  EXPECT_EQ(RawInt("SELECT count(*) FROM contact_attempts"), 1) << "the attempt itself stays";
  EXPECT_EQ(State(other), LeadState::kNew);
  EXPECT_EQ(store_->GetLead(other, "")->phone, kOtherCaller);
  EXPECT_TRUE(store_->ListCallerDisclosures(kCaller)->empty()) << "not found by phone any more";

  const uint64_t head = *store_->CommittedHeadSequence();
  EXPECT_EQ(store_->EraseCaller(kCaller).value_or(99), 0u) << "a repeat changes nothing";
  EXPECT_EQ(*store_->CommittedHeadSequence(), head);
}

// What each backend does against old copies once an erasure has committed (storage.h):
// SQLite empties its WAL (privacy_test.cc searches the raw files); PostgreSQL vacuums the
// tables, so that the old row versions are reclaimed.
TEST_P(PrivacyConformanceTest, AnErasureClearsTheOldCopiesTheBackendCan) {
  const std::string lead = NewLead(MakeSubmission(kCaller));
  const auto vacuums = [this] {
    return RawInt("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'leads'");
  };
  const int64_t before = GetParam().postgres ? vacuums() : 0;
  ASSERT_EQ(store_->EraseCaller(kCaller).value_or(99), 1u);
  if (!GetParam().postgres) {
    EXPECT_EQ(std::filesystem::file_size(dir_.File("intake.db") + "-wal"), 0u);
    return;
  }
  // The server's statistics may trail the VACUUM by a moment.
  const absl::Time deadline = absl::Now() + kDeadline;
  while (vacuums() == before && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_GT(vacuums(), before);
}

TEST_P(PrivacyConformanceTest, EraseDeletesTheCallersQuarantinedSubmissions) {
  ASSERT_TRUE(Submit(MakeSubmission(kCaller), /*bot=*/true).ok());
  ASSERT_TRUE(Submit(MakeSubmission(kOtherCaller), /*bot=*/true).ok());
  EXPECT_EQ(store_->EraseCaller(kCaller).value_or(99), 0u) << "no lead, yet";
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine"), 1);
  EXPECT_EQ(RawInt(absl::StrCat("SELECT count(*) FROM quarantine WHERE phone_hash = ",
                                BlobLiteral(Cipher().PhoneHash(kOtherCaller)))),
            1);
}

TEST_P(PrivacyConformanceTest, QuarantinedRowsFromBeforeThePhoneHashGetItAtOpen) {
  ASSERT_TRUE(Submit(MakeSubmission(kCaller), /*bot=*/true).ok());
  store_.reset();
  RawExec("UPDATE quarantine SET phone_hash = NULL");
  Open();
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine WHERE phone_hash IS NULL"), 0);
  ASSERT_TRUE(store_->EraseCaller(kCaller).ok());
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine"), 0);
}

TEST_P(PrivacyConformanceTest, ARetriedRequestIdOfAnErasedLeadReplaysWithoutRecreatingIt) {
  Submission s = MakeSubmission(kCaller);
  s.request_id = "r-1";
  absl::StatusOr<SubmitResult> first = Submit(s);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->EraseCaller(kCaller).ok());
  absl::StatusOr<SubmitResult> retry = Submit(s);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->outcome, SubmissionOutcome::kReplayed);
  EXPECT_EQ(retry->submission_id, first->submission_id);
  EXPECT_EQ(RawInt("SELECT count(*) FROM leads"), 1);
}

TEST_P(PrivacyConformanceTest, ASubmissionAfterTheErasureIsNotLinkedToTheErasedLead) {
  const std::string erased = NewLead(MakeSubmission(kCaller));
  ASSERT_TRUE(store_->EraseCaller(kCaller).ok());
  absl::StatusOr<SubmitResult> again = Submit(MakeSubmission(kCaller));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, SubmissionOutcome::kNewLead);
  EXPECT_NE(again->lead_id, erased);
}

TEST_P(PrivacyConformanceTest, PurgeDeletesLeadsLastSubmittedBeforeTheCutoffWithAllTheirRows) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const absl::Time start = clock_.Now();
  Submission old_one = MakeSubmission(kCaller);
  old_one.request_id = "old";
  const std::string old_lead = NewLead(old_one);
  ASSERT_TRUE(store_->AcknowledgeLead("a", old_lead).ok());
  ASSERT_TRUE(store_->RecordContactAttempt("a", old_lead, ContactOutcome::kReached, "").ok());
  store_->RecordDisclosure(old_lead, "a", "tok-1", DisclosureChannel::kGetLead);
  const std::string resubmitted = NewLead(MakeSubmission(kOtherCaller));
  clock_.Advance(absl::Hours(20));
  ASSERT_EQ(NewLead(MakeSubmission(kOtherCaller)), resubmitted) << "merged: last submitted now";
  clock_.Advance(absl::Hours(24 * 10));
  const std::string recent = NewLead(MakeSubmission("+12127365222"));
  const uint64_t head = *store_->CommittedHeadSequence();
  AwaitDisclosures(*store_, old_lead, 1);

  EXPECT_EQ(store_->PurgeLeads(start + absl::Hours(1)).value_or(99), 1u);
  EXPECT_EQ(store_->GetLead(old_lead, "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetLeadEvidence(old_lead).status().code(), absl::StatusCode::kNotFound);
  for (const char* table : {"lead_events", "contact_attempts", "submissions", "disclosures"}) {
    EXPECT_EQ(
        RawInt(absl::StrCat("SELECT count(*) FROM ", table, " WHERE lead_id = '", old_lead, "'")),
        0)
        << table;
  }
  EXPECT_TRUE(store_->GetLead(resubmitted, "").ok());
  EXPECT_TRUE(store_->GetLead(recent, "").ok());
  EXPECT_EQ(store_->PurgeLeads(start + absl::Hours(1)).value_or(99), 0u) << "a repeat";
  EXPECT_EQ(*store_->CommittedHeadSequence(), head);

  // Sequences are never reused, even once the newest events were purged.
  clock_.Advance(absl::Seconds(1));  // `recent` is now last submitted before the cutoff too.
  ASSERT_EQ(store_->PurgeLeads(clock_.Now()).value_or(99), 2u);
  EXPECT_EQ(RawInt("SELECT count(*) FROM lead_events"), 0);
  NewLead(MakeSubmission(kCaller));
  EXPECT_EQ(*store_->CommittedHeadSequence(), head + 1);
}

TEST_P(PrivacyConformanceTest, PurgeGoesThroughEveryBatch) {
  for (int i = 0; i < Storage::kPurgeBatch * 2 + 7; ++i) {
    NewLead(MakeSubmission(absl::StrCat("+1212736", 5000 + i)));
  }
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(store_->PurgeLeads(clock_.Now()).value_or(0), Storage::kPurgeBatch * 2u + 7u);
  EXPECT_EQ(RawInt("SELECT count(*) FROM leads"), 0);
}

// Quarantine (Storage::ListQuarantined, ReleaseQuarantined).

class QuarantineConformanceTest : public StorageConformanceTest {
 protected:
  // A bot's submission from kCaller with every field filled, as validation leaves it.
  static Submission BotSubmission(const std::string& listing_id = "") {
    Submission s = MakeSubmission(kCaller, listing_id);
    s.request_id = "req-1";
    s.honeypot = "Jordan Example";
    s.advertisers = {"Sunrise Recovery", "Blue Harbor"};
    s.form.page_url = "https://example.org/centers/1";
    s.form.utm_source = "news";
    s.form.utm_medium = "email";
    s.form.utm_campaign = "spring";
    return s;
  }
  std::string Quarantine(const Submission& s) {
    absl::StatusOr<SubmitResult> result = Submit(s, /*bot=*/true);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return "";
    EXPECT_EQ(result->outcome, SubmissionOutcome::kBot);
    return result->submission_id;
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

TEST_P(QuarantineConformanceTest, ListsWhatWasSubmittedNewestFirstUntilItExpires) {
  const absl::Time first_time = clock_.Now();
  const std::string first = Quarantine(BotSubmission());
  clock_.Advance(absl::Hours(1));
  Submission other = BotSubmission();
  other.request_id = "req-2";
  other.phone = kOtherCaller;
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
  EXPECT_EQ(held.submission.phone, kCaller);
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
  EXPECT_EQ(store_->ReleaseQuarantined("sub-nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(QuarantineConformanceTest, AReleaseBecomesARoutedLeadWithItsEventAndRecord) {
  AddProviderWithListing("a");
  const absl::Time received = clock_.Now();
  const std::string id = Quarantine(BotSubmission("a-listing"));
  clock_.Advance(absl::Hours(2));

  absl::StatusOr<Lead> lead = store_->ReleaseQuarantined(id);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(lead->state, LeadState::kNew);
  EXPECT_EQ(lead->provider_id, "a");
  EXPECT_EQ(lead->routing_reason, RoutingReason::kListingOwner);
  EXPECT_EQ(lead->phone, kCaller);
  EXPECT_EQ(lead->message, BotSubmission().message);
  EXPECT_EQ(lead->form.page_url, BotSubmission().form.page_url);
  EXPECT_EQ(lead->create_time, clock_.Now()) << "the provider hears of it now";
  EXPECT_EQ(store_->GetLeadEvidence(lead->lead_id)->consent_time, received);
  EXPECT_EQ(store_->GetLeadEvidence(lead->lead_id)->advertisers, BotSubmission().advertisers);
  EXPECT_THAT(History(lead->lead_id), ElementsAre(Ev(kAssigned, "a")));
  EXPECT_EQ(*store_->CommittedHeadSequence(), 1u);
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine"), 0);
  EXPECT_EQ(Counter("leads"), 1);
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

TEST_P(QuarantineConformanceTest, AReleaseJoinsTheCallersOpenLead) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string open_lead = NewLead(MakeSubmission(kCaller));
  const std::string id = Quarantine(BotSubmission());
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<Lead> lead = store_->ReleaseQuarantined(id);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(lead->lead_id, open_lead);
  EXPECT_EQ(lead->submission_count, 2u);
  EXPECT_EQ(lead->last_submit_time, clock_.Now());
  EXPECT_THAT(
      History(open_lead),
      ElementsAre(Ev(kAssigned, "a"), Ev(static_cast<int>(LeadEventType::kResubmitted), "a")));
  EXPECT_EQ(Counter("duplicates_merged"), 1);
}

TEST_P(QuarantineConformanceTest, ARowThatKeptOnlyThePersonalDataIsListedButNotReleased) {
  const std::string id = Quarantine(BotSubmission());
  // As an intaked from before this one sealed it: the personal fields alone.
  RawExec(absl::StrCat("UPDATE quarantine SET sealed = ",
                       BlobLiteral(Cipher().Seal({"Jordan", kCaller, "33101", "message",
                                                  "203.0.113.7", "Mozilla/5.0", ""}))));
  absl::StatusOr<Page<QuarantinedSubmission>> page = store_->ListQuarantined(10, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->items[0].complete);
  EXPECT_EQ(page->items[0].submission.phone, kCaller);
  EXPECT_EQ(page->items[0].submission.consent_text, "");
  EXPECT_EQ(store_->ReleaseQuarantined(id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine"), 1);
}

// Retention (Storage::EraseDataSubmittedBefore, DeleteExpiredQuarantine, ClearOldCopies),
// through the RetentionSweeper that drives them.

class RetentionConformanceTest : public StorageConformanceTest {
 protected:
  static RetentionSweeper::Options Options(absl::Duration retention, int step_rows = 100) {
    RetentionSweeper::Options options;
    options.pii_retention = retention;
    options.step_rows = step_rows;
    options.pause = absl::ZeroDuration();
    return options;
  }
};

TEST_P(RetentionConformanceTest, ErasesOldLeadsAndExpiredQuarantineAndNothingElse) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string old_lead = NewLead(MakeSubmission("+12127365001"));
  const std::string opted_out = NewLead(MakeSubmission("+12127365002"));
  ASSERT_TRUE(store_->OptOutCaller("+12127365002").ok());
  ASSERT_TRUE(Submit(MakeSubmission("+12127365003"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(24 * 5));
  const std::string resubmitted = NewLead(MakeSubmission("+12127365004"));
  ASSERT_TRUE(Submit(MakeSubmission("+12127365005"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(23));
  ASSERT_EQ(NewLead(MakeSubmission("+12127365004")), resubmitted) << "merged: last submitted now";
  clock_.Advance(absl::Hours(25) + absl::Minutes(1));  // The first bot has expired, not the second.
  const std::string recent = NewLead(MakeSubmission("+12127365006"));

  // The cutoff falls after `resubmitted` was created and before it was last submitted.
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::Hours(36)));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  ASSERT_TRUE(sweep.status.ok()) << sweep.status;
  EXPECT_EQ(sweep.erased_leads, 2);
  EXPECT_EQ(sweep.deleted_quarantined, 1);
  EXPECT_EQ(State(old_lead), LeadState::kErased);
  EXPECT_EQ(State(opted_out), LeadState::kErased) << "opted out, data kept";
  EXPECT_EQ(State(resubmitted), LeadState::kNew);
  EXPECT_EQ(State(recent), LeadState::kNew);
  EXPECT_EQ(store_->GetLead(old_lead, "")->phone, "");
  EXPECT_EQ(store_->GetLead(recent, "")->phone, "+12127365006");
  EXPECT_EQ(
      RawInt(absl::StrCat("SELECT length(phone_hash) FROM leads WHERE lead_id = '", old_lead, "'")),
      0)
      << "nothing links it to the number, as after EraseCaller";
  EXPECT_THAT(History(old_lead), ElementsAre(Ev(kAssigned, "a"), Ev(kErased, "a")))
      << "its provider hears, as with EraseCaller";
  EXPECT_EQ(RawInt("SELECT count(*) FROM quarantine"), 1);
  EXPECT_GT(sweep.longest_hold, absl::ZeroDuration());

  const RetentionSweeper::Sweep again = sweeper.SweepOnce();
  EXPECT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(again.erased_leads + again.deleted_quarantined, 0) << "nothing is due any more";
}

TEST_P(RetentionConformanceTest, GoesStepByStep) {
  for (int i = 0; i < 7; ++i) NewLead(MakeSubmission(absl::StrCat("+1212736500", i)));
  clock_.Advance(absl::Hours(2));
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::Hours(1), /*step_rows=*/3));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  EXPECT_EQ(sweep.erased_leads, 7);
  EXPECT_EQ(sweep.steps, 3 + 1) << "3, 3 and 1 leads, then one quarantine step";
  EXPECT_EQ(RawInt("SELECT count(*) FROM leads WHERE sealed IS NOT NULL"), 0);
}

TEST_P(RetentionConformanceTest, ZeroRetentionKeepsLeadsButStillExpiresTheQuarantine) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string lead = NewLead(MakeSubmission(kCaller));
  ASSERT_TRUE(Submit(MakeSubmission("+12127365009"), /*bot=*/true).ok());
  clock_.Advance(absl::Hours(24 * 365));
  RetentionSweeper sweeper(store_.get(), &clock_, Options(absl::ZeroDuration()));
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  EXPECT_EQ(sweep.erased_leads, 0);
  EXPECT_EQ(sweep.deleted_quarantined, 1);
  EXPECT_EQ(State(lead), LeadState::kNew);
}

TEST_P(RetentionConformanceTest, TheBackgroundThreadSweepsAtStartAndEveryInterval) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("a")).ok());
  const std::string first = NewLead(MakeSubmission("+12127365001"));
  clock_.Advance(absl::Hours(2));
  const std::string second = NewLead(MakeSubmission("+12127365002"));
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
  EXPECT_EQ(State(first), LeadState::kErased);
  EXPECT_EQ(State(second), LeadState::kNew);
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
  EXPECT_EQ(State(second), LeadState::kErased);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageConformanceTest,
                         ::testing::Values(Backend{"SQLite", false}, Backend{"PostgreSQL", true}),
                         [](const ::testing::TestParamInfo<Backend>& backend) {
                           return backend.param.name;
                         });

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyConformanceTest,
                         ::testing::Values(Backend{"SQLite", false}, Backend{"PostgreSQL", true}),
                         [](const ::testing::TestParamInfo<Backend>& backend) {
                           return backend.param.name;
                         });

INSTANTIATE_TEST_SUITE_P(Backends, QuarantineConformanceTest,
                         ::testing::Values(Backend{"SQLite", false}, Backend{"PostgreSQL", true}),
                         [](const ::testing::TestParamInfo<Backend>& backend) {
                           return backend.param.name;
                         });

INSTANTIATE_TEST_SUITE_P(Backends, RetentionConformanceTest,
                         ::testing::Values(Backend{"SQLite", false}, Backend{"PostgreSQL", true}),
                         [](const ::testing::TestParamInfo<Backend>& backend) {
                           return backend.param.name;
                         });

}  // namespace
}  // namespace intake::store
