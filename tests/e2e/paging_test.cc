// ListLeads paging end to end, on AdminService and ProviderService: following next_page_token
// gives every lead once, and only tokens the server issued for that very call and filters are
// accepted.
#include <signal.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/completion_queue.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

constexpr int kLeads = 23;

class PagingTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(dir_.File("var")); }

  void Start(const std::string& data_dir) {
    server_ = IntakedProcess::Start({}, data_dir);
    ASSERT_NE(server_, nullptr);
    admin_token_ = server_->AdminToken();
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = v1::ProviderService::NewStub(server_->PublicChannel());
  }

  // A provider with a listing "<id>-listing" and `leads` leads on it; returns its token.
  std::string ProviderWithLeads(const std::string& id, int leads) {
    std::string token = CreateTestProvider(*admin_, admin_token_, id).token;
    // Submitted all at once, so that many share a group commit (and its instants).
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<v1::SubmitCallbackResponse> responses(leads);
    std::vector<grpc::Status> statuses(leads);
    std::vector<std::unique_ptr<grpc::ClientAsyncResponseReader<v1::SubmitCallbackResponse>>> calls;
    grpc::CompletionQueue queue;
    for (int n = 0; n < leads; ++n) {
      v1::SubmitCallbackRequest r;
      r.set_listing_id(id + "-listing");
      r.mutable_caller()->set_phone(
          absl::StrFormat("(212) %03d-%04d", 300 + next_phone_ / 10000, next_phone_ % 10000));
      ++next_phone_;
      r.mutable_consent()->set_granted(true);
      r.mutable_consent()->set_text("I agree.");
      contexts.push_back(Context());
      calls.push_back(intake_->AsyncSubmitCallback(contexts.back().get(), r, &queue));
      calls.back()->Finish(&responses[n], &statuses[n], &statuses[n]);
    }
    for (int n = 0; n < leads; ++n) {
      void* tag = nullptr;
      bool ok = false;
      EXPECT_TRUE(queue.Next(&tag, &ok));
    }
    for (const grpc::Status& s : statuses) EXPECT_TRUE(s.ok()) << s.error_message();
    return token;
  }

  // Every lead id an admin listing of `provider` gives, following next_page_token with
  // `page_size`. Fails the test on any error.
  std::vector<std::string> AdminPages(const std::string& provider, int page_size) {
    std::vector<std::string> ids;
    v1::AdminServiceListLeadsRequest request;
    request.set_provider_id(provider);
    request.set_page_size(page_size);
    for (int pages = 0; pages <= kLeads; ++pages) {
      v1::AdminServiceListLeadsResponse response;
      const grpc::Status status =
          admin_->ListLeads(Context(admin_token_).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      EXPECT_LE(response.leads_size(), page_size);
      for (const v1::Lead& lead : response.leads()) ids.push_back(lead.lead_id());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  // The same through ProviderService with `token`.
  std::vector<std::string> ProviderPages(const std::string& token, int page_size) {
    std::vector<std::string> ids;
    v1::ListLeadsRequest request;
    request.set_page_size(page_size);
    for (int pages = 0; pages <= kLeads; ++pages) {
      v1::ListLeadsResponse response;
      const grpc::Status status = provider_->ListLeads(Context(token).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      EXPECT_LE(response.leads_size(), page_size);
      for (const v1::Lead& lead : response.leads()) ids.push_back(lead.lead_id());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<IntakedProcess> server_;
  std::string admin_token_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::ProviderService::Stub> provider_;
  int next_phone_ = 0;
};

TEST_F(PagingTest, FollowingTokensGivesEveryLeadOnceNewestFirst) {
  const std::string token = ProviderWithLeads("acme", kLeads);
  ProviderWithLeads("beta", 3);  // Not in acme's listings.
  const std::vector<std::string> all = AdminPages("acme", 1000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kLeads));
  ASSERT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(ProviderPages(token, 1000), all);
  for (int page_size : {1, 2, 3, 4, 5, 7, 22, 23, 24}) {
    EXPECT_EQ(AdminPages("acme", page_size), all) << "admin, page_size " << page_size;
    EXPECT_EQ(ProviderPages(token, page_size), all) << "provider, page_size " << page_size;
  }
}

// Leads created in the same microsecond are ordered by lead_id, and pages still neither repeat
// nor skip one. Submissions a microsecond apart cannot be arranged from outside, so the
// server is stopped and its leads' create_time rewritten: runs of five leads share an instant,
// and every page size below splits some run across two pages.
TEST_F(PagingTest, LeadsOfOneMicrosecondArePagedOnceEach) {
  const std::string token = ProviderWithLeads("acme", kLeads);
  ProviderWithLeads("beta", 3);
  const std::string data_dir = server_->data_dir();
  ASSERT_EQ(server_->Stop(SIGTERM).exit_code, 0);
  ASSERT_TRUE(ExecSql(data_dir + "/intake.db",
                      "UPDATE leads SET create_time_us = 1700000000000000 + "
                      "(SELECT count(*) FROM leads AS o WHERE o.lead_id < leads.lead_id) / 5"));
  ASSERT_EQ(QueryInt(data_dir + "/intake.db", "SELECT count(DISTINCT create_time_us) FROM leads"),
            6);
  Start(data_dir);

  const std::vector<std::string> all = AdminPages("acme", 1000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kLeads));
  ASSERT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend())) << "ties newest-first by lead_id";
  EXPECT_EQ(ProviderPages(token, 1000), all);
  for (int page_size : {1, 2, 3, 4, 6, 7, 22}) {
    EXPECT_EQ(AdminPages("acme", page_size), all) << "admin, page_size " << page_size;
    EXPECT_EQ(ProviderPages(token, page_size), all) << "provider, page_size " << page_size;
  }
}

// The server's own tokens work across a restart (same data key); anything else is refused: a
// hand-made token in the format this server once accepted unsigned, a token of another call,
// of other filters, or of another provider.
TEST_F(PagingTest, OnlyTokensIssuedForThisCallAndTheseFiltersAreAccepted) {
  const std::string acme = ProviderWithLeads("acme", 3);
  const std::string beta = ProviderWithLeads("beta", 3);

  v1::AdminServiceListLeadsRequest admin_request;
  admin_request.set_provider_id("acme");
  admin_request.set_page_size(1);
  v1::AdminServiceListLeadsResponse admin_page;
  ASSERT_TRUE(admin_->ListLeads(Context(admin_token_).get(), admin_request, &admin_page).ok());
  ASSERT_FALSE(admin_page.next_page_token().empty());
  v1::ListLeadsRequest provider_request;
  provider_request.set_page_size(1);
  v1::ListLeadsResponse provider_page;
  ASSERT_TRUE(provider_->ListLeads(Context(acme).get(), provider_request, &provider_page).ok());
  ASSERT_FALSE(provider_page.next_page_token().empty());

  const auto admin_status = [&](const std::string& page_token, const std::string& provider_id,
                                v1::LeadState state = v1::LEAD_STATE_UNSPECIFIED) {
    v1::AdminServiceListLeadsRequest r;
    r.set_provider_id(provider_id);
    r.set_state(state);
    r.set_page_token(page_token);
    v1::AdminServiceListLeadsResponse ignored;
    return admin_->ListLeads(Context(admin_token_).get(), r, &ignored);
  };
  const auto provider_status = [&](const std::string& token, const std::string& page_token) {
    v1::ListLeadsRequest r;
    r.set_page_token(page_token);
    v1::ListLeadsResponse ignored;
    return provider_->ListLeads(Context(token).get(), r, &ignored);
  };
  const auto expect_refused = [](const grpc::Status& status, const std::string& what) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what;
    EXPECT_EQ(BadFields(status), std::set<std::string>{"page_token"}) << what;
  };

  // Forged: the unsigned "v1\n<scope>\n<key>" tokens, resuming just past the newest lead of
  // all (so every lead would be listed).
  const std::string past_everything = "9999999999999999/z";
  expect_refused(
      admin_status(absl::WebSafeBase64Escape(absl::StrCat("v1\nleads/acme/0/0\n", past_everything)),
                   "acme"),
      "hand-made admin token");
  expect_refused(provider_status(acme, absl::WebSafeBase64Escape(
                                           absl::StrCat("v1\nleads/acme/0\n", past_everything))),
                 "hand-made provider token");
  std::string altered = admin_page.next_page_token();
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  expect_refused(admin_status(altered, "acme"), "altered token");

  // Genuine tokens, used elsewhere.
  expect_refused(admin_status(admin_page.next_page_token(), "beta"), "another provider filter");
  expect_refused(admin_status(admin_page.next_page_token(), "acme", v1::LEAD_STATE_NEW),
                 "another state filter");
  expect_refused(admin_status(provider_page.next_page_token(), "acme"),
                 "ProviderService's token on AdminService");
  expect_refused(provider_status(acme, admin_page.next_page_token()),
                 "AdminService's token on ProviderService");
  expect_refused(provider_status(beta, provider_page.next_page_token()),
                 "another provider's token");

  // The genuine ones still work, after a restart too.
  const std::string data_dir = server_->data_dir();
  ASSERT_EQ(server_->Stop(SIGTERM).exit_code, 0);
  Start(data_dir);
  EXPECT_TRUE(admin_status(admin_page.next_page_token(), "acme").ok());
  EXPECT_TRUE(provider_status(acme, provider_page.next_page_token()).ok());
}

}  // namespace
}  // namespace intake::testing
