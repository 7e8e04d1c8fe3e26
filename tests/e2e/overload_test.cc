// Overload against the real intaked (--max_pending_submissions): once the bound of submissions
// waiting for the database is reached, further valid ones are shed at once with UNAVAILABLE and
// counted, every one answered OK is stored, and the server serves normally once the database
// catches up. The database is held back by a write transaction of the test's own, so the
// backlog does not depend on how fast this machine commits.
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/submission_load.h"
#include "tests/testing/http_get.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(120);

// The value of the sample `series` (name and labels, as exposed) on the metrics endpoint at
// `address`; -1 if absent.
double MetricValue(const std::string& address, const std::string& series) {
  absl::StatusOr<std::string> body = HttpGet(address, "/metrics");
  if (!body.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    if (!absl::ConsumePrefix(&line, series) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    return absl::SimpleAtod(line, &value) ? value : -1;
  }
  return -1;
}

// A write transaction on the database at `path`, held until destroyed: intaked's writer waits
// for it (up to its busy timeout per batch), so its submissions stay in flight meanwhile.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK ||
        sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot lock " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  ~WriteLock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

TEST(OverloadTest, PastTheBoundSubmissionsAreShedWithUnavailableAndEveryAcknowledgedOneIsStored) {
  // tmpfs where there is one: fsync costs nothing, so what is tested is the bound, not the disk.
  TempDir dir(std::filesystem::is_directory("/dev/shm")
                  ? std::string("/dev/shm")
                  : std::filesystem::temp_directory_path().string());
  const std::string data_dir = dir.File("data");
  std::filesystem::create_directory(data_dir);
  std::unique_ptr<IntakedProcess> server =
      IntakedProcess::Start({"--max_pending_submissions=2"}, data_dir);
  ASSERT_NE(server, nullptr);
  const std::string db = data_dir + "/intake.db";
  const std::string shed_series = R"(intake_submissions_total{outcome="shed"})";
  EXPECT_EQ(MetricValue(server->metrics_address(), shed_series), 0);

  SubmissionLoad load(server->listen_address(), /*lanes=*/8, "overload0000test");
  {
    const WriteLock lock(db);
    // With the writer held, at most 2 calls wait; the other lanes' calls are shed at once.
    ASSERT_TRUE(load.WaitForCode(grpc::StatusCode::UNAVAILABLE, 50, kPatience)) << server->Stderr();
  }
  // The writer commits again: calls get through while the lanes keep up the pressure.
  ASSERT_TRUE(load.WaitForAcknowledged(50, kPatience)) << server->Stderr();
  load.Stop();

  const std::map<grpc::StatusCode, int64_t> failures = load.failures();
  for (const auto& [code, count] : failures) {
    // UNAVAILABLE: shed (or a batch whose busy wait outlasted the lock on a slow machine);
    // DEADLINE_EXCEEDED: one of the two waiting calls, if the lock outlasted its deadline.
    EXPECT_TRUE(code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::DEADLINE_EXCEEDED)
        << code << " x" << count;
  }
  const double shed = MetricValue(server->metrics_address(), shed_series);
  // Each batch the lock keeps waiting fails after the writer's busy timeout (5 s) with an
  // UNAVAILABLE of its own: on a very slow machine a few of the 50 may be those.
  EXPECT_GE(shed, 25);
  EXPECT_LE(shed, static_cast<double>(failures.at(grpc::StatusCode::UNAVAILABLE)));

  // Promise 1: every OK is a stored lead, exactly once. Shed calls stored nothing: the leads
  // beyond those acknowledged can only be calls whose deadline passed as they committed.
  const Acknowledged acknowledged = load.acknowledged();
  ExpectIntactWithEveryAcknowledged(db, acknowledged);
  const auto timed_out = failures.find(grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LE(QueryInt(db, "SELECT COUNT(*) FROM leads"),
            static_cast<int64_t>(acknowledged.size()) +
                (timed_out == failures.end() ? 0 : timed_out->second));

  // And the server goes on serving.
  auto stub = v1::IntakeService::NewStub(server->PublicChannel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::SubmitCallbackResponse response;
  const grpc::Status after = stub->SubmitCallback(&context, ValidRequest(), &response);
  EXPECT_TRUE(after.ok()) << after.error_code() << " " << after.error_message();
  EXPECT_EQ(MetricValue(server->metrics_address(), shed_series), shed);
}

}  // namespace
}  // namespace intake::testing
