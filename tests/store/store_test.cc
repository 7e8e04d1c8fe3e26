#include "server/store/store.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "server/store/migrations.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::intake::testing::TempDir;

TEST(StoreTest, FreshDatabaseIsMigratedAndKeepsItsIdentityAcrossReopens) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  std::string first_id;
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), static_cast<int>(SchemaMigrations().size()));
    first_id = (*store)->instance_id();
    EXPECT_EQ(first_id.size(), 32u);
  }
  auto again = Store::Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->instance_id(), first_id);

  TempDir other;
  auto different = Store::Open(other.File("intake.db"));
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
  auto store = Store::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status();
  EXPECT_NE(store.status().message().find("999"), std::string::npos) << store.status();
}

TEST(StoreTest, CorruptFileIsDataLoss) {
  TempDir dir;
  std::ofstream(dir.File("intake.db")) << "SQLite format 3" << std::string(4096, '\x7f');
  EXPECT_EQ(Store::Open(dir.File("intake.db")).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace intake::store
