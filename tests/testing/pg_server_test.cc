#include "tests/testing/pg_server.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "server/store/postgres/connection.h"
#include "tests/testing/pg_test.h"

namespace intake::testing {
namespace {

using ::intake::store::postgres::Connection;

std::unique_ptr<Connection> Connect(const std::string& uri) {
  auto conn = Connection::Open(uri, "pg_server_test");
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? *std::move(conn) : nullptr;
}

std::string Show(Connection& conn, const std::string& setting) {
  auto result = conn.Exec("SELECT current_setting($1)", {setting});
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? std::string(result->Text(0, 0)) : "";
}

using PgServerTest = PgTest;

TEST_F(PgServerTest, ServesOnlyItsSocketWithDurableSettings) {
  // As the superuser: reading unix_socket_directories takes pg_read_all_settings.
  std::unique_ptr<Connection> conn = Connect(server_->Uri("postgres", "postgres"));
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(Show(*conn, "listen_addresses"), "") << "no TCP listener";
  EXPECT_EQ(Show(*conn, "unix_socket_directories"), server_->socket_dir());
  EXPECT_EQ(Show(*conn, "fsync"), "on");
  EXPECT_EQ(Show(*conn, "synchronous_commit"), "on");
  EXPECT_EQ(Show(*conn, "full_page_writes"), "on");
  EXPECT_EQ(Show(*conn, "server_version_num").substr(0, 2), "15");
}

TEST_F(PgServerTest, TestsConnectAsAnOrdinaryRoleThatOwnsItsDatabase) {
  std::unique_ptr<Connection> conn = Connect(uri_);
  ASSERT_NE(conn, nullptr);
  auto role = conn->Exec(
      "SELECT current_user, rolsuper::text, pg_get_userbyid(datdba) FROM pg_roles, pg_database "
      "WHERE rolname = current_user AND datname = current_database()");
  ASSERT_TRUE(role.ok()) << role.status();
  EXPECT_EQ(role->Text(0, 0), "intake");
  EXPECT_EQ(role->Text(0, 1), "false");
  EXPECT_EQ(role->Text(0, 2), "intake");
  // PostgreSQL 15 lets only the owner create in the public schema: the owner can.
  EXPECT_TRUE(conn->ExecScript("CREATE TABLE t (k int)").ok());
}

TEST_F(PgServerTest, TheServerRunsAsAnUnprivilegedAccount) {
  struct stat data;
  ASSERT_EQ(stat((server_->socket_dir() + "/data").c_str(), &data), 0);
  // The cluster's files belong to the account the server runs as (PostgreSQL checks).
  EXPECT_NE(data.st_uid, 0u);
  if (geteuid() != 0) {
    EXPECT_EQ(data.st_uid, geteuid());
  }
}

TEST_F(PgServerTest, EachTestGetsAnEmptyDatabaseOfItsOwn) {
  absl::StatusOr<std::string> other = server_->CreateDatabase();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(*other, database_);
  std::unique_ptr<Connection> a = Connect(uri_);
  std::unique_ptr<Connection> b = Connect(server_->Uri(*other));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->ExecScript("CREATE TABLE only_in_a (k int)").ok());
  auto tables = b->Exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  ASSERT_TRUE(tables.ok()) << tables.status();
  EXPECT_EQ(tables->Int64(0, 0), 0);
}

TEST_F(PgServerTest, CommittedRowsSurviveACrash) {
  {
    std::unique_ptr<Connection> conn = Connect(uri_);
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->ExecScript("CREATE TABLE t (k int); INSERT INTO t VALUES (7)").ok());
  }
  ASSERT_TRUE(server_->CrashAndRestart().ok());
  EXPECT_NE(server_->Log().find("database system was interrupted"), std::string::npos)
      << "the restart replayed the WAL after an immediate shutdown\n"
      << server_->Log();
  std::unique_ptr<Connection> conn = Connect(uri_);
  ASSERT_NE(conn, nullptr);
  auto row = conn->Exec("SELECT k FROM t");
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->Int64(0, 0), 7);
}

TEST(PgServerLifetimeTest, DestroyingTheServerStopsItAndRemovesItsDirectory) {
  absl::StatusOr<std::unique_ptr<PgServer>> server = PgServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = (*server)->socket_dir();
  const std::string uri = (*server)->Uri("postgres");
  ASSERT_EQ(PQping(uri.c_str()), PQPING_OK);
  server->reset();
  EXPECT_EQ(PQping(uri.c_str()), PQPING_NO_RESPONSE);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace intake::testing
