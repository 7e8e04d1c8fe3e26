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

// The step that makes every ASSIGNED event count for rotation: a database whose
// last_assigned_us missed ops' assignments (ReassignLead did not stamp it) gets it from the log.
TEST_F(MigrationsTest, LastAssignedIsRebuiltFromTheEventLog) {
  const absl::Span<const Migration> all = SchemaMigrations();
  size_t step = 0;
  while (step < all.size() &&
         std::string(all[step].sql).find("lead_events_assigned") == std::string::npos) {
    ++step;
  }
  ASSERT_LT(step, all.size());
  auto db = Open();
  ASSERT_TRUE(Migrate(*db, all.first(step)).ok());
  db->exec(
      "INSERT INTO providers (provider_id, display_name, state, regions, daily_cap, time_zone, "
      "hours, create_time_us, update_time_us, last_assigned_us) VALUES "
      "('alpha', 'A', 1, '', 0, 'UTC', '', 0, 0, NULL), "
      "('bravo', 'B', 1, '', 0, 'UTC', '', 0, 0, 3), "
      "('idle', 'I', 1, '', 0, 'UTC', '', 0, 0, NULL)");
  db->exec(
      "INSERT INTO lead_events (lead_id, provider_id, type, event_time_us) VALUES "
      "('l1', 'bravo', 1, 3), ('l1', 'bravo', 3, 7), ('l1', 'alpha', 1, 7), "
      "('l2', 'alpha', 2, 9), ('l3', NULL, 1, 11)");
  ASSERT_TRUE(Migrate(*db, all).ok());
  const auto last = [&](const std::string& id) {
    SQLite::Statement query(*db,
                            "SELECT coalesce(last_assigned_us, -1) FROM providers "
                            "WHERE provider_id = ?");
    query.bind(1, id);
    EXPECT_TRUE(query.executeStep());
    return query.getColumn(0).getInt64();
  };
  EXPECT_EQ(last("alpha"), 7) << "ops gave it l1 at 7; a RESUBMITTED event is no assignment";
  EXPECT_EQ(last("bravo"), 3);
  EXPECT_EQ(last("idle"), -1);

  // The daily cap's count (Store: LoadCandidates) reads the partial index, never the whole log.
  SQLite::Statement plan(*db,
                         "EXPLAIN QUERY PLAN SELECT count(*) FROM lead_events WHERE "
                         "provider_id = 'alpha' AND type = 1 AND event_time_us >= 0");
  ASSERT_TRUE(plan.executeStep());
  EXPECT_NE(plan.getColumn(3).getString().find("lead_events_assigned"), std::string::npos)
      << plan.getColumn(3).getString();
}

// Payload hashes made without a key (before PiiCipher derived its payload subkey) would let
// anyone confirm a guessed submission; the step that knows so drops them.
TEST_F(MigrationsTest, UnkeyedPayloadHashesAreDropped) {
  const absl::Span<const Migration> all = SchemaMigrations();
  size_t step = 0;
  while (step < all.size() &&
         std::string(all[step].sql).find("SET payload_sha256 = X''") == std::string::npos) {
    ++step;
  }
  ASSERT_LT(step, all.size());
  auto db = Open();
  ASSERT_TRUE(Migrate(*db, all.first(step)).ok());
  db->exec(
      "INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, lead_id, "
      "create_time_us) VALUES ('s1', 'r1', X'0102', 1, 'l1', 5), ('s2', NULL, X'03', 3, NULL, 6)");
  ASSERT_TRUE(Migrate(*db, all).ok());
  EXPECT_EQ(
      db->execAndGet("SELECT count(*) FROM submissions WHERE length(payload_sha256) = 0").getInt(),
      2);
}

}  // namespace
}  // namespace intake::store
