// The base of GoogleTest fixtures that need PostgreSQL: the binary's shared server
// (SharedPgServer) and a fresh database for each test.
#ifndef INTAKE_TESTS_TESTING_PG_TEST_H_
#define INTAKE_TESTS_TESTING_PG_TEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/testing/pg_server.h"

namespace intake::testing {

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PgServer*> server = SharedPgServer();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    absl::StatusOr<std::string> database = server_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    uri_ = server_->Uri(database_);
  }

  PgServer* server_ = nullptr;
  std::string database_;  // A database of this test's own, owned by the role `intake`,
  std::string uri_;       // and its URI for that role.
};

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_PG_TEST_H_
