// Response figures computed from controlled timestamps: a real store on a temp file, a fake
// clock, leads created and contacted at chosen times.
#include "server/api/response_figures_cache.h"

#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/pii_cipher.h"
#include "server/store/store.h"
#include "tests/testing/temp_dir.h"

namespace intake::api {
namespace {

class ResponseFiguresCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cipher_ = *store::PiiCipher::FromKeyHex(store::PiiCipher::NewKeyHex());
    store::StoreOptions options;
    options.clock = &clock_;
    options.cipher = cipher_.get();
    store_ = *store::Store::Open(dir_.File("intake.db"), options);
    for (const char* id : {"acme", "beta"}) {
      Provider p;
      p.provider_id = id;
      p.display_name = id;
      ASSERT_TRUE(store_->CreateProvider(p).ok());
      ASSERT_TRUE(store_->CreateListing({std::string(id) + "-1", id, "Center", "FL", {}}).ok());
    }
  }

  // A new lead for `listing`; returns its id.
  std::string NewLead(const std::string& listing) {
    Submission s;
    s.listing_id = listing;
    s.phone = "+1212736" + std::to_string(1000 + next_phone_++);
    s.consent_granted = true;
    s.consent_text = "ok";
    absl::Notification done;
    std::string lead_id;
    store_->Submit(s, false, [&](absl::StatusOr<SubmitResult> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) lead_id = r->lead_id;
      done.Notify();
    });
    done.WaitForNotification();
    return lead_id;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::PiiCipher> cipher_;
  std::unique_ptr<store::Store> store_;
  int next_phone_ = 0;
};

TEST_F(ResponseFiguresCacheTest, FiguresComeFromStoredContactTimes) {
  const absl::Time t0 = clock_.Now();
  const std::string fast = NewLead("acme-1");
  const std::string slow = NewLead("acme-1");
  const std::string never = NewLead("acme-1");
  const std::string beta = NewLead("beta-1");
  clock_.Set(t0 + absl::Minutes(2));
  ASSERT_TRUE(store_->RecordContactAttempt("acme", fast, ContactOutcome::kReached, "").ok());
  clock_.Set(t0 + absl::Minutes(90));
  ASSERT_TRUE(store_->RecordContactAttempt("acme", slow, ContactOutcome::kNoAnswer, "").ok());
  ASSERT_TRUE(store_->AcknowledgeLead("acme", never).ok());
  clock_.Set(t0 + absl::Hours(3));

  ResponseFiguresCache cache(store_.get(), &clock_, ResponsePolicy{}, absl::Seconds(5));
  auto snapshot = cache.Fresh();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const ResponseFiguresCache::ProviderFigures& acme = (*snapshot)->providers.at("acme");
  EXPECT_EQ(acme.assigned, 3u);
  EXPECT_EQ(acme.acknowledged, 1u);
  EXPECT_EQ(acme.contacted, 2u);
  EXPECT_EQ(acme.figures.sample_size, 3u);
  EXPECT_DOUBLE_EQ(acme.figures.response_rate, 1.0 / 3) << "only the 2-minute call was in time";
  EXPECT_EQ(acme.figures.median_response, (absl::Minutes(2) + absl::Minutes(90)) / 2);

  const ResponseFigures* listing = ResponseFiguresCache::ForTarget(**snapshot, "acme-1");
  ASSERT_NE(listing, nullptr);
  EXPECT_EQ(listing->sample_size, 3u);
  const ResponseFigures* general = ResponseFiguresCache::ForTarget(**snapshot, "");
  EXPECT_EQ(general->sample_size, 4u) << "every provider's leads together";
  EXPECT_DOUBLE_EQ(general->response_rate, 1.0 / 4);
  EXPECT_EQ(ResponseFiguresCache::ForTarget(**snapshot, "nowhere"), nullptr);

  // Cached: a contact now is not seen until the snapshot is older than max_age.
  ASSERT_TRUE(store_->RecordContactAttempt("beta", beta, ContactOutcome::kReached, "").ok());
  EXPECT_EQ((*cache.Fresh())->providers.at("beta").contacted, 0u);
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ((*cache.Fresh())->providers.at("beta").contacted, 1u);
}

TEST_F(ResponseFiguresCacheTest, OldLeadsLeaveTheWindow) {
  NewLead("acme-1");
  clock_.Advance(absl::Hours(24 * 31));
  ResponseFiguresCache cache(store_.get(), &clock_, ResponsePolicy{}, absl::Seconds(5));
  auto snapshot = cache.Fresh();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ((*snapshot)->providers.count("acme"), 0u);
  const ResponseFigures* figures = ResponseFiguresCache::ForTarget(**snapshot, "acme-1");
  ASSERT_NE(figures, nullptr);
  EXPECT_EQ(figures->sample_size, 0u);
  EXPECT_EQ(figures->window_days, 30u);
}

// The refresher computes at start and after each Invalidate(), so that Latest() (the intake
// path, which never computes) follows changes without anyone calling Fresh().
TEST_F(ResponseFiguresCacheTest, TheRefresherKeepsLatestFreshAndStopsCleanly) {
  const std::string lead = NewLead("acme-1");
  ResponseFiguresCache cache(store_.get(), &clock_, ResponsePolicy{}, absl::Seconds(5));
  EXPECT_EQ(cache.Latest(), nullptr) << "nothing computed before it starts";
  cache.StartRefreshing();
  const auto wait_for = [&](auto done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (std::shared_ptr<const ResponseFiguresCache::Snapshot> s = cache.Latest(); s && done(*s)) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for([](const ResponseFiguresCache::Snapshot& s) {
    return s.providers.count("acme") == 1 && s.providers.at("acme").contacted == 0;
  })) << "a first snapshot at start";

  // The fake clock stands still, so only the Invalidate() can bring the contact in.
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(store_->RecordContactAttempt("acme", lead, ContactOutcome::kReached, "").ok());
  cache.Invalidate();
  EXPECT_TRUE(wait_for([](const ResponseFiguresCache::Snapshot& s) {
    return s.providers.count("acme") == 1 && s.providers.at("acme").contacted == 1;
  })) << "recomputed after Invalidate(), with nobody calling Fresh()";

  cache.StopRefreshing();
  cache.StopRefreshing();  // Idempotent.
  const std::shared_ptr<const ResponseFiguresCache::Snapshot> stopped = cache.Latest();
  cache.Invalidate();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(cache.Latest(), stopped) << "no computation after Stop";
}

// A computation's cost paces the refresher: at a share of a millionth of its time, even a
// computation of microseconds keeps the next one seconds away, however often Invalidate()
// asks; at the default share a small window is computed again within about max_age.
TEST_F(ResponseFiguresCacheTest, TheRefresherSpendsAtMostItsShareOfTimeComputing) {
  NewLead("acme-1");
  ResponseFiguresCache paced(store_.get(), &clock_, ResponsePolicy{}, absl::Milliseconds(20),
                             /*max_work_share=*/1e-6);
  paced.StartRefreshing();
  const std::shared_ptr<const ResponseFiguresCache::Snapshot> first = paced.Latest();
  ASSERT_NE(first, nullptr);
  for (int i = 0; i < 30; ++i) {
    paced.Invalidate();
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(paced.Latest(), first) << "computed again within 300 ms";

  ResponseFiguresCache unpaced(store_.get(), &clock_, ResponsePolicy{}, absl::Milliseconds(20));
  unpaced.StartRefreshing();
  const std::shared_ptr<const ResponseFiguresCache::Snapshot> unpaced_first = unpaced.Latest();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (unpaced.Latest() == unpaced_first && absl::Now() < deadline) {
    unpaced.Invalidate();
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_NE(unpaced.Latest(), unpaced_first) << "the control never computed again";
}

}  // namespace
}  // namespace intake::api
