#include "server/store/postgres/connection.h"

#include <poll.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

class ConnectionTest : public ::intake::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    conn_ = Connect();
    ASSERT_NE(conn_, nullptr);
  }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(uri_, "connection_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  int64_t Count(const std::string& table) {
    auto n = conn_->Exec("SELECT count(*) FROM " + table);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->Int64(0, 0) : -1;
  }

  std::unique_ptr<Connection> conn_;
};

TEST_F(ConnectionTest, ParametersAndValuesRoundTrip) {
  const std::string bytes(
      "\0\x01\xff\x7f"
      "end",
      7);
  auto row = conn_->Exec(
      "SELECT $1::text, $2::bigint, $3::bytea, $4::text, $5::int",
      {"it's \"quoted\"", int64_t{-9007199254740993}, Param::Bytes(bytes), Param::Null(), 42});
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_EQ(row->rows(), 1);
  ASSERT_EQ(row->columns(), 5);
  EXPECT_EQ(row->Text(0, 0), "it's \"quoted\"");
  EXPECT_EQ(row->Int64(0, 1), -9007199254740993);
  EXPECT_EQ(row->Bytes(0, 2), bytes);
  EXPECT_TRUE(row->IsNull(0, 3));
  EXPECT_EQ(row->Text(0, 3), "");
  EXPECT_EQ(row->Int64(0, 4), 42);
  EXPECT_FALSE(row->IsNull(0, 4));
}

TEST_F(ConnectionTest, AStatementIsPreparedOnceAndReused) {
  for (int i = 0; i < 3; ++i) {
    auto row = conn_->Exec("SELECT $1::int + 1", {i});
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_EQ(row->Int64(0, 0), i + 1);
  }
  auto prepared = conn_->Exec(
      "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'");
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->Int64(0, 0), 1);
}

TEST_F(ConnectionTest, ExecAllRunsEveryStatementInOrder) {
  auto results = conn_->ExecAll({
      {"CREATE TABLE t (k int PRIMARY KEY, v text)", {}},
      {"INSERT INTO t (k, v) VALUES ($1, $2), ($3, $4)", {1, "one", 2, "two"}},
      {"UPDATE t SET v = $1 WHERE k = $2", {"uno", 1}},
      {"SELECT v FROM t ORDER BY k", {}},
  });
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[1].affected_rows(), 2);
  EXPECT_EQ((*results)[2].affected_rows(), 1);
  ASSERT_EQ((*results)[3].rows(), 2);
  EXPECT_EQ((*results)[3].Text(0, 0), "uno");
  EXPECT_EQ((*results)[3].Text(1, 0), "two");
}

TEST_F(ConnectionTest, ExecAllStopsAtTheFirstFailureAndOutsideATransactionKeepsNothing) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (k int PRIMARY KEY)").ok());
  auto results = conn_->ExecAll({
      {"INSERT INTO t (k) VALUES ($1)", {1}},
      {"INSERT INTO t (k) VALUES ($1)", {1}},
      {"INSERT INTO t (k) VALUES ($1)", {2}},
  });
  EXPECT_EQ(results.status().code(), absl::StatusCode::kAlreadyExists) << results.status();
  EXPECT_EQ(Count("t"), 0) << "the statements formed one implicit transaction";
  // The connection is usable afterwards, with the statements it prepared.
  auto again = conn_->ExecAll({{"INSERT INTO t (k) VALUES ($1)", {3}}});
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Count("t"), 1);
}

TEST_F(ConnectionTest, InsideATransactionAFailureAbortsItUntilRolledBackToASavepoint) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (k int PRIMARY KEY); BEGIN").ok());
  ASSERT_TRUE(conn_->ExecAll({{"INSERT INTO t (k) VALUES ($1)", {1}}, {"SAVEPOINT w", {}}}).ok());
  EXPECT_EQ(conn_->Exec("INSERT INTO t (k) VALUES ($1)", {1}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conn_->Exec("SELECT 1").status().code(), absl::StatusCode::kInternal)
      << "in_failed_sql_transaction";
  ASSERT_TRUE(
      conn_
          ->ExecAll({{"ROLLBACK TO w", {}}, {"INSERT INTO t (k) VALUES ($1)", {2}}, {"COMMIT", {}}})
          .ok());
  EXPECT_EQ(Count("t"), 2);
}

// A client may see a store's error message (kUnavailable, kAlreadyExists and
// kFailedPrecondition travel to it as they are): it must describe the class of failure and
// nothing of the statement, its values, the server's DETAIL or the schema.
void ExpectNoStatementOrValue(const absl::Status& status) {
  for (const char* leak : {"INSERT", "UPDATE", "SELECT", "VALUES", "WHERE", "SQLSTATE", "DETAIL",
                           "CONTEXT", "Key (", "t_phone", " t ", "555", "$1"}) {
    EXPECT_FALSE(absl::StrContains(status.message(), leak)) << leak << " in " << status;
  }
}

TEST_F(ConnectionTest, ErrorsDescribeTheirClassButNeverTheStatementOrAValue) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (phone text CONSTRAINT t_phone UNIQUE)").ok());
  const std::string phone = "+13055550123";
  ASSERT_TRUE(conn_->Exec("INSERT INTO t (phone) VALUES ($1)", {phone}).ok());
  absl::StatusOr<Result> dup = conn_->Exec("INSERT INTO t (phone) VALUES ($1)", {phone});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "the database holds this key already");
  ExpectNoStatementOrValue(dup.status());

  // PostgreSQL quotes the value in this one's message text.
  absl::StatusOr<Result> bad = conn_->Exec("SELECT $1::bigint", {"(305) 555-0123"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(bad.status().message(), "the database rejected a statement");
  ExpectNoStatementOrValue(bad.status());

  // This one's DETAIL quotes the whole failing row.
  ASSERT_TRUE(conn_->ExecScript("ALTER TABLE t ADD COLUMN name text NOT NULL DEFAULT ''").ok());
  absl::StatusOr<Result> null =
      conn_->Exec("INSERT INTO t (phone, name) VALUES ($1, NULL)", {"+13055550199"});
  EXPECT_EQ(null.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(null.status().message(), "the database refused the write (integrity constraint)");
  ExpectNoStatementOrValue(null.status());

  absl::StatusOr<Result> syntax = conn_->Exec("SELEC phone FROM t WHERE phone = $1", {phone});
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInternal);
  ExpectNoStatementOrValue(syntax.status());
}

TEST_F(ConnectionTest, ADeadlockIsAFixedRetryableMessage) {
  ASSERT_TRUE(conn_
                  ->ExecScript("CREATE TABLE t (k int PRIMARY KEY, phone text);"
                               "INSERT INTO t VALUES (1, '+13055550123'), (2, '+13055550124')")
                  .ok());
  std::unique_ptr<Connection> other = Connect();
  ASSERT_NE(other, nullptr);
  // Each holds one row and then wants the other's: PostgreSQL aborts one of them after
  // deadlock_timeout (1 s).
  ASSERT_TRUE(conn_->ExecAll({{"BEGIN", {}}, {"UPDATE t SET phone = $1 WHERE k = 1", {"x"}}}).ok());
  ASSERT_TRUE(other->ExecAll({{"BEGIN", {}}, {"UPDATE t SET phone = $1 WHERE k = 2", {"y"}}}).ok());
  absl::Status first;
  std::thread waiter(
      [&] { first = conn_->Exec("UPDATE t SET phone = $1 WHERE k = 2", {"x"}).status(); });
  // The waiter's statement is blocked (or about to be); the deadlock detector resolves the
  // cycle whichever order the two statements arrive in.
  absl::Status second = other->Exec("UPDATE t SET phone = $1 WHERE k = 1", {"y"}).status();
  // The aborted transaction has released its locks already, so the other one goes on.
  waiter.join();
  ASSERT_NE(first.ok(), second.ok()) << first << " / " << second;
  const absl::Status& deadlock = first.ok() ? second : first;
  EXPECT_EQ(deadlock.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(deadlock.message(),
            "the database aborted the transaction (serialization failure or deadlock); retry");
  ExpectNoStatementOrValue(deadlock);
}

TEST_F(ConnectionTest, ALostConnectionIsUnavailable) {
  std::unique_ptr<Connection> admin = Connect();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec("SELECT pg_terminate_backend($1)", {conn_->backend_pid()}).ok());
  absl::StatusOr<Result> after = conn_->Exec("SELECT 1");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable) << after.status();
  EXPECT_FALSE(conn_->ok());
  EXPECT_EQ(conn_->Exec("SELECT 1").status().code(), absl::StatusCode::kUnavailable);
}

// What a replica's writer meets when its machine starves it for longer than
// idle_in_transaction_session_timeout: retryable, as a lost connection is.
TEST_F(ConnectionTest, ASessionEndedForAnIdleTransactionIsUnavailable) {
  const int pid = conn_->backend_pid();
  ASSERT_TRUE(conn_->ExecScript("SET idle_in_transaction_session_timeout = 50; BEGIN").ok());
  std::unique_ptr<Connection> admin = Connect();
  ASSERT_NE(admin, nullptr);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    absl::StatusOr<Result> alive =
        admin->Exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {pid});
    ASSERT_TRUE(alive.ok()) << alive.status();
    if (alive->Int64(0, 0) == 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::StatusOr<Result> after = conn_->Exec("SELECT 1");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable) << after.status();
  ExpectNoStatementOrValue(after.status());
}

TEST_F(ConnectionTest, OpenRefusesAMalformedUriWithoutRepeatingIt) {
  auto conn = Connection::Open("password=s3cr3t dbname", "connection_test");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(conn.status().message(), "s3cr3t")) << conn.status();
}

TEST_F(ConnectionTest, OpenReportsAnUnreachableServerAsUnavailable) {
  auto conn = Connection::Open("postgresql:///postgres?host=/nonexistent", "connection_test");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ConnectionTest, SessionsAreNamedUnlessTheUriSaysOtherwise) {
  auto named = conn_->Exec("SELECT current_setting('application_name')");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->Text(0, 0), "connection_test");
  auto own = Connection::Open(uri_ + "&application_name=mine", "connection_test");
  ASSERT_TRUE(own.ok()) << own.status();
  auto mine = (*own)->Exec("SELECT current_setting('application_name')");
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->Text(0, 0), "mine");
}

TEST_F(ConnectionTest, NotificationsArriveOnTheListeningConnection) {
  ASSERT_TRUE(conn_->ExecScript("LISTEN intake_test").ok());
  std::unique_ptr<Connection> sender = Connect();
  ASSERT_NE(sender, nullptr);
  ASSERT_TRUE(sender->Exec("SELECT pg_notify('intake_test', $1)", {"hello"}).ok());
  std::vector<Notification> received;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (received.empty() && absl::Now() < deadline) {
    pollfd fd{conn_->socket(), POLLIN, 0};
    poll(&fd, 1, 1000);
    auto batch = conn_->TakeNotifications();
    ASSERT_TRUE(batch.ok()) << batch.status();
    received = *std::move(batch);
  }
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].channel, "intake_test");
  EXPECT_EQ(received[0].payload, "hello");
  EXPECT_EQ(received[0].sender_pid, sender->backend_pid());
}

}  // namespace
}  // namespace intake::store::postgres
