// SubmitCallback's abuse limits end to end (--client_rate, --client_burst, --global_rate):
// refusals are RESOURCE_EXHAUSTED with a google.rpc.RetryInfo, store nothing and are counted;
// the client is the peer, or form.client_ip only when the call carries a valid intake key.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

using v1::IntakeService;

constexpr char kIntakeKey[] = "site-key-0123456789abcdef0123456789";

// The RetryInfo a failed call carried; nullopt if none.
std::optional<absl::Duration> RetryDelay(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      return absl::Seconds(retry.retry_delay().seconds()) +
             absl::Nanoseconds(retry.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

// A valid request from a caller numbered `n` (a distinct phone each), on behalf of `client_ip`.
v1::SubmitCallbackRequest Request(int n, const std::string& client_ip = "") {
  v1::SubmitCallbackRequest request = ValidRequest(absl::StrCat("(212) 736-", 5000 + n));
  request.mutable_form()->set_client_ip(client_ip);
  return request;
}

class RateLimitTest : public ::testing::Test {
 protected:
  // Starts intaked with `args` (rates so slow that no token comes back during a test, however
  // loaded the machine), keys required if `with_keys`.
  void Start(std::vector<std::string> args, bool with_keys = false) {
    if (with_keys) {
      std::ofstream(dir_.File("keys")) << kIntakeKey << "\n";
      args.push_back("--intake_keys_file=" + dir_.File("keys"));
    }
    server_ = IntakedProcess::Start(args);
    ASSERT_NE(server_, nullptr);
    intake_ = IntakeService::NewStub(server_->PublicChannel());
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  }
  grpc::Status Submit(const v1::SubmitCallbackRequest& request, const std::string& key = "") {
    v1::SubmitCallbackResponse response;
    return intake_->SubmitCallback(Context(key).get(), request, &response);
  }
  int64_t Leads() {
    return QueryInt(server_->data_dir() + "/intake.db", "SELECT count(*) FROM leads");
  }
  v1::StatsTotals Totals() {
    v1::GetStatsResponse stats;
    EXPECT_TRUE(admin_->GetStats(Context(server_->AdminToken()).get(), {}, &stats).ok());
    return stats.totals();
  }

  TempDir dir_;
  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<IntakeService::Stub> intake_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(RateLimitTest, OverTheBurstIsResourceExhaustedWithRetryInfoAndStoresNothing) {
  Start({"--client_rate=0.001", "--client_burst=3"});
  for (int n = 0; n < 3; ++n) ASSERT_TRUE(Submit(Request(n)).ok()) << n;
  const v1::SubmitCallbackRequest refused = Request(3);
  const grpc::Status status = Submit(refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const std::optional<absl::Duration> retry = RetryDelay(status);
  ASSERT_TRUE(retry.has_value()) << "no google.rpc.RetryInfo";
  // One token back at 0.001/s takes up to 1000 s.
  EXPECT_GT(*retry, absl::Seconds(900));
  EXPECT_LE(*retry, absl::Seconds(1000));
  EXPECT_FALSE(absl::StrContains(status.error_message(), "736"));
  EXPECT_FALSE(absl::StrContains(status.error_details(), refused.caller().phone()));

  EXPECT_EQ(Leads(), 3);
  const v1::StatsTotals totals = Totals();
  EXPECT_EQ(totals.submissions(), 4u);
  EXPECT_EQ(totals.leads(), 3u);
  EXPECT_EQ(totals.rate_limited(), 1u);
  EXPECT_EQ(totals.invalid_submissions(), 0u);
  // Refused before validation: a refused invalid call is a rate-limited one, not an invalid one.
  EXPECT_EQ(Submit(ValidRequest("(212) 555-0100")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Totals().rate_limited(), 2u);
}

// Without an intake key form.client_ip is the caller's word: changing it escapes nothing.
TEST_F(RateLimitTest, AnOpenApiLimitsThePeerWhateverClientIpSays) {
  Start({"--client_rate=0.001", "--client_burst=1"});
  ASSERT_TRUE(Submit(Request(0, "203.0.113.1")).ok());
  EXPECT_EQ(Submit(Request(1, "203.0.113.2")).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Leads(), 1);
}

// A gateway holding an intake key submits for many people: each form.client_ip is a client of
// its own, and the gateway's own calls (no client_ip) are limited as its peer address.
TEST_F(RateLimitTest, WithAnIntakeKeyEachClientIpHasItsOwnBucket) {
  Start({"--client_rate=0.001", "--client_burst=1"}, /*with_keys=*/true);
  ASSERT_TRUE(Submit(Request(0, "203.0.113.1"), kIntakeKey).ok());
  EXPECT_EQ(Submit(Request(1, "203.0.113.1"), kIntakeKey).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_TRUE(Submit(Request(2, "203.0.113.2"), kIntakeKey).ok());
  // The same /64 of IPv6 is one client.
  ASSERT_TRUE(Submit(Request(3, "2001:db8:1:2::1"), kIntakeKey).ok());
  EXPECT_EQ(Submit(Request(4, "2001:db8:1:2::99"), kIntakeKey).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_TRUE(Submit(Request(5), kIntakeKey).ok());
  EXPECT_EQ(Submit(Request(6), kIntakeKey).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Leads(), 4);
  EXPECT_EQ(Totals().rate_limited(), 3u);
}

TEST_F(RateLimitTest, TheGlobalRateLimitsAllClientsTogether) {
  Start({"--global_rate=0.001"}, /*with_keys=*/true);
  ASSERT_TRUE(Submit(Request(0, "203.0.113.1"), kIntakeKey).ok());
  const grpc::Status status = Submit(Request(1, "203.0.113.2"), kIntakeKey);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(RetryDelay(status).has_value());
  EXPECT_EQ(Leads(), 1);
}

// The default lets a person who retries a few times in a row through: ten at once.
TEST_F(RateLimitTest, TheDefaultLetsAPersonRetry) {
  Start({"--client_rate=1"});  // The default rate (the fixture turns it off); default burst.
  for (int n = 0; n < 10; ++n) EXPECT_TRUE(Submit(Request(0)).ok()) << n;
  EXPECT_EQ(Leads(), 1);
}

TEST(RateLimitFlagsTest, OutOfRangeValuesAreUsageErrors) {
  for (const char* flag : {"--client_rate=-1", "--client_burst=0.5", "--global_rate=-2"}) {
    const ExitResult result = RunIntaked({flag});
    EXPECT_EQ(result.exit_code, 2) << flag;
    EXPECT_TRUE(absl::StrContains(result.stderr_text, std::string(flag).substr(0, 12))) << flag;
  }
}

}  // namespace
}  // namespace intake::testing
