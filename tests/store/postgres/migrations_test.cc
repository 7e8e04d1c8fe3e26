#include "server/store/postgres/migrations.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

class MigrationsTest : public ::intake::testing::PgTest {
 protected:
  std::unique_ptr<Connection> Connect(const std::string& uri = "") {
    auto conn = Connection::Open(uri.empty() ? uri_ : uri, "migrations_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  int64_t QueryInt(Connection& conn, const std::string& sql) {
    auto result = conn.Exec(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
    return result.ok() && result->rows() == 1 ? result->Int64(0, 0) : -1;
  }
};

TEST_F(MigrationsTest, AFreshDatabaseGetsTheWholeSchema) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(*SchemaVersion(*conn), 0);
  absl::StatusOr<int> version = Migrate(*conn);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, static_cast<int>(SchemaMigrations().size()));
  EXPECT_EQ(*SchemaVersion(*conn), *version);
  for (const char* table : {"instance", "providers", "listings", "provider_tokens", "consent_texts",
                            "leads", "submissions", "lead_events", "lead_event_head", "quarantine",
                            "counters", "contact_attempts"}) {
    EXPECT_EQ(QueryInt(*conn, absl::StrCat("SELECT count(*) FROM pg_tables WHERE tablename = '",
                                           table, "'")),
              1)
        << table;
  }
  auto instance = conn->Exec("SELECT instance_id, create_time_us FROM instance");
  ASSERT_TRUE(instance.ok()) << instance.status();
  ASSERT_EQ(instance->rows(), 1);
  EXPECT_EQ(instance->Text(0, 0).size(), 32u);
  EXPECT_GT(instance->Int64(0, 1), int64_t{1'600'000'000} * 1'000'000);
  EXPECT_EQ(QueryInt(*conn, "SELECT last_sequence FROM lead_event_head"), 0);
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM counters WHERE value = 0"), 6);
  EXPECT_EQ(QueryInt(*conn,
                     "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                     "'Lock' AND datname = current_database()"),
            0);
}

TEST_F(MigrationsTest, MigratingAgainChangesNothing) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(Migrate(*conn).ok());
  auto before = conn->Exec("SELECT instance_id FROM instance");
  ASSERT_TRUE(before.ok());
  absl::StatusOr<int> again = Migrate(*conn);
  ASSERT_TRUE(again.ok()) << again.status();
  auto after = conn->Exec("SELECT instance_id FROM instance");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->Text(0, 0), before->Text(0, 0));
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM schema_version"), 1);
  EXPECT_TRUE(conn->ExecScript("BEGIN; ROLLBACK").ok()) << "no transaction left open";
}

TEST_F(MigrationsTest, ADatabaseFromANewerIntakedIsRefused) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(Migrate(*conn).ok());
  ASSERT_TRUE(conn->ExecScript("UPDATE schema_version SET version = version + 1").ok());
  absl::StatusOr<int> version = Migrate(*conn);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(version.status().message(), "run a newer intaked"))
      << version.status();
}

TEST_F(MigrationsTest, MigrationsMustBeNumberedFromOneWithoutGaps) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  const Migration gap[] = {{1, "CREATE TABLE a (k int)"}, {3, "CREATE TABLE b (k int)"}};
  EXPECT_EQ(Migrate(*conn, gap).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*SchemaVersion(*conn), 0);
}

TEST_F(MigrationsTest, AFailingStepLeavesTheDatabaseAsItWas) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_NE(conn, nullptr);
  const Migration first[] = {{1, "CREATE TABLE a (k int)"}};
  ASSERT_EQ(*Migrate(*conn, first), 1);
  const Migration broken[] = {
      {1, "CREATE TABLE a (k int)"},
      {2, "CREATE TABLE b (k int); INSERT INTO a VALUES (1)"},
      {3, "CREATE TABLE a (k int)"},  // Exists already: 42P07.
  };
  absl::StatusOr<int> version = Migrate(*conn, broken);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition) << version.status();
  EXPECT_TRUE(absl::StrContains(version.status().message(), "migration 3")) << version.status();
  EXPECT_EQ(*SchemaVersion(*conn), 1);
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM a"), 0);
}

TEST_F(MigrationsTest, ReplicasStartingAtOnceMigrateExactlyOnce) {
  // Step 2 is not idempotent: run twice, it would insert two rows (or fail on the table).
  const Migration steps[] = {
      {1, "CREATE TABLE a (k int)"},
      {2, "CREATE TABLE b (k int); INSERT INTO a VALUES (1)"},
  };
  constexpr int kReplicas = 8;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < kReplicas; ++i) {
    conns.push_back(Connect());
    ASSERT_NE(conns.back(), nullptr);
  }
  absl::Barrier start(kReplicas);
  std::vector<absl::StatusOr<int>> results(kReplicas, absl::UnknownError("not run"));
  std::vector<std::thread> replicas;
  replicas.reserve(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    replicas.emplace_back([&, i] {
      start.Block();
      results[i] = Migrate(*conns[i], steps);
    });
  }
  for (std::thread& t : replicas) t.join();
  for (const absl::StatusOr<int>& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, 2);
  }
  EXPECT_EQ(QueryInt(*conns[0], "SELECT count(*) FROM a"), 1);
}

TEST_F(MigrationsTest, ReplicasStartingAtOnceOnTheRealSchemaAllSucceed) {
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < kReplicas; ++i) {
    conns.push_back(Connect());
    ASSERT_NE(conns.back(), nullptr);
  }
  absl::Barrier start(kReplicas);
  std::vector<absl::Status> results(kReplicas);
  std::vector<std::thread> replicas;
  replicas.reserve(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    replicas.emplace_back([&, i] {
      start.Block();
      results[i] = Migrate(*conns[i]).status();
    });
  }
  for (std::thread& t : replicas) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(QueryInt(*conns[0], "SELECT count(*) FROM instance"), 1);
}

TEST_F(MigrationsTest, ARoleThatCannotCreateStartsOnAMigratedDatabase) {
  {
    std::unique_ptr<Connection> owner = Connect();
    ASSERT_NE(owner, nullptr);
    ASSERT_TRUE(Migrate(*owner).ok());
  }
  const std::string role = absl::StrCat("replica_", database_);
  absl::Status granted = server_->ExecAsSuperuser(
      database_, absl::StrCat("CREATE ROLE ", role,
                              " LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ", role));
  ASSERT_TRUE(granted.ok()) << granted;
  std::unique_ptr<Connection> replica = Connect(server_->Uri(database_, role));
  ASSERT_NE(replica, nullptr);
  absl::StatusOr<int> version = Migrate(*replica);
  EXPECT_TRUE(version.ok()) << version.status();
}

}  // namespace
}  // namespace intake::store::postgres
