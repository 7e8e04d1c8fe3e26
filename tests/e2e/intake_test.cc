// SubmitCallback end to end: validation, bots, dedup, idempotency, routing and privacy, against
// the real intaked, with the database read directly to prove what was stored.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

using v1::IntakeService;

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    intake_ = IntakeService::NewStub(server_->PublicChannel());
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  }

  grpc::Status Submit(const v1::SubmitCallbackRequest& request,
                      v1::SubmitCallbackResponse* response = nullptr) {
    v1::SubmitCallbackResponse ignored;
    return intake_->SubmitCallback(Context().get(), request,
                                   response != nullptr ? response : &ignored);
  }
  std::string Db() const { return server_->data_dir() + "/intake.db"; }
  int64_t Count(const std::string& table) {
    return QueryInt(Db(), absl::StrCat("SELECT count(*) FROM ", table));
  }
  int64_t Counter(const std::string& name) {
    return QueryInt(Db(), absl::StrCat("SELECT value FROM counters WHERE name = '", name, "'"));
  }
  void CreateProvider(const std::string& id, const std::vector<std::string>& regions = {}) {
    v1::CreateProviderRequest request;
    request.set_provider_id(id);
    request.set_display_name("Provider " + id);
    for (const std::string& r : regions) request.add_regions(r);
    v1::CreateProviderResponse response;
    ASSERT_TRUE(
        admin_->CreateProvider(Context(server_->AdminToken()).get(), request, &response).ok());
  }
  void CreateListing(const std::string& id, const std::string& provider) {
    v1::CreateListingRequest request;
    request.set_listing_id(id);
    request.set_provider_id(provider);
    request.set_display_name("Center " + id);
    request.set_region("FL");
    v1::CreateListingResponse response;
    ASSERT_TRUE(
        admin_->CreateListing(Context(server_->AdminToken()).get(), request, &response).ok());
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<IntakeService::Stub> intake_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(IntakeTest, ValidSubmissionBecomesOneStoredLeadWithItsEvent) {
  v1::SubmitCallbackResponse response;
  ASSERT_TRUE(Submit(ValidRequest(), &response).ok());
  EXPECT_TRUE(absl::StartsWith(response.submission_id(), "sub-"));
  EXPECT_EQ(Count("leads"), 1);
  EXPECT_EQ(Count("lead_events"), 1);
  EXPECT_EQ(Count("submissions"), 1);
  EXPECT_EQ(Counter("leads"), 1);
  // No provider exists: the lead is kept UNASSIGNED with its reason, never dropped.
  EXPECT_EQ(QueryInt(Db(), "SELECT state FROM leads"), 2);
  EXPECT_EQ(QueryInt(Db(), "SELECT routing_reason FROM leads"), 3);
}

TEST_F(IntakeTest, EveryCommonUsFormatIsTheSameCaller) {
  const std::vector<std::string> formats = {"(212) 736-5000",  "212-736-5000",   "212.736.5000",
                                            "+1 212 736 5000", "2127365000",     "1-212-736-5000",
                                            "+12127365000",    " (212)736-5000 "};
  for (const std::string& phone : formats) {
    const grpc::Status status = Submit(ValidRequest(phone));
    EXPECT_TRUE(status.ok()) << phone << ": " << status.error_message();
  }
  // All normalise to one E.164 number, so they merged into one lead.
  EXPECT_EQ(Count("leads"), 1);
  EXPECT_EQ(QueryInt(Db(), "SELECT submission_count FROM leads"),
            static_cast<int64_t>(formats.size()));
  EXPECT_EQ(Counter("duplicates_merged"), static_cast<int64_t>(formats.size()) - 1);
}

TEST_F(IntakeTest, RefusedNumbersAreInvalidArgumentWithoutEchoAndStoreNothing) {
  const std::vector<std::string> refused = {"",
                                            "911",
                                            "(212) 555-0123",
                                            "(900) 736-5000",
                                            "(123) 736-5000",
                                            "(212) 411-5000",
                                            "212-736-500",
                                            "212-736-50000",
                                            "1-800-FLOWERS",
                                            "+44 20 7946 0958",
                                            "(211) 736-5000"};
  for (const std::string& phone : refused) {
    const grpc::Status status = Submit(ValidRequest(phone));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << phone;
    EXPECT_EQ(BadFields(status), std::set<std::string>{"caller.phone"}) << phone;
    if (phone.size() >= 3) {
      EXPECT_FALSE(absl::StrContains(status.error_message(), phone)) << phone;
      EXPECT_FALSE(absl::StrContains(status.error_details(), phone)) << phone;
    }
  }
  EXPECT_EQ(Count("leads"), 0);
  EXPECT_EQ(Count("submissions"), 0);
  EXPECT_EQ(Count("lead_events"), 0);
}

TEST_F(IntakeTest, EveryFieldLimitIsEnforcedWithItsPath) {
  struct Case {
    std::string name;
    std::function<void(v1::SubmitCallbackRequest&)> spoil;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"name 101 chars",
       [](auto& r) { r.mutable_caller()->set_name(std::string(101, 'n')); },
       {"caller.name"}},
      {"name with control char",
       [](auto& r) { r.mutable_caller()->set_name("Jo\x1b[31m"); },
       {"caller.name"}},
      {"postal code",
       [](auto& r) { r.mutable_caller()->set_postal_code("3310"); },
       {"caller.postal_code"}},
      {"region", [](auto& r) { r.mutable_caller()->set_region("XX"); }, {"caller.region"}},
      {"consent not granted",
       [](auto& r) { r.mutable_consent()->set_granted(false); },
       {"consent.granted"}},
      {"consent missing", [](auto& r) { r.clear_consent(); }, {"consent.granted", "consent.text"}},
      {"consent text empty", [](auto& r) { r.mutable_consent()->set_text(""); }, {"consent.text"}},
      {"consent text too long",
       [](auto& r) { r.mutable_consent()->set_text(std::string(10001, 't')); },
       {"consent.text"}},
      {"advertiser empty",
       [](auto& r) { r.mutable_consent()->add_advertisers(""); },
       {"consent.advertisers[1]"}},
      {"message 1001 chars", [](auto& r) { r.set_message(std::string(1001, 'm')); }, {"message"}},
      {"message control char", [](auto& r) { r.set_message("call me\x07"); }, {"message"}},
      {"request_id characters", [](auto& r) { r.set_request_id("has space"); }, {"request_id"}},
      {"request_id 65 chars",
       [](auto& r) { r.set_request_id(std::string(65, 'r')); },
       {"request_id"}},
      {"listing_id malformed", [](auto& r) { r.set_listing_id("Not A Listing"); }, {"listing_id"}},
      {"page_url too long",
       [](auto& r) { r.mutable_form()->set_page_url(std::string(2049, 'u')); },
       {"form.page_url"}},
      {"user_agent too long",
       [](auto& r) { r.mutable_form()->set_user_agent(std::string(1025, 'a')); },
       {"form.user_agent"}},
      {"client_ip",
       [](auto& r) { r.mutable_form()->set_client_ip("999.1.1.1"); },
       {"form.client_ip"}},
      {"utm too long",
       [](auto& r) { r.mutable_form()->set_utm_campaign(std::string(201, 'c')); },
       {"form.utm_campaign"}},
      {"everything at once",
       [](auto& r) {
         r.mutable_caller()->set_phone("555");
         r.mutable_caller()->set_name(std::string(101, 'n'));
         r.mutable_consent()->set_granted(false);
         r.set_message(std::string(1001, 'm'));
       },
       {"caller.phone", "caller.name", "consent.granted", "message"}},
  };
  for (const Case& c : cases) {
    v1::SubmitCallbackRequest request = ValidRequest();
    c.spoil(request);
    const grpc::Status status = Submit(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(BadFields(status), c.fields) << c.name;
  }
  EXPECT_EQ(Count("leads"), 0);
  EXPECT_EQ(Count("submissions"), 0);
}

TEST_F(IntakeTest, FieldsAtTheirLimitsAreAccepted) {
  v1::SubmitCallbackRequest request = ValidRequest();
  request.mutable_caller()->set_name(std::string(100, 'n'));
  request.set_message(std::string(1000, 'm'));
  request.set_request_id(std::string(64, 'r'));
  request.mutable_caller()->set_postal_code("33101-1234");
  request.mutable_consent()->set_text(std::string(10000, 't'));
  const grpc::Status status = Submit(request);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(IntakeTest, OversizedMessageIsResourceExhausted) {
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_message(std::string(1 << 20, 'm'));
  EXPECT_EQ(Submit(request).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Count("submissions"), 0);
}

TEST_F(IntakeTest, UnknownListingIsNotFoundAndStoresNothing) {
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_listing_id("no-such-listing");
  EXPECT_EQ(Submit(request).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Count("submissions"), 0);
  EXPECT_EQ(Count("leads"), 0);
}

TEST_F(IntakeTest, HoneypotGetsTheSameReplyButOnlyAQuarantineRow) {
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_honeypot("http://spam.example");
  v1::SubmitCallbackResponse bot;
  ASSERT_TRUE(Submit(request, &bot).ok());
  v1::SubmitCallbackResponse human;
  ASSERT_TRUE(Submit(ValidRequest("(305) 736-5000"), &human).ok());
  EXPECT_EQ(bot.ByteSizeLong() > 0, human.ByteSizeLong() > 0);
  EXPECT_EQ(bot.submission_id().size(), human.submission_id().size());
  EXPECT_EQ(Count("quarantine"), 1);
  EXPECT_EQ(Count("leads"), 1) << "only the human's";
  EXPECT_EQ(Count("lead_events"), 1);
  EXPECT_EQ(Counter("bot_submissions"), 1);
  EXPECT_GT(QueryInt(Db(), "SELECT expire_time_us - create_time_us FROM quarantine"),
            int64_t{6} * 24 * 3600 * 1000000);
}

TEST_F(IntakeTest, DuplicatesMergePerTarget) {
  CreateProvider("acme");
  CreateListing("miami-1", "acme");
  v1::SubmitCallbackRequest listing = ValidRequest();
  listing.set_listing_id("miami-1");
  v1::GetResponseStatsRequest stats_request;
  stats_request.set_listing_id("miami-1");
  v1::GetResponseStatsResponse stats;  // Also makes sure the figures are computed.
  ASSERT_TRUE(intake_->GetResponseStats(Context().get(), stats_request, &stats).ok());
  v1::SubmitCallbackResponse first, second;
  ASSERT_TRUE(Submit(listing, &first).ok());
  ASSERT_TRUE(Submit(listing, &second).ok());
  EXPECT_NE(first.submission_id(), second.submission_id());
  EXPECT_EQ(first.ByteSizeLong(), second.ByteSizeLong()) << "a duplicate looks like a new lead";
  EXPECT_EQ(first.typical_response().SerializeAsString(),
            second.typical_response().SerializeAsString());
  EXPECT_EQ(first.typical_response().window_days(), 30u);
  ASSERT_TRUE(Submit(ValidRequest()).ok()) << "same phone, general helpline: another target";
  EXPECT_EQ(Count("leads"), 2);
  EXPECT_EQ(QueryInt(Db(), "SELECT submission_count FROM leads WHERE target = 'miami-1'"), 2);
  EXPECT_EQ(QueryInt(Db(),
                     "SELECT count(*) FROM lead_events WHERE type = 2 AND "
                     "provider_id = 'acme'"),
            1)
      << "one RESUBMITTED event for the listing's provider";
}

TEST_F(IntakeTest, RequestIdReplaysAndRefusesAnotherPayload) {
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_request_id("form-7f3a");
  v1::SubmitCallbackResponse first, again;
  ASSERT_TRUE(Submit(request, &first).ok());
  ASSERT_TRUE(Submit(request, &again).ok());
  EXPECT_EQ(first.submission_id(), again.submission_id());
  EXPECT_EQ(Count("submissions"), 1);
  EXPECT_EQ(QueryInt(Db(), "SELECT submission_count FROM leads"), 1) << "nothing else happened";

  request.set_message("A different message");
  const grpc::Status status = Submit(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"request_id"});
}

// Runs `count` SubmitCallback calls at once over `connections` separate connections and
// returns each call's status and submission id. Every connection is up before the first call,
// so the calls meet the server together rather than one connection's handshake apart.
std::vector<std::pair<grpc::Status, std::string>> SubmitConcurrently(
    const std::string& address, int connections, int count,
    const v1::SubmitCallbackRequest& request) {
  std::vector<std::unique_ptr<IntakeService::Stub>> stubs;
  stubs.reserve(connections);
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("intake.test.connection", i);  // Distinct args: no shared subchannel.
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    // A channel retries a failed connect by itself; a call made before it is up would not.
    EXPECT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)))
        << "connection " << i;
    stubs.push_back(IntakeService::NewStub(channel));
  }
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<std::pair<grpc::Status, std::string>>> calls;
  calls.reserve(count);
  for (int i = 0; i < count; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      start.wait();
      v1::SubmitCallbackResponse response;
      grpc::Status status =
          stubs[i % connections]->SubmitCallback(Context().get(), request, &response);
      return std::make_pair(status, response.submission_id());
    }));
  }
  go.set_value();
  std::vector<std::pair<grpc::Status, std::string>> results;
  results.reserve(calls.size());
  for (auto& call : calls) results.push_back(call.get());
  return results;
}

TEST_F(IntakeTest, FiftyIdenticalConcurrentSubmissionsMakeOneLead) {
  const auto results =
      SubmitConcurrently(server_->listen_address(), 10, 50, ValidRequest("(646) 736-5000"));
  for (const auto& [status, id] : results) EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Count("leads"), 1);
  EXPECT_EQ(QueryInt(Db(), "SELECT submission_count FROM leads"), 50);
  EXPECT_EQ(Count("submissions"), 50);
}

TEST_F(IntakeTest, FiftyConcurrentSubmissionsWithOneRequestIdGetOneSubmissionId) {
  v1::SubmitCallbackRequest request = ValidRequest("(646) 736-5001");
  request.set_request_id("retry-storm");
  const auto results = SubmitConcurrently(server_->listen_address(), 10, 50, request);
  std::set<std::string> ids;
  for (const auto& [status, id] : results) {
    EXPECT_TRUE(status.ok()) << status.error_message();
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Count("submissions"), 1);
  EXPECT_EQ(Count("leads"), 1);
}

TEST_F(IntakeTest, GeneralLeadsRotateFairlyAmongEligibleProviders) {
  CreateProvider("alpha", {"FL"});
  CreateProvider("bravo", {"FL", "GA"});
  CreateProvider("charlie", {"TX"});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Submit(ValidRequest(absl::StrCat("(212) 736-50", 10 + i))).ok());
  }
  EXPECT_EQ(QueryInt(Db(), "SELECT count(*) FROM leads WHERE provider_id = 'alpha'"), 5);
  EXPECT_EQ(QueryInt(Db(), "SELECT count(*) FROM leads WHERE provider_id = 'bravo'"), 5);
  EXPECT_EQ(QueryInt(Db(), "SELECT count(*) FROM leads WHERE provider_id = 'charlie'"), 0);
  EXPECT_EQ(QueryInt(Db(), "SELECT count(*) FROM leads WHERE routing_reason = 2"), 10);
}

TEST_F(IntakeTest, ListingLeadGoesToItsOwner) {
  CreateProvider("alpha", {"FL"});
  CreateProvider("owner", {"TX"});
  CreateListing("austin-1", "owner");
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_listing_id("austin-1");
  ASSERT_TRUE(Submit(request).ok());
  EXPECT_EQ(QueryText(Db(), "SELECT provider_id FROM leads"), "owner");
  EXPECT_EQ(QueryInt(Db(), "SELECT routing_reason FROM leads"), 1);
  EXPECT_EQ(QueryText(Db(), "SELECT provider_id FROM lead_events"), "owner");
}

TEST_F(IntakeTest, PersonalDataIsNeverStoredOrLoggedInTheClear) {
  v1::SubmitCallbackRequest request = ValidRequest("(212) 736-5099");
  request.mutable_caller()->set_name("Quintessa Uniquename");
  request.set_message("Zanzibar-marker message");
  ASSERT_TRUE(Submit(request).ok());
  const ExitResult stopped = server_->Stop(SIGTERM);
  std::string bytes;
  for (const char* file : {"/intake.db", "/intake.db-wal"}) {
    std::ifstream in(server_->data_dir() + file, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_FALSE(bytes.empty());
  for (const char* secret : {"Quintessa", "Uniquename", "Zanzibar", "2127365099", "736-5099"}) {
    EXPECT_FALSE(absl::StrContains(bytes, secret)) << secret << " is on disk in the clear";
    EXPECT_FALSE(absl::StrContains(stopped.stderr_text, secret)) << secret << " was logged";
  }
}

v1::StatsTotals Totals(v1::AdminService::Stub& admin, const std::string& token) {
  v1::GetStatsResponse stats;
  const grpc::Status status = admin.GetStats(Context(token).get(), {}, &stats);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return stats.totals();
}

// StatsTotals.submissions counts every call, whatever its outcome, and every counter is as
// durable as the leads: a restart (clean or not) keeps them, from the same count_start_time.
TEST_F(IntakeTest, StatsCountEveryOutcomeAndSurviveRestarts) {
  TempDir dir;
  server_ = IntakedProcess::Start({}, dir.File("var"));
  ASSERT_NE(server_, nullptr);
  intake_ = IntakeService::NewStub(server_->PublicChannel());
  admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  CreateProvider("acme");
  CreateListing("miami-1", "acme");
  ASSERT_TRUE(Submit(ValidRequest("(212) 736-5000")).ok());
  ASSERT_TRUE(Submit(ValidRequest("(212) 736-5001")).ok());
  v1::SubmitCallbackRequest bad_phone = ValidRequest("(212) 555-0100");
  EXPECT_EQ(Submit(bad_phone).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SubmitCallbackRequest no_consent = ValidRequest();
  no_consent.mutable_consent()->set_granted(false);
  EXPECT_EQ(Submit(no_consent).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SubmitCallbackRequest unknown_listing = ValidRequest();
  unknown_listing.set_listing_id("nowhere");
  EXPECT_EQ(Submit(unknown_listing).error_code(), grpc::StatusCode::NOT_FOUND);

  const std::string token = server_->AdminToken();
  const v1::StatsTotals before = Totals(*admin_, token);
  EXPECT_EQ(before.submissions(), 5u);
  EXPECT_EQ(before.leads(), 2u);
  EXPECT_EQ(before.invalid_submissions(), 2u);
  EXPECT_EQ(before.rate_limited(), 0u);
  EXPECT_TRUE(before.has_count_start_time());

  const std::string data_dir = server_->data_dir();
  ASSERT_EQ(server_->Stop(SIGTERM).exit_code, 0);
  server_ = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server_, nullptr);
  intake_ = IntakeService::NewStub(server_->PublicChannel());
  admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  const v1::StatsTotals after = Totals(*admin_, token);
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString())
      << "the same counts from the same count_start_time\n"
      << after.DebugString() << "\n"
      << before.DebugString();

  // A refusal reaches the disk by itself within about a second: then even SIGKILL keeps it.
  EXPECT_EQ(Submit(bad_phone).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string on_disk =
      "SELECT coalesce((SELECT value FROM counters WHERE name = 'invalid_submissions'), 0)";
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (QueryInt(Db(), on_disk) != 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(QueryInt(Db(), on_disk), 3);
  server_->Stop(SIGKILL);
  server_ = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server_, nullptr);
  admin_ = v1::AdminService::NewStub(server_->AdminChannel());
  const v1::StatsTotals killed = Totals(*admin_, token);
  EXPECT_EQ(killed.submissions(), 6u);
  EXPECT_EQ(killed.invalid_submissions(), 3u);
}

TEST(IntakeKeysTest, ConfiguredKeysCloseTheIntakeApi) {
  TempDir dir;
  {
    std::ofstream keys(dir.File("keys"));
    keys << "# the finder site\nsite-key-0123456789abcdef0123456789\n";
  }
  auto server = IntakedProcess::Start({"--intake_keys_file=" + dir.File("keys")});
  ASSERT_NE(server, nullptr);
  auto intake = IntakeService::NewStub(server->PublicChannel());
  v1::SubmitCallbackResponse response;
  EXPECT_EQ(intake->SubmitCallback(Context().get(), ValidRequest(), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(intake->SubmitCallback(Context(server->AdminToken()).get(), ValidRequest(), &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto twice = Context("site-key-0123456789abcdef0123456789");
  twice->AddMetadata("authorization", "Bearer site-key-0123456789abcdef0123456789");
  EXPECT_EQ(intake->SubmitCallback(twice.get(), ValidRequest(), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED)
      << "two authorization headers, even with the same key";
  EXPECT_TRUE(intake
                  ->SubmitCallback(Context("site-key-0123456789abcdef0123456789").get(),
                                   ValidRequest(), &response)
                  .ok());
  // Calls without a valid key are not submissions (StatsTotals): only the one above counts.
  auto admin = v1::AdminService::NewStub(server->AdminChannel());
  EXPECT_EQ(Totals(*admin, server->AdminToken()).submissions(), 1u);
}

}  // namespace
}  // namespace intake::testing
