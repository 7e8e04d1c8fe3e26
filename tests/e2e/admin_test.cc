// AdminService end to end: providers, listings, tokens and authentication, against the real
// intaked.
#include <signal.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

using ::testing::ElementsAre;
using v1::AdminService;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    admin_ = AdminService::NewStub(server_->AdminChannel());
    token_ = server_->AdminToken();
  }

  grpc::Status CreateProvider(const v1::CreateProviderRequest& request,
                              v1::CreateProviderResponse* response = nullptr) {
    v1::CreateProviderResponse ignored;
    return admin_->CreateProvider(Context(token_).get(), request,
                                  response != nullptr ? response : &ignored);
  }
  grpc::Status CreateProvider(const std::string& id) {
    v1::CreateProviderRequest request;
    request.set_provider_id(id);
    request.set_display_name("Provider " + id);
    return CreateProvider(request);
  }
  grpc::Status GetProvider(const std::string& id, v1::Provider* out = nullptr) {
    v1::GetProviderRequest request;
    request.set_provider_id(id);
    v1::GetProviderResponse response;
    grpc::Status status = admin_->GetProvider(Context(token_).get(), request, &response);
    if (out != nullptr) *out = response.provider();
    return status;
  }
  std::string IssueToken(const std::string& provider_id) {
    v1::IssueProviderTokenRequest request;
    request.set_provider_id(provider_id);
    v1::IssueProviderTokenResponse response;
    grpc::Status status = admin_->IssueProviderToken(Context(token_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    last_token_id_ = response.token_id();
    return response.token();
  }
  // A call that needs the admin token, made with `token`.
  grpc::StatusCode ListProvidersWith(const std::string& token) {
    v1::ListProvidersResponse response;
    return admin_->ListProviders(Context(token).get(), v1::ListProvidersRequest(), &response)
        .error_code();
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<AdminService::Stub> admin_;
  std::string token_;
  std::string last_token_id_;
};

TEST_F(AdminTest, CreateProviderStoresEveryFieldWithDefaults) {
  v1::CreateProviderRequest request;
  request.set_provider_id("sunrise-recovery");
  request.set_display_name("Sunrise Recovery Center — Miami");
  request.add_regions("FL");
  request.add_regions("GA");
  request.set_daily_cap(25);
  v1::OpeningPeriod* monday = request.add_hours();
  monday->set_day_of_week(v1::WEEKDAY_MONDAY);
  monday->set_open_minute(9 * 60);
  monday->set_close_minute(17 * 60);
  v1::CreateProviderResponse created;
  ASSERT_TRUE(CreateProvider(request, &created).ok());

  v1::Provider stored;
  ASSERT_TRUE(GetProvider("sunrise-recovery", &stored).ok());
  EXPECT_EQ(stored.display_name(), "Sunrise Recovery Center — Miami");
  EXPECT_EQ(stored.state(), v1::PROVIDER_STATE_ACTIVE);
  EXPECT_THAT(stored.regions(), ElementsAre("FL", "GA"));
  EXPECT_EQ(stored.daily_cap(), 25u);
  EXPECT_EQ(stored.time_zone(), "America/New_York");
  ASSERT_EQ(stored.hours_size(), 1);
  EXPECT_EQ(stored.hours(0).day_of_week(), v1::WEEKDAY_MONDAY);
  EXPECT_EQ(stored.hours(0).open_minute(), 540u);
  EXPECT_EQ(stored.hours(0).close_minute(), 1020u);
  EXPECT_GT(stored.create_time().seconds(), 0);
  EXPECT_EQ(stored.SerializeAsString(), created.provider().SerializeAsString());
}

TEST_F(AdminTest, TakenProviderIdIsAlreadyExists) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  EXPECT_EQ(CreateProvider("acme").error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(AdminTest, BadProvidersAreRefusedFieldByFieldAndNothingIsStored) {
  struct Case {
    std::string name;
    std::function<void(v1::CreateProviderRequest&)> spoil;
    std::set<std::string> fields;
  };
  const std::string long_id(65, 'a');
  const std::vector<Case> cases = {
      {"empty id", [](auto& r) { r.set_provider_id(""); }, {"provider_id"}},
      {"upper-case id", [](auto& r) { r.set_provider_id("Acme"); }, {"provider_id"}},
      {"id starting with a dash", [](auto& r) { r.set_provider_id("-acme"); }, {"provider_id"}},
      {"65-char id", [&](auto& r) { r.set_provider_id(long_id); }, {"provider_id"}},
      {"empty name", [](auto& r) { r.set_display_name(""); }, {"display_name"}},
      {"201-char name",
       [](auto& r) { r.set_display_name(std::string(201, 'n')); },
       {"display_name"}},
      {"control character", [](auto& r) { r.set_display_name("Acme\x07"); }, {"display_name"}},
      {"unknown region", [](auto& r) { r.add_regions("XX"); }, {"regions[0]"}},
      {"duplicate region",
       [](auto& r) {
         r.add_regions("FL");
         r.add_regions("FL");
       },
       {"regions[1]"}},
      {"unknown time zone", [](auto& r) { r.set_time_zone("Mars/Olympus_Mons"); }, {"time_zone"}},
      {"unknown state", [](auto& r) { r.set_state(static_cast<v1::ProviderState>(9)); }, {"state"}},
      {"weekday missing",
       [](auto& r) {
         auto* h = r.add_hours();
         h->set_open_minute(60);
         h->set_close_minute(120);
       },
       {"hours[0].day_of_week"}},
      {"closing before opening",
       [](auto& r) {
         auto* h = r.add_hours();
         h->set_day_of_week(v1::WEEKDAY_FRIDAY);
         h->set_open_minute(600);
         h->set_close_minute(540);
       },
       {"hours[0].close_minute"}},
      {"past midnight",
       [](auto& r) {
         auto* h = r.add_hours();
         h->set_day_of_week(v1::WEEKDAY_FRIDAY);
         h->set_open_minute(1300);
         h->set_close_minute(1441);
       },
       {"hours[0].close_minute"}},
      {"several at once",
       [](auto& r) {
         r.set_display_name("");
         r.add_regions("ZZ");
         r.set_time_zone("Nowhere");
       },
       {"display_name", "regions[0]", "time_zone"}},
  };
  for (const Case& c : cases) {
    v1::CreateProviderRequest request;
    request.set_provider_id("good-id");
    request.set_display_name("Good Name");
    c.spoil(request);
    const grpc::Status status = CreateProvider(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(BadFields(status), c.fields) << c.name;
  }
  v1::ListProvidersResponse all;
  ASSERT_TRUE(admin_->ListProviders(Context(token_).get(), v1::ListProvidersRequest(), &all).ok());
  EXPECT_EQ(all.providers_size(), 0) << "a refused request stores nothing";
}

TEST_F(AdminTest, ListProvidersPagesInIdOrder) {
  for (const char* id : {"delta", "alpha", "echo", "charlie", "bravo"}) {
    ASSERT_TRUE(CreateProvider(id).ok());
  }
  std::vector<std::string> seen;
  v1::ListProvidersRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    v1::ListProvidersResponse response;
    ASSERT_TRUE(admin_->ListProviders(Context(token_).get(), request, &response).ok());
    for (const auto& p : response.providers()) seen.push_back(p.provider_id());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("alpha", "bravo", "charlie", "delta", "echo"));
}

TEST_F(AdminTest, BadPagingIsInvalidArgument) {
  v1::ListProvidersRequest request;
  request.set_page_size(-1);
  v1::ListProvidersResponse response;
  grpc::Status status = admin_->ListProviders(Context(token_).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_size"});

  request.set_page_size(1);
  request.set_page_token("not-a-token");
  status = admin_->ListProviders(Context(token_).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_token"});
}

TEST_F(AdminTest, UpdateProviderHonoursTheMaskAndPausesAndResumes) {
  v1::CreateProviderRequest create;
  create.set_provider_id("acme");
  create.set_display_name("Acme");
  create.add_regions("TX");
  ASSERT_TRUE(CreateProvider(create).ok());

  v1::UpdateProviderRequest update;
  update.mutable_provider()->set_provider_id("acme");
  update.mutable_provider()->set_state(v1::PROVIDER_STATE_PAUSED);
  update.mutable_provider()->set_display_name("Not applied: not in the mask");
  update.mutable_update_mask()->add_paths("state");
  v1::UpdateProviderResponse response;
  ASSERT_TRUE(admin_->UpdateProvider(Context(token_).get(), update, &response).ok());
  EXPECT_EQ(response.provider().state(), v1::PROVIDER_STATE_PAUSED);
  EXPECT_EQ(response.provider().display_name(), "Acme");
  EXPECT_THAT(response.provider().regions(), ElementsAre("TX"));

  update.mutable_provider()->set_state(v1::PROVIDER_STATE_ACTIVE);
  update.mutable_provider()->add_regions("OK");
  update.mutable_update_mask()->add_paths("regions");
  ASSERT_TRUE(admin_->UpdateProvider(Context(token_).get(), update, &response).ok());
  v1::Provider stored;
  ASSERT_TRUE(GetProvider("acme", &stored).ok());
  EXPECT_EQ(stored.state(), v1::PROVIDER_STATE_ACTIVE);
  EXPECT_THAT(stored.regions(), ElementsAre("OK"));
  EXPECT_GE(stored.update_time().seconds(), stored.create_time().seconds());
}

TEST_F(AdminTest, BadUpdatesChangeNothing) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  struct Case {
    std::string name;
    std::function<void(v1::UpdateProviderRequest&)> build;
    grpc::StatusCode code;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"empty mask", [](auto&) {}, grpc::StatusCode::INVALID_ARGUMENT, {"update_mask"}},
      {"unknown path",
       [](auto& r) { r.mutable_update_mask()->add_paths("price"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"update_mask"}},
      {"provider_id is immutable",
       [](auto& r) { r.mutable_update_mask()->add_paths("provider_id"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"update_mask"}},
      {"bad time zone",
       [](auto& r) {
         r.mutable_provider()->set_time_zone("Atlantis/Deep");
         r.mutable_update_mask()->add_paths("time_zone");
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"provider.time_zone"}},
      {"state unspecified",
       [](auto& r) { r.mutable_update_mask()->add_paths("state"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"provider.state"}},
      {"unknown provider",
       [](auto& r) {
         r.mutable_provider()->set_provider_id("nobody");
         r.mutable_update_mask()->add_paths("display_name");
         r.mutable_provider()->set_display_name("x");
       },
       grpc::StatusCode::NOT_FOUND,
       {}},
      {"malformed provider id",
       [](auto& r) {
         r.mutable_provider()->set_provider_id("NOPE!");
         r.mutable_update_mask()->add_paths("display_name");
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"provider.provider_id"}},
  };
  for (const Case& c : cases) {
    v1::UpdateProviderRequest request;
    request.mutable_provider()->set_provider_id("acme");
    c.build(request);
    v1::UpdateProviderResponse response;
    const grpc::Status status = admin_->UpdateProvider(Context(token_).get(), request, &response);
    EXPECT_EQ(status.error_code(), c.code) << c.name;
    EXPECT_EQ(BadFields(status), c.fields) << c.name;
  }
  v1::Provider stored;
  ASSERT_TRUE(GetProvider("acme", &stored).ok());
  EXPECT_EQ(stored.time_zone(), "America/New_York");
  EXPECT_EQ(stored.state(), v1::PROVIDER_STATE_ACTIVE);
  EXPECT_EQ(stored.display_name(), "Provider acme");
}

TEST_F(AdminTest, GetProviderDistinguishesMalformedFromUnknown) {
  EXPECT_EQ(GetProvider("nobody").error_code(), grpc::StatusCode::NOT_FOUND);
  const grpc::Status status = GetProvider("Not An Id");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"provider_id"});
}

TEST_F(AdminTest, ListingsBelongToExistingProvidersEvenPausedOnes) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  ASSERT_TRUE(CreateProvider("beta").ok());
  v1::UpdateProviderRequest pause;
  pause.mutable_provider()->set_provider_id("beta");
  pause.mutable_provider()->set_state(v1::PROVIDER_STATE_PAUSED);
  pause.mutable_update_mask()->add_paths("state");
  v1::UpdateProviderResponse paused;
  ASSERT_TRUE(admin_->UpdateProvider(Context(token_).get(), pause, &paused).ok());

  const auto create = [&](const std::string& id, const std::string& provider,
                          const std::string& region) {
    v1::CreateListingRequest request;
    request.set_listing_id(id);
    request.set_provider_id(provider);
    request.set_display_name("Center " + id);
    request.set_region(region);
    v1::CreateListingResponse response;
    return admin_->CreateListing(Context(token_).get(), request, &response);
  };
  EXPECT_TRUE(create("miami-1", "acme", "FL").ok());
  EXPECT_TRUE(create("austin-1", "beta", "TX").ok()) << "a paused provider may own listings";
  EXPECT_TRUE(create("miami-2", "acme", "FL").ok());
  EXPECT_EQ(create("miami-1", "acme", "FL").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(create("lost-1", "nobody", "FL").error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status bad = create("x-1", "acme", "QQ");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(bad), std::set<std::string>{"region"});
  bad = create("", "", "");
  EXPECT_EQ(BadFields(bad), (std::set<std::string>{"listing_id", "provider_id", "region"}));

  v1::ListListingsRequest list;
  list.set_provider_id("acme");
  list.set_page_size(1);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    v1::ListListingsResponse page;
    ASSERT_TRUE(admin_->ListListings(Context(token_).get(), list, &page).ok());
    for (const auto& l : page.listings()) ids.push_back(l.listing_id());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_THAT(ids, ElementsAre("miami-1", "miami-2"));

  // A token from one filter is refused under another.
  list.set_provider_id("beta");
  v1::ListListingsResponse page;
  EXPECT_EQ(admin_->ListListings(Context(token_).get(), list, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AdminTest, EveryAdminRpcNeedsTheAdminToken) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  const std::string provider_token = IssueToken("acme");
  ASSERT_EQ(provider_token.size(), 43u);

  EXPECT_EQ(ListProvidersWith(token_), grpc::StatusCode::OK);
  EXPECT_EQ(ListProvidersWith(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProvidersWith("garbage"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProvidersWith(token_ + "x"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProvidersWith(provider_token), grpc::StatusCode::PERMISSION_DENIED);

  for (const std::string& header :
       {std::string("Basic ") + token_, token_, std::string("Bearer"), std::string("Bearer ")}) {
    auto context = Context();
    context->AddMetadata("authorization", header);
    v1::ListProvidersResponse response;
    EXPECT_EQ(admin_->ListProviders(context.get(), {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
}

// A call carrying two `authorization` headers is UNAUTHENTICATED, whichever tokens they hold
// (a proxy that adds its own header must not decide which one counts): on AdminService, and
// on ProviderService's unary calls and stream.
TEST_F(AdminTest, TwoAuthorizationHeadersAreUnauthenticated) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  const std::string provider_token = IssueToken("acme");
  const auto twice = [](const std::string& first, const std::string& second) {
    auto context = Context(first);
    context->AddMetadata("authorization", "Bearer " + second);
    return context;
  };
  for (const auto& [first, second] : std::vector<std::pair<std::string, std::string>>{
           {token_, token_}, {token_, "garbage"}, {"garbage", token_}, {token_, provider_token}}) {
    v1::ListProvidersResponse response;
    EXPECT_EQ(admin_->ListProviders(twice(first, second).get(), {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(ListProvidersWith(token_), grpc::StatusCode::OK) << "one header still works";

  auto provider = v1::ProviderService::NewStub(server_->PublicChannel());
  v1::ListLeadsResponse leads;
  EXPECT_EQ(
      provider->ListLeads(twice(provider_token, provider_token).get(), {}, &leads).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(provider->ListLeads(Context(provider_token).get(), {}, &leads).ok());
  auto context = twice(provider_token, provider_token);
  auto stream = provider->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse message;
  EXPECT_FALSE(stream->Read(&message));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AdminTest, RevokedTokenFailsOnItsVeryNextCall) {
  ASSERT_TRUE(CreateProvider("acme").ok());
  const std::string provider_token = IssueToken("acme");
  // A live provider token is recognised (and denied admin access)...
  EXPECT_EQ(ListProvidersWith(provider_token), grpc::StatusCode::PERMISSION_DENIED);
  v1::RevokeProviderTokenRequest revoke;
  revoke.set_token_id(last_token_id_);
  v1::RevokeProviderTokenResponse revoked;
  ASSERT_TRUE(admin_->RevokeProviderToken(Context(token_).get(), revoke, &revoked).ok());
  // ...a revoked one is not recognised at all.
  EXPECT_EQ(ListProvidersWith(provider_token), grpc::StatusCode::UNAUTHENTICATED);
  // Revoking twice is fine; an unknown token is NOT_FOUND.
  EXPECT_TRUE(admin_->RevokeProviderToken(Context(token_).get(), revoke, &revoked).ok());
  revoke.set_token_id("tok-nope");
  EXPECT_EQ(admin_->RevokeProviderToken(Context(token_).get(), revoke, &revoked).error_code(),
            grpc::StatusCode::NOT_FOUND);
  revoke.set_token_id("");
  EXPECT_EQ(admin_->RevokeProviderToken(Context(token_).get(), revoke, &revoked).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AdminTest, IssueTokenForUnknownProviderIsNotFound) {
  v1::IssueProviderTokenRequest request;
  request.set_provider_id("nobody");
  v1::IssueProviderTokenResponse response;
  EXPECT_EQ(admin_->IssueProviderToken(Context(token_).get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_provider_id("");
  EXPECT_EQ(admin_->IssueProviderToken(Context(token_).get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AdminTest, AdminTokenRotationNeedsNoRestart) {
  const std::string path = server_->data_dir() + "/admin.token";
  const std::string rotated(43, 'r');
  {
    std::ofstream out(path + ".new");
    out << rotated << "\n";
  }
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_EQ(ListProvidersWith(token_), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProvidersWith(rotated), grpc::StatusCode::OK);
}

TEST_F(AdminTest, ProvidersAndTokensSurviveARestartAndTokensAreNeverLogged) {
  TempDir dir;
  server_ = IntakedProcess::Start({}, dir.File("var"));
  ASSERT_NE(server_, nullptr);
  admin_ = AdminService::NewStub(server_->AdminChannel());
  token_ = server_->AdminToken();
  ASSERT_TRUE(CreateProvider("acme").ok());
  const std::string provider_token = IssueToken("acme");
  const std::string data_dir = server_->data_dir();
  const ExitResult stopped = server_->Stop(SIGTERM);
  EXPECT_EQ(stopped.stderr_text.find(provider_token), std::string::npos);
  EXPECT_EQ(stopped.stderr_text.find(token_), std::string::npos);

  server_ = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server_, nullptr);
  admin_ = AdminService::NewStub(server_->AdminChannel());
  const grpc::Status get = GetProvider("acme");
  EXPECT_TRUE(get.ok()) << get.error_code() << " " << get.error_message();
  EXPECT_EQ(ListProvidersWith(provider_token), grpc::StatusCode::PERMISSION_DENIED)
      << "the token is still recognised after a restart";
}

}  // namespace
}  // namespace intake::testing
