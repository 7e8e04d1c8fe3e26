#include "server/store/connection.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::intake::testing::TempDir;

std::string Pragma(SQLite::Database& db, const std::string& name) {
  return db.execAndGet("PRAGMA " + name).getString();
}

// Every connection role intaked opens must run with the durability and privacy pragmas.
class ConnectionPragmaTest : public ::testing::TestWithParam<ConnectionRole> {};

TEST_P(ConnectionPragmaTest, RunsWithTheRequiredPragmas) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  // The writer creates the file; the other roles open it.
  auto writer = OpenConnection(path, ConnectionRole::kWriter);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto db =
      GetParam() == ConnectionRole::kWriter ? std::move(writer) : OpenConnection(path, GetParam());
  ASSERT_TRUE(db.ok()) << db.status();

  EXPECT_EQ(Pragma(**db, "journal_mode"), "wal");
  EXPECT_EQ(Pragma(**db, "synchronous"), "2");  // FULL
  EXPECT_EQ(Pragma(**db, "foreign_keys"), "1");
  EXPECT_EQ(Pragma(**db, "secure_delete"), "1");
  EXPECT_EQ(Pragma(**db, "temp_store"), "2");  // MEMORY: no statement journal in /var/tmp
  EXPECT_EQ(Pragma(**db, "busy_timeout"), "5000");
  EXPECT_EQ(Pragma(**db, "wal_autocheckpoint"),
            GetParam() == ConnectionRole::kWriter ? "0" : "1000");
  EXPECT_EQ(Pragma(**db, "query_only"), GetParam() == ConnectionRole::kReader ? "1" : "0");
}

INSTANTIATE_TEST_SUITE_P(AllRoles, ConnectionPragmaTest,
                         ::testing::Values(ConnectionRole::kWriter, ConnectionRole::kReader));

TEST(ConnectionTest, BusyTimeoutFollowsOptions) {
  TempDir dir;
  auto db = OpenConnection(dir.File("intake.db"), ConnectionRole::kWriter,
                           {.busy_timeout = absl::Milliseconds(250)});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(Pragma(**db, "busy_timeout"), "250");
}

TEST(ConnectionTest, ReaderDoesNotCreateAMissingDatabase) {
  TempDir dir;
  auto db = OpenConnection(dir.File("missing.db"), ConnectionRole::kReader);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
  EXPECT_FALSE(std::filesystem::exists(dir.File("missing.db")));
}

TEST(ConnectionTest, ReaderCannotWrite) {
  TempDir dir;
  auto writer = OpenConnection(dir.File("intake.db"), ConnectionRole::kWriter);
  ASSERT_TRUE(writer.ok());
  (*writer)->exec("CREATE TABLE t (x INTEGER)");
  auto reader = OpenConnection(dir.File("intake.db"), ConnectionRole::kReader);
  ASSERT_TRUE(reader.ok());
  EXPECT_THROW((*reader)->exec("INSERT INTO t VALUES (1)"), SQLite::Exception);
}

TEST(ConnectionTest, GarbageFileIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto db = OpenConnection(path, ConnectionRole::kWriter);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
  EXPECT_NE(db.status().message().find(path), std::string::npos);
}

TEST(ConnectionTest, UnopenablePathIsUnavailable) {
  TempDir dir;
  auto db = OpenConnection(dir.File("no/such/dir/intake.db"), ConnectionRole::kWriter);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
}

}  // namespace
}  // namespace intake::store
