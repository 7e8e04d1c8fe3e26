#include "server/store/store.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {

// A cipher with a fresh random key, for stores under test.
const PiiCipher& TestCipher() {
  static const PiiCipher* cipher = PiiCipher::FromKeyHex(PiiCipher::NewKeyHex())->release();
  return *cipher;
}

StoreOptions TestOptions(const Clock* clock = &SystemClock::Get()) {
  StoreOptions options;
  options.clock = clock;
  options.cipher = &TestCipher();
  return options;
}

namespace {

using ::intake::testing::TempDir;

TEST(StoreTest, FreshDatabaseIsMigratedAndKeepsItsIdentityAcrossReopens) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  std::string first_id;
  {
    auto store = Store::Open(path, TestOptions());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), static_cast<int>(SchemaMigrations().size()));
    first_id = (*store)->instance_id();
    EXPECT_EQ(first_id.size(), 32u);
  }
  auto again = Store::Open(path, TestOptions());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->instance_id(), first_id);

  TempDir other;
  auto different = Store::Open(other.File("intake.db"), TestOptions());
  ASSERT_TRUE(different.ok());
  EXPECT_NE((*different)->instance_id(), first_id);
}

TEST(StoreTest, NewerDatabaseIsRefusedWithItsPath) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  {
    auto db = OpenConnection(path, ConnectionRole::kWriter);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db).ok());
    (*db)->exec("UPDATE schema_version SET version = 999");
  }
  auto store = Store::Open(path, TestOptions());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status();
  EXPECT_NE(store.status().message().find("999"), std::string::npos) << store.status();
}

TEST(StoreTest, NeedsACipher) {
  TempDir dir;
  EXPECT_EQ(Store::Open(dir.File("intake.db"), StoreOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StoreTest, CorruptFileIsDataLoss) {
  TempDir dir;
  std::ofstream(dir.File("intake.db")) << "SQLite format 3" << std::string(4096, '\x7f');
  EXPECT_EQ(Store::Open(dir.File("intake.db"), TestOptions()).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace intake::store

namespace intake::store {
namespace {

class ProviderStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.File("intake.db"), TestOptions(&clock_));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  static Provider MakeProvider(const std::string& id) {
    Provider p;
    p.provider_id = id;
    p.display_name = "Provider " + id;
    p.regions = {"FL", "GA"};
    p.daily_cap = 7;
    p.time_zone = "America/Chicago";
    p.hours = {{Weekday::kMonday, 540, 1020}, {Weekday::kSaturday, 0, 1440}};
    return p;
  }

  intake::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(ProviderStoreTest, ProviderRoundTripsEveryField) {
  auto created = store_->CreateProvider(MakeProvider("acme"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->create_time, clock_.Now());
  auto stored = store_->GetProvider("acme");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->display_name, "Provider acme");
  EXPECT_EQ(stored->regions, (std::vector<std::string>{"FL", "GA"}));
  EXPECT_EQ(stored->daily_cap, 7u);
  EXPECT_EQ(stored->time_zone, "America/Chicago");
  EXPECT_EQ(stored->hours, MakeProvider("x").hours);
  EXPECT_EQ(stored->state, ProviderState::kActive);
  EXPECT_EQ(stored->create_time, clock_.Now());
}

TEST_F(ProviderStoreTest, DuplicateAndMissingProviders) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("acme")).ok());
  EXPECT_EQ(store_->CreateProvider(MakeProvider("acme")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetProvider("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store_->UpdateProvider("nobody", [](Provider&) { return absl::OkStatus(); }).status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(ProviderStoreTest, UpdateAppliesTheChangeOrNothing) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("acme")).ok());
  clock_.Advance(absl::Minutes(5));
  auto paused = store_->UpdateProvider("acme", [](Provider& p) {
    p.state = ProviderState::kPaused;
    p.provider_id = "hijacked";  // Ignored: ids are immutable.
    return absl::OkStatus();
  });
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->provider_id, "acme");
  EXPECT_EQ(store_->GetProvider("acme")->state, ProviderState::kPaused);
  EXPECT_EQ(store_->GetProvider("acme")->update_time, clock_.Now());
  EXPECT_EQ(store_->GetProvider("hijacked").status().code(), absl::StatusCode::kNotFound);

  auto refused = store_->UpdateProvider("acme", [](Provider& p) {
    p.display_name = "changed";
    return absl::InvalidArgumentError("no");
  });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetProvider("acme")->display_name, "Provider acme");
}

TEST_F(ProviderStoreTest, ListingsPageAndFilter) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("acme")).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("beta")).ok());
  for (const auto& [id, provider] : std::vector<std::pair<std::string, std::string>>{
           {"l-3", "acme"}, {"l-1", "acme"}, {"l-2", "beta"}, {"l-4", "acme"}}) {
    ASSERT_TRUE(store_->CreateListing({id, provider, "Center", "FL", {}}).ok()) << id;
  }
  EXPECT_EQ(store_->CreateListing({"l-1", "acme", "Center", "FL", {}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateListing({"l-9", "nobody", "Center", "FL", {}}).status().code(),
            absl::StatusCode::kNotFound);

  auto first = store_->ListListings(2, "", "acme");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].listing_id, "l-1");
  EXPECT_EQ(first->items[1].listing_id, "l-3");
  EXPECT_EQ(first->next_after, "l-3");
  auto second = store_->ListListings(2, first->next_after, "acme");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].listing_id, "l-4");
  EXPECT_EQ(second->next_after, "");
  EXPECT_EQ(store_->ListListings(10, "", "")->items.size(), 4u);
}

TEST_F(ProviderStoreTest, TokensAreStoredAsHashesAndRevoked) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("acme")).ok());
  const std::string hash(32, '\x01');
  auto token = store_->IssueProviderToken("acme", hash);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_FALSE(token->token_id.empty());
  EXPECT_EQ(store_->IssueProviderToken("nobody", std::string(32, '\x02')).status().code(),
            absl::StatusCode::kNotFound);

  auto active = store_->ActiveProviderTokens();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].token_sha256, hash);
  EXPECT_EQ((*active)[0].provider_id, "acme");

  auto revoked = store_->RevokeProviderToken(token->token_id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->token_sha256, hash);
  EXPECT_TRUE(store_->ActiveProviderTokens()->empty());
  EXPECT_TRUE(store_->RevokeProviderToken(token->token_id).ok()) << "revoking twice is fine";
  EXPECT_EQ(store_->RevokeProviderToken("tok-unknown").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace intake::store
