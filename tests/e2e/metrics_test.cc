// intaked's Prometheus endpoint as a scraper sees it: known traffic shows up in the gRPC and
// Intake families with the right counts, the exposition passes `promtool check metrics`, no
// personal data appears in it, and --metrics_listen is honoured.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/http_get.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace intake::testing {
namespace {

// The sum of the samples of `name` whose labels include every one of `labels` (name="value"
// pairs as the exposition writes them); nullopt if there is no such sample.
std::optional<double> Sample(const std::string& exposition, const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) {
  std::optional<double> sum;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    const absl::string_view rest = line.substr(name.size());
    if (!rest.empty() && rest[0] != '{' && rest[0] != ' ') continue;  // A longer name.
    const size_t space = line.rfind(' ');
    const absl::string_view series = line.substr(0, space);
    bool match = true;
    for (const auto& [key, value] : labels) {
      match &= absl::StrContains(series, absl::StrCat(key, "=\"", value, "\""));
    }
    double v = 0;
    if (match && absl::SimpleAtod(line.substr(space + 1), &v)) sum = sum.value_or(0) + v;
  }
  return sum;
}

std::map<std::string, std::string> Submit(std::string method = "SubmitCallback") {
  return {{"grpc_service", "intake.v1.IntakeService"}, {"grpc_method", std::move(method)}};
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    ASSERT_FALSE(server_->metrics_address().empty()) << "no metrics_listen in the ports file";
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  }

  std::string Scrape() {
    absl::StatusOr<std::string> body = HttpGet(server_->metrics_address(), "/metrics");
    EXPECT_TRUE(body.ok()) << body.status();
    return body.value_or("");
  }

  grpc::Status Call(const v1::SubmitCallbackRequest& request) {
    v1::SubmitCallbackResponse response;
    return intake_->SubmitCallback(Context().get(), request, &response);
  }

  void CreateProviderAndListing() {
    v1::CreateProviderRequest provider;
    provider.set_provider_id("acme");
    provider.set_display_name("Acme Recovery");
    v1::CreateProviderResponse created;
    ASSERT_TRUE(
        admin_->CreateProvider(Context(server_->AdminToken()).get(), provider, &created).ok());
    v1::CreateListingRequest listing;
    listing.set_listing_id("acme-miami");
    listing.set_provider_id("acme");
    listing.set_display_name("Acme Miami");
    listing.set_region("FL");
    v1::CreateListingResponse listed;
    ASSERT_TRUE(admin_->CreateListing(Context(server_->AdminToken()).get(), listing, &listed).ok());
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// A rate-limited call counts as its own outcome, and with the code the client saw.
TEST_F(MetricsTest, RateLimitedCallsAreCounted) {
  server_ = IntakedProcess::Start({"--client_rate=0.001", "--client_burst=1"});
  ASSERT_NE(server_, nullptr);
  intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
  ASSERT_TRUE(Call(ValidRequest("(212) 736-5001")).ok());
  EXPECT_EQ(Call(ValidRequest("(212) 736-5002")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Call(ValidRequest("12")).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const std::string text = Scrape();
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "rate_limited"}}), 2);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "lead"}}), 1);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "invalid"}}), 0);
  std::map<std::string, std::string> exhausted = Submit();
  exhausted["grpc_code"] = "ResourceExhausted";
  EXPECT_EQ(Sample(text, "grpc_server_handled_total", exhausted), 2);
}

TEST_F(MetricsTest, KnownTrafficShowsUpWithTheRightCounts) {
  CreateProviderAndListing();
  const std::vector<std::string> phones = {"(212) 736-5001", "(212) 736-5002", "(212) 736-5003"};
  for (const std::string& phone : phones) {
    v1::SubmitCallbackRequest request = ValidRequest(phone);
    request.set_listing_id("acme-miami");
    if (phone == phones[0]) request.set_request_id("req-1");
    ASSERT_TRUE(Call(request).ok());
  }
  v1::SubmitCallbackRequest replay = ValidRequest(phones[0]);
  replay.set_listing_id("acme-miami");
  replay.set_request_id("req-1");
  ASSERT_TRUE(Call(replay).ok());
  v1::SubmitCallbackRequest duplicate = ValidRequest(phones[1]);
  duplicate.set_listing_id("acme-miami");
  ASSERT_TRUE(Call(duplicate).ok());
  v1::SubmitCallbackRequest bot = ValidRequest("(212) 736-5009");
  bot.set_honeypot("http://spam.example");
  ASSERT_TRUE(Call(bot).ok());
  EXPECT_EQ(Call(ValidRequest("12")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SubmitCallbackRequest no_consent = ValidRequest("(212) 736-5010");
  no_consent.mutable_consent()->set_granted(false);
  EXPECT_EQ(Call(no_consent).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const std::string text = Scrape();
  auto with = [](std::map<std::string, std::string> labels, const std::string& key,
                 const std::string& value) {
    labels[key] = value;
    return labels;
  };
  // go-grpc-prometheus' families, with its label names and code names.
  EXPECT_EQ(Sample(text, "grpc_server_started_total", Submit()), 8);
  EXPECT_EQ(Sample(text, "grpc_server_handled_total", with(Submit(), "grpc_code", "OK")), 6);
  EXPECT_EQ(
      Sample(text, "grpc_server_handled_total", with(Submit(), "grpc_code", "InvalidArgument")), 2);
  EXPECT_EQ(Sample(text, "grpc_server_handled_total", with(Submit(), "grpc_type", "unary")), 8);
  EXPECT_EQ(Sample(text, "grpc_server_msg_received_total", Submit()), 8);
  EXPECT_EQ(Sample(text, "grpc_server_msg_sent_total", Submit()), 6);  // Errors send none.
  EXPECT_EQ(Sample(text, "grpc_server_handling_seconds_count", Submit()), 8);
  EXPECT_EQ(Sample(text, "grpc_server_handling_seconds_bucket", with(Submit(), "le", "+Inf")), 8);
  EXPECT_EQ(Sample(text, "grpc_server_handled_total",
                   {{"grpc_service", "intake.v1.AdminService"},
                    {"grpc_method", "CreateProvider"},
                    {"grpc_code", "OK"}}),
            1);
  // Series exist at zero before any call, every code included.
  EXPECT_EQ(Sample(text, "grpc_server_handled_total",
                   {{"grpc_method", "GetResponseStats"}, {"grpc_code", "Unavailable"}}),
            0);

  // Intake's own.
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "lead"}}), 3);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "duplicate"}}), 1);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "replay"}}), 1);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "bot"}}), 1);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "invalid"}}), 2);
  EXPECT_EQ(Sample(text, "intake_submissions_total", {{"outcome", "rate_limited"}}), 0);
  EXPECT_EQ(Sample(text, "intake_invalid_submission_fields_total", {{"field", "caller.phone"}}), 1);
  EXPECT_EQ(Sample(text, "intake_invalid_submission_fields_total", {{"field", "consent.granted"}}),
            1);
  EXPECT_EQ(Sample(text, "intake_leads_total", {{"routing", "listing_owner"}}), 3);
  EXPECT_EQ(Sample(text, "intake_unassigned_leads"), 0);
  EXPECT_EQ(Sample(text, "intake_unacknowledged_leads", {{"provider", "acme"}}), 3);
  EXPECT_GE(Sample(text, "intake_oldest_unacknowledged_lead_age_seconds", {{"provider", "acme"}})
                .value_or(-1),
            0);
  EXPECT_GE(Sample(text, "intake_writer_batch_writes_sum").value_or(0), 6);
  EXPECT_GE(Sample(text, "intake_writer_commit_seconds_count").value_or(0), 1);
  EXPECT_GT(Sample(text, "intake_database_size_bytes").value_or(0), 0);
  EXPECT_GT(Sample(text, "intake_filesystem_free_bytes").value_or(0), 0);
  EXPECT_TRUE(Sample(text, "intake_wal_frames").has_value());
  EXPECT_GT(Sample(text, "process_resident_memory_bytes").value_or(0), 0);
  EXPECT_GT(Sample(text, "process_open_fds").value_or(0), 0);
  EXPECT_GT(Sample(text, "process_max_fds").value_or(0), 0);
  EXPECT_GT(Sample(text, "process_start_time_seconds").value_or(0), 1.7e9);
  EXPECT_TRUE(Sample(text, "process_cpu_seconds_total").has_value());

  // Labels and values carry no personal data: not a phone, name or message.
  for (const std::string& pii : {std::string("7365001"), std::string("Jordan"),
                                 std::string("call after"), std::string("33101")}) {
    EXPECT_FALSE(absl::StrContains(text, pii)) << pii << " is in the exposition";
  }
}

TEST_F(MetricsTest, StreamsAreCountedOpenAndByMessageType) {
  CreateProviderAndListing();
  v1::IssueProviderTokenRequest issue;
  issue.set_provider_id("acme");
  v1::IssueProviderTokenResponse token;
  ASSERT_TRUE(admin_->IssueProviderToken(Context(server_->AdminToken()).get(), issue, &token).ok());
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_listing_id("acme-miami");
  ASSERT_TRUE(Call(request).ok());

  auto provider = v1::ProviderService::NewStub(server_->PublicChannel());
  auto context = Context(token.token(), absl::Seconds(30));
  auto reader = provider->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  std::string text = Scrape();
  EXPECT_EQ(Sample(text, "intake_open_streams"), 1);
  EXPECT_EQ(Sample(text, "intake_stream_messages_total", {{"type", "assigned"}}), 1);
  EXPECT_EQ(Sample(text, "grpc_server_msg_sent_total", {{"grpc_method", "SubscribeLeads"}}), 1);

  context->TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Sample(text = Scrape(), "intake_open_streams") != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(Sample(text, "intake_open_streams"), 0);
  EXPECT_EQ(Sample(text, "grpc_server_handled_total",
                   {{"grpc_method", "SubscribeLeads"}, {"grpc_type", "server_stream"}}),
            1);
}

// A unary call of `method` carrying `bytes` as its request, whatever they are.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& bytes) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  return status;
}

TEST_F(MetricsTest, AMalformedRequestCountsAsTheStatusTheClientGot) {
  EXPECT_EQ(
      RawCall(server_->PublicChannel(), "/intake.v1.IntakeService/SubmitCallback", "\xff\xff\xff")
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  const std::string text = Scrape();
  EXPECT_EQ(Sample(text, "grpc_server_handled_total",
                   {{"grpc_method", "SubmitCallback"}, {"grpc_code", "InvalidArgument"}}),
            1);
  EXPECT_EQ(Sample(text, "grpc_server_handled_total", {{"grpc_code", "Unimplemented"}}), 0);
}

TEST_F(MetricsTest, AnUnknownMethodCountsUnderUnknownWithoutANewSeries) {
  EXPECT_EQ(RawCall(server_->PublicChannel(), "/no.such.Service/Method", "x").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  const std::string text = Scrape();
  EXPECT_EQ(Sample(text, "grpc_server_handled_total",
                   {{"grpc_service", "unknown"}, {"grpc_code", "Unimplemented"}}),
            1);
  EXPECT_FALSE(absl::StrContains(text, "no.such.Service"));
}

TEST_F(MetricsTest, TheExpositionPassesPromtool) {
  ASSERT_TRUE(Call(ValidRequest()).ok());
  TempDir dir;
  {
    std::ofstream out(dir.File("metrics.txt"));
    out << Scrape();
  }
  const std::string command = absl::StrCat("promtool check metrics <'", dir.File("metrics.txt"),
                                           "' >'", dir.File("promtool.out"), "' 2>&1");
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ReadTextFile(dir.File("promtool.out"));
  EXPECT_EQ(ReadTextFile(dir.File("promtool.out")), "");
}

TEST(MetricsListenTest, EmptyTurnsMetricsOff) {
  auto server = IntakedProcess::Start({"--metrics_listen="});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->metrics_address(), "");
}

TEST(MetricsListenTest, APortInUseIsAOneLineStartupError) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string taken = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  TempDir dir;
  const ExitResult result =
      RunIntaked({"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                  "--data_dir=" + dir.File("var"), "--metrics_listen=" + taken});
  close(fd);
  EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
  EXPECT_EQ(std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1)
      << result.stderr_text;
  EXPECT_TRUE(
      absl::StrContains(result.stderr_text, "cannot listen on " + taken + " (--metrics_listen)"))
      << result.stderr_text;
}

}  // namespace
}  // namespace intake::testing
