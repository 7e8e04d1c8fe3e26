// intaked's log lines end to end: with --log_format=json every line on stderr (start-up,
// one per call, drain) is a JSON object with the documented keys, and none carries personal
// data; text lines carry the same keys.
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

using nlohmann::json;

// The personal data of every submission below, none of which may reach a log line.
constexpr char kName[] = "Jordan Example";
constexpr char kMessage[] = "Please call after 5pm.";

// The access lines of `lines` for `method` (the last path element).
std::vector<json> AccessLines(const std::vector<json>& lines, const std::string& method) {
  std::vector<json> found;
  for (const json& line : lines) {
    if (line.value("msg", "") == "access" &&
        absl::EndsWith(line.value("method", ""), "/" + method)) {
      found.push_back(line);
    }
  }
  return found;
}

TEST(AccessLogTest, JsonLinesCarryTheCallsIdsAndNoPersonalData) {
  auto server = IntakedProcess::Start({"--log_format=json"});
  ASSERT_NE(server, nullptr);
  const std::string admin_token = server->AdminToken();
  auto admin = v1::AdminService::NewStub(server->AdminChannel());
  auto intake = v1::IntakeService::NewStub(server->PublicChannel());
  auto provider = v1::ProviderService::NewStub(server->PublicChannel());

  v1::CreateProviderRequest create;
  create.set_provider_id("acme");
  create.set_display_name("Acme Recovery");
  v1::CreateProviderResponse created;
  ASSERT_TRUE(admin->CreateProvider(Context(admin_token).get(), create, &created).ok());
  v1::IssueProviderTokenRequest issue;
  issue.set_provider_id("acme");
  v1::IssueProviderTokenResponse token;
  ASSERT_TRUE(admin->IssueProviderToken(Context(admin_token).get(), issue, &token).ok());

  v1::SubmitCallbackRequest request = ValidRequest("(212) 736-5000");
  request.set_request_id("req-42");
  auto submit_context = Context();
  v1::SubmitCallbackResponse submitted;
  ASSERT_TRUE(intake->SubmitCallback(submit_context.get(), request, &submitted).ok());
  EXPECT_EQ(submit_context->GetServerTrailingMetadata().count("intake-access-principal"), 0u)
      << "the principal note stays on the server";
  v1::SubmitCallbackResponse refused;
  EXPECT_EQ(intake->SubmitCallback(Context().get(), ValidRequest("(212) 555-0100"), &refused)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListLeadsRequest list;
  v1::ListLeadsResponse leads;
  ASSERT_TRUE(provider->ListLeads(Context(token.token()).get(), list, &leads).ok());
  ASSERT_EQ(leads.leads_size(), 1);
  const std::string lead_id = leads.leads(0).lead_id();
  v1::AcknowledgeLeadRequest ack;
  ack.set_lead_id(lead_id);
  v1::AcknowledgeLeadResponse acked;
  ASSERT_TRUE(provider->AcknowledgeLead(Context(token.token()).get(), ack, &acked).ok());
  // A lead id that is really a phone number never reaches the log.
  v1::GetLeadRequest phone_as_id;
  phone_as_id.set_lead_id("2127365000");
  v1::GetLeadResponse lead;
  EXPECT_FALSE(provider->GetLead(Context(token.token()).get(), phone_as_id, &lead).ok());
  EXPECT_EQ(provider->GetLead(Context("not-a-token").get(), phone_as_id, &lead).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  const ExitResult stopped = server->Stop(SIGTERM);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.stderr_text;
  const std::string& text = stopped.stderr_text;
  // The number in the shapes a log could hold it (a bare "736" also turns up in ids and
  // latencies by chance).
  for (const std::string& secret :
       {std::string("7365000"), std::string("736-5000"), std::string("555-0100"),
        std::string("5550100"), std::string(kName), std::string(kMessage), token.token(),
        admin_token, request.consent().text()}) {
    EXPECT_FALSE(absl::StrContains(text, secret)) << secret << " was logged:\n" << text;
  }

  std::vector<json> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
    EXPECT_TRUE(parsed.contains("time") && parsed.contains("msg")) << line;
    lines.push_back(std::move(parsed));
  }
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front().value("msg", ""), "serving");
  EXPECT_EQ(lines.front().value("listen", ""), server->listen_address());
  EXPECT_EQ(lines.front().value("admin_listen", ""), server->admin_address());
  EXPECT_EQ(lines.back().value("msg", ""), "stopped");
  EXPECT_EQ(lines[lines.size() - 2].value("msg", ""), "draining");
  EXPECT_EQ(lines[lines.size() - 2].value("signal", ""), "SIGTERM");

  for (const json& line : lines) {
    if (line.value("msg", "") != "access") continue;
    for (const char* key : {"time", "method", "code", "latency_ms", "peer", "principal",
                            "submission_id", "lead_id"}) {
      EXPECT_TRUE(line.contains(key)) << key << " missing: " << line.dump();
    }
    EXPECT_TRUE(line["latency_ms"].is_number()) << line.dump();
    EXPECT_TRUE(absl::StartsWith(line.value("peer", ""), "ipv4:127.0.0.1:")) << line.dump();
  }
  const std::vector<json> submits = AccessLines(lines, "SubmitCallback");
  ASSERT_EQ(submits.size(), 2u);
  EXPECT_EQ(submits[0]["method"], "/intake.v1.IntakeService/SubmitCallback");
  EXPECT_EQ(submits[0]["code"], "OK");
  EXPECT_EQ(submits[0]["principal"], "-") << "the open intake API has no principal";
  EXPECT_FALSE(submits[0].contains("request_id")) << "the client's key may be a phone number";
  EXPECT_EQ(submits[0]["submission_id"], submitted.submission_id());
  EXPECT_EQ(submits[1]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(submits[1]["submission_id"], "-");

  const std::vector<json> creates = AccessLines(lines, "CreateProvider");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0]["principal"], "admin");
  const std::vector<json> acks = AccessLines(lines, "AcknowledgeLead");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]["principal"], "provider:acme");
  EXPECT_EQ(acks[0]["lead_id"], lead_id);
  const std::vector<json> gets = AccessLines(lines, "GetLead");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0]["lead_id"], "-");
  EXPECT_EQ(gets[1]["code"], "UNAUTHENTICATED");
  EXPECT_EQ(gets[1]["principal"], "-");
}

TEST(AccessLogTest, TextLinesCarryTheSameKeys) {
  auto server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  auto intake = v1::IntakeService::NewStub(server->PublicChannel());
  v1::SubmitCallbackRequest request = ValidRequest();
  request.set_request_id("req-7");
  v1::SubmitCallbackResponse submitted;
  ASSERT_TRUE(intake->SubmitCallback(Context().get(), request, &submitted).ok());
  const ExitResult stopped = server->Stop(SIGTERM);
  ASSERT_EQ(stopped.exit_code, 0);
  std::vector<std::string> access;
  for (absl::string_view line : absl::StrSplit(stopped.stderr_text, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "intaked: ")) << line;
    if (absl::StrContains(line, "method=/intake.v1.IntakeService/SubmitCallback")) {
      access.emplace_back(line);
    }
  }
  ASSERT_EQ(access.size(), 1u) << stopped.stderr_text;
  EXPECT_TRUE(absl::StartsWith(access[0], "intaked: access method="));
  for (const std::string& field :
       {std::string(" code=OK "), std::string(" latency_ms="), std::string(" peer=ipv4:127.0.0.1:"),
        std::string(" principal=- "), " submission_id=" + submitted.submission_id() + " ",
        std::string(" lead_id=- "), std::string(" time=")}) {
    EXPECT_TRUE(absl::StrContains(access[0], field)) << field << " not in " << access[0];
  }
  EXPECT_FALSE(absl::StrContains(access[0], "req-7")) << "a client's request_id is not logged";
  EXPECT_TRUE(absl::StrContains(stopped.stderr_text, "intaked: draining signal=SIGTERM"));
  EXPECT_TRUE(absl::StrContains(stopped.stderr_text, "intaked: stopped"));
}

TEST(AccessLogTest, AnUnknownFormatIsAUsageError) {
  const ExitResult result = RunIntaked({"--log_format=xml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result.stderr_text, "--log_format")) << result.stderr_text;
}

}  // namespace
}  // namespace intake::testing
