// A Store on a fresh database in a temporary directory with a FakeClock, and the few helpers
// store tests share: submitting and waiting, reading the raw database, adding providers.
#ifndef INTAKE_TESTS_STORE_STORE_FIXTURE_H_
#define INTAKE_TESTS_STORE_STORE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/store/store.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {

StoreOptions TestOptions(const Clock* clock);  // store_test.cc
const PiiCipher& TestCipher();                 // store_test.cc

// A valid, normalised submission of the general helpline from `phone` (E.164).
inline Submission TestSubmission(const std::string& phone = "+12127365000") {
  Submission s;
  s.phone = phone;
  s.caller_name = "Jordan";
  s.postal_code = "33101";
  s.region = "FL";
  s.message = "Please call after 5";
  s.consent_granted = true;
  s.consent_text = "I agree.";
  s.form.client_ip = "203.0.113.7";
  s.form.user_agent = "Mozilla/5.0";
  s.form.referrer = "https://example.org/search";
  return s;
}

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // (Re)opens the store on the same file; `adjust` may change the options first.
  void Open(void (*adjust)(StoreOptions&) = nullptr) {
    store_.reset();
    StoreOptions options = TestOptions(&clock_);
    if (adjust != nullptr) adjust(options);
    auto store = Store::Open(path(), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string path() const { return dir_.File("intake.db"); }

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
  // The lead id of a new submission from `phone`, failing the test if there is none.
  std::string NewLead(Submission s) {
    absl::StatusOr<SubmitResult> result = Submit(std::move(s));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->lead_id : "";
  }

  // The single integer `sql` returns, read on a connection of its own.
  int64_t Query(const std::string& sql) {
    SQLite::Database db(path(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }
  // Every row's first column of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql) {
    SQLite::Database db(path(), SQLite::OPEN_READONLY);
    SQLite::Statement query(db, sql);
    std::vector<std::string> values;
    while (query.executeStep()) {
      values.push_back(query.getColumn(0).isNull() ? "" : query.getColumn(0).getString());
    }
    return values;
  }

  void AddProvider(const std::string& id, ProviderState state = ProviderState::kActive) {
    Provider p;
    p.provider_id = id;
    p.display_name = id;
    p.state = state;
    ASSERT_TRUE(store_->CreateProvider(p).ok());
  }
  // A provider with one listing, "<id>-listing".
  void AddProviderWithListing(const std::string& id) {
    AddProvider(id);
    ASSERT_TRUE(store_->CreateListing({id + "-listing", id, "Center", "FL", {}}).ok());
  }

  intake::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace intake::store

#endif  // INTAKE_TESTS_STORE_STORE_FIXTURE_H_
