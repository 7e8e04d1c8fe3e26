#include "tests/e2e/submission_load.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {

SubmissionLoad::SubmissionLoad(const std::string& address, int lanes, const std::string& run_tag)
    : submissions_(run_tag, /*first_caller=*/0, /*listing_id=*/"") {
  lanes_.reserve(lanes);
  for (int i = 0; i < lanes; ++i) lanes_.emplace_back([this, address] { Lane(address); });
}

SubmissionLoad::~SubmissionLoad() { Stop(); }

void SubmissionLoad::Stop() {
  stopping_ = true;
  for (std::thread& lane : lanes_) {
    if (lane.joinable()) lane.join();
  }
}

void SubmissionLoad::Lane(const std::string& address) {
  // A channel per lane: calls on one HTTP/2 connection would queue behind each other in the
  // client before the server sees them.
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  v1::SubmitCallbackRequest request;
  while (!stopping_) {
    submissions_.Fill(next_call_++, &request);
    v1::SubmitCallbackResponse response;
    const grpc::Status status =
        stub->SubmitCallback(Context("", absl::Seconds(5)).get(), request, &response);
    {
      absl::MutexLock lock(&mu_);
      if (status.ok()) {
        acknowledged_[request.request_id()] = response.submission_id();
      } else {
        ++failures_[status.error_code()];
      }
    }
    if (!status.ok()) absl::SleepFor(absl::Milliseconds(10));
  }
}

bool SubmissionLoad::WaitForAcknowledged(int64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [&] {
    mu_.AssertReaderHeld();
    return static_cast<int64_t>(acknowledged_.size()) >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool SubmissionLoad::WaitForCode(grpc::StatusCode code, int64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [&] {
    mu_.AssertReaderHeld();
    const auto it = failures_.find(code);
    return it != failures_.end() && it->second >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

Acknowledged SubmissionLoad::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}

std::map<grpc::StatusCode, int64_t> SubmissionLoad::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

void ExpectIntactWithEveryAcknowledged(const std::string& db, const Acknowledged& acknowledged) {
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok") << db;
  std::map<std::string, int> stored;
  for (const std::string& id :
       QueryColumn(db, "SELECT request_id FROM submissions WHERE request_id IS NOT NULL")) {
    ++stored[id];
  }
  int missing = 0;
  int repeated = 0;
  for (const auto& [request_id, submission_id] : acknowledged) {
    const int copies = stored[request_id];
    missing += copies == 0;
    repeated += copies > 1;
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged submissions in " << db;
  EXPECT_EQ(repeated, 0) << "of " << acknowledged.size() << " acknowledged submissions in " << db;
}

}  // namespace intake::testing
