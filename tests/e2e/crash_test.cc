// A reply of OK means the lead is on disk: intaked is killed with SIGKILL while clients
// submit, and after a restart every acknowledged submission is there exactly once.
#include <signal.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

v1::SubmitCallbackRequest Request(int client, int n) {
  static constexpr const char* kAreaCodes[] = {"212", "305", "646", "718",
                                               "312", "415", "617", "202"};
  v1::SubmitCallbackRequest r;
  r.set_request_id(absl::StrCat("crash-", client, "-", n));
  r.mutable_caller()->set_phone(absl::StrFormat("(%s) 736-%04d", kAreaCodes[client], n));
  r.mutable_consent()->set_granted(true);
  r.mutable_consent()->set_text("I agree to be called back.");
  return r;
}

TEST(CrashTest, EveryAcknowledgedSubmissionSurvivesSigkillExactlyOnce) {
  constexpr int kClients = 8;
  TempDir dir;
  const std::string data_dir = dir.File("var");
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);

  absl::Mutex mu;
  std::map<std::string, std::string> acknowledged;  // request_id -> submission_id
  std::atomic<int> ok_count{0};
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::IntakeService::NewStub(server->PublicChannel());
      for (int n = 0; n < 10000; ++n) {
        const v1::SubmitCallbackRequest request = Request(c, n);
        v1::SubmitCallbackResponse response;
        if (!stub->SubmitCallback(Context("", absl::Seconds(5)).get(), request, &response).ok()) {
          return;  // The server is gone.
        }
        absl::MutexLock lock(&mu);
        acknowledged[request.request_id()] = response.submission_id();
        ++ok_count;
      }
    });
  }
  // Kill mid-stream, once a good number of submissions have been acknowledged.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ok_count.load() < 1000 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  server->Stop(SIGKILL);
  for (std::thread& t : clients) t.join();
  ASSERT_GE(ok_count.load(), 1000);

  server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  const std::string db = data_dir + "/intake.db";
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  std::map<std::string, int> stored;
  for (const std::string& id :
       QueryColumn(db, "SELECT request_id FROM submissions WHERE request_id IS NOT NULL")) {
    ++stored[id];
  }
  int missing = 0;
  for (const auto& [request_id, submission_id] : acknowledged) {
    if (stored[request_id] != 1) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged submissions";
  // Each stored submission is a lead of its own (every phone is distinct).
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM leads"),
            QueryInt(db, "SELECT count(*) FROM submissions"));

  // A client retrying an acknowledged submission gets the same id back.
  auto stub = v1::IntakeService::NewStub(server->PublicChannel());
  const auto& [request_id, submission_id] = *acknowledged.begin();
  const int client = request_id[6] - '0';
  const int n = std::stoi(request_id.substr(request_id.rfind('-') + 1));
  v1::SubmitCallbackResponse response;
  ASSERT_TRUE(stub->SubmitCallback(Context().get(), Request(client, n), &response).ok());
  EXPECT_EQ(response.submission_id(), submission_id);
}

}  // namespace
}  // namespace intake::testing
