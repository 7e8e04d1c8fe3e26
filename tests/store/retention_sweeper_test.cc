// The retention sweep on SQLite: what its queries cost. Its behaviour on both backends is in
// tests/store/storage_conformance_test.cc (RetentionConformanceTest).
#include <string>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "gtest/gtest.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

class RetentionSweeperTest : public StoreFixture {};

// The step's query must use the partial index, or every step would scan the erased leads.
TEST_F(RetentionSweeperTest, DueLeadsAreFoundThroughAnIndexOfLeadsWithData) {
  SQLite::Database db(path(), SQLite::OPEN_READONLY);
  SQLite::Statement plan(db,
                         "EXPLAIN QUERY PLAN SELECT lead_id FROM leads WHERE sealed IS NOT NULL "
                         "AND last_submit_time_us < 0 ORDER BY last_submit_time_us LIMIT 100");
  ASSERT_TRUE(plan.executeStep());
  EXPECT_NE(plan.getColumn(3).getString().find("leads_with_data"), std::string::npos)
      << plan.getColumn(3).getString();
}

}  // namespace
}  // namespace intake::store
