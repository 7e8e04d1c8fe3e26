#include "server/store/statement_cache.h"

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"

namespace intake::store {
namespace {

int64_t StepOnce(SQLite::Statement& stmt) {
  EXPECT_TRUE(stmt.executeStep());
  return stmt.getColumn(0).getInt64();
}

// Whether a statement of the connection is between its first step and its reset.
bool AnyStatementBusy(SQLite::Database& db) {
  for (sqlite3_stmt* stmt = sqlite3_next_stmt(db.getHandle(), nullptr); stmt != nullptr;
       stmt = sqlite3_next_stmt(db.getHandle(), stmt)) {
    if (sqlite3_stmt_busy(stmt) != 0) return true;
  }
  return false;
}

TEST(StatementCacheTest, ReusesACompiledStatementResetAndUnbound) {
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  StatementCache cache(db);
  SQLite::Statement& first = cache.Get("SELECT coalesce(?1, 0) + 1");
  first.bind(1, 41);
  EXPECT_EQ(StepOnce(first), 42);
  SQLite::Statement& again = cache.Get("SELECT coalesce(?1, 0) + 1");
  EXPECT_EQ(&again, &first);
  EXPECT_EQ(StepOnce(again), 1) << "the binding of the last use is gone";
}

TEST(StatementCacheTest, ATextAtAReusedAddressGetsItsOwnStatement) {
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  StatementCache cache(db);
  std::string sql = "SELECT 1";
  const char* address = sql.c_str();
  EXPECT_EQ(StepOnce(cache.Get(sql.c_str())), 1);
  sql[7] = '2';  // Same buffer, other text.
  ASSERT_EQ(sql.c_str(), address);
  EXPECT_EQ(StepOnce(cache.Get(sql.c_str())), 2);
  sql[7] = '1';
  EXPECT_EQ(StepOnce(cache.Get(sql.c_str())), 1);
}

TEST(StatementCacheTest, ResetAllEndsTheReadsOfEveryStatementHandedOut) {
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)");
  StatementCache cache(db);
  SQLite::Statement& scan = cache.Get("SELECT x FROM t");
  ASSERT_TRUE(scan.executeStep());  // Mid-scan: the statement holds a read.
  EXPECT_TRUE(AnyStatementBusy(db));
  cache.ResetAll();
  EXPECT_FALSE(AnyStatementBusy(db));
}

}  // namespace
}  // namespace intake::store
