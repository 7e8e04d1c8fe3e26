#include "server/store/migrations.h"

#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "gtest/gtest.h"
#include "server/store/connection.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::intake::testing::TempDir;

constexpr Migration kTwo[] = {
    {1, "CREATE TABLE a (x INTEGER NOT NULL)"},
    {2, "CREATE TABLE b (y INTEGER NOT NULL); INSERT INTO a VALUES (1)"},
};

class MigrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<SQLite::Database> Open() {
    auto db = OpenConnection(dir_.File("intake.db"), ConnectionRole::kWriter);
    EXPECT_TRUE(db.ok()) << db.status();
    return *std::move(db);
  }
  TempDir dir_;
};

TEST_F(MigrationsTest, FreshDatabaseGetsEveryMigration) {
  auto db = Open();
  EXPECT_EQ(SchemaVersion(*db).value(), 0);
  EXPECT_EQ(Migrate(*db, kTwo).value(), 2);
  EXPECT_EQ(SchemaVersion(*db).value(), 2);
  EXPECT_TRUE(db->tableExists("a"));
  EXPECT_TRUE(db->tableExists("b"));
  EXPECT_EQ(db->execAndGet("SELECT count(*) FROM schema_version").getInt(), 1);
}

TEST_F(MigrationsTest, ReopeningAppliesNothingTwice) {
  EXPECT_EQ(Migrate(*Open(), kTwo).value(), 2);
  auto db = Open();
  EXPECT_EQ(Migrate(*db, kTwo).value(), 2);
  EXPECT_EQ(db->execAndGet("SELECT count(*) FROM a").getInt(), 1);
}

TEST_F(MigrationsTest, OlderDatabaseGetsOnlyTheNewSteps) {
  EXPECT_EQ(Migrate(*Open(), absl::MakeConstSpan(kTwo, 1)).value(), 1);
  auto db = Open();
  EXPECT_FALSE(db->tableExists("b"));
  EXPECT_EQ(Migrate(*db, kTwo).value(), 2);
  EXPECT_TRUE(db->tableExists("b"));
  EXPECT_EQ(db->execAndGet("SELECT count(*) FROM a").getInt(), 1);
}

TEST_F(MigrationsTest, NewerDatabaseIsRefusedAndLeftAlone) {
  EXPECT_EQ(Migrate(*Open(), kTwo).value(), 2);
  auto db = Open();
  absl::StatusOr<int> version = Migrate(*db, absl::MakeConstSpan(kTwo, 1));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(version.status().message().find("schema version 2"), std::string::npos)
      << version.status();
  EXPECT_EQ(SchemaVersion(*db).value(), 2);
}

TEST_F(MigrationsTest, FailingStepRollsBackTheWholeRun) {
  constexpr Migration kBroken[] = {
      {1, "CREATE TABLE a (x INTEGER NOT NULL)"},
      {2, "CREATE TABLE c (z INTEGER); THIS IS NOT SQL"},
  };
  auto db = Open();
  EXPECT_FALSE(Migrate(*db, kBroken).ok());
  EXPECT_EQ(SchemaVersion(*db).value(), 0);
  EXPECT_FALSE(db->tableExists("a"));
  EXPECT_FALSE(db->tableExists("c"));
}

TEST_F(MigrationsTest, MisnumberedMigrationsAreRejected) {
  constexpr Migration kGap[] = {{1, "SELECT 1"}, {3, "SELECT 1"}};
  auto db = Open();
  EXPECT_EQ(Migrate(*db, kGap).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SchemaVersion(*db).value(), 0);
}

TEST_F(MigrationsTest, ProductionMigrationsAreDenseAndApply) {
  absl::Span<const Migration> all = SchemaMigrations();
  ASSERT_FALSE(all.empty());
  auto db = Open();
  EXPECT_EQ(Migrate(*db).value(), static_cast<int>(all.size()));
  EXPECT_EQ(db->execAndGet("PRAGMA integrity_check").getString(), "ok");
  SQLite::Statement foreign_key_violations(*db, "PRAGMA foreign_key_check");
  EXPECT_FALSE(foreign_key_violations.executeStep());
}

}  // namespace
}  // namespace intake::store
