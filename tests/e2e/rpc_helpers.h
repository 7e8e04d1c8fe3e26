// Small client-side helpers for end-to-end tests: contexts with deadlines and tokens, a
// provider made through the admin API, and reading a google.rpc.BadRequest out of a failed
// call.
#ifndef INTAKE_TESTS_E2E_RPC_HELPERS_H_
#define INTAKE_TESTS_E2E_RPC_HELPERS_H_

#include <initializer_list>
#include <memory>
#include <set>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.pb.h"

namespace intake::testing {

// A context with a deadline and, if `token` is not empty, `authorization: Bearer <token>`.
inline std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "",
                                                    absl::Duration deadline = absl::Seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

// A SubmitCallbackRequest that passes validation, from `phone`.
inline v1::SubmitCallbackRequest ValidRequest(const std::string& phone = "(212) 736-5000") {
  v1::SubmitCallbackRequest r;
  r.mutable_caller()->set_name("Jordan Example");
  r.mutable_caller()->set_phone(phone);
  r.mutable_caller()->set_postal_code("33101");
  r.mutable_caller()->set_region("FL");
  r.mutable_consent()->set_granted(true);
  r.mutable_consent()->set_text("By submitting you agree to be called back by a provider.");
  r.mutable_consent()->add_advertisers("Sunrise Recovery");
  r.mutable_form()->set_form_id("sidebar-v2");
  r.mutable_form()->set_page_url("https://finder.example/centers/miami");
  r.set_message("Please call after 5pm.");
  return r;
}

// A provider made through AdminService, and how to act as it.
struct TestProvider {
  std::string token;     // For `authorization: Bearer` on ProviderService.
  std::string token_id;  // For RevokeProviderToken.
};

// Creates provider `id` (named `id`) with a listing "<id><suffix>" in `region` for each
// suffix, and issues it a token. A call that fails is a test failure (not fatal), with its
// message.
inline TestProvider CreateTestProvider(
    v1::AdminService::Stub& admin, const std::string& admin_token, const std::string& id,
    std::initializer_list<const char*> listing_suffixes = {"-listing"},
    const std::string& region = "FL") {
  v1::CreateProviderRequest provider;
  provider.set_provider_id(id);
  provider.set_display_name(id);
  v1::CreateProviderResponse created;
  grpc::Status status = admin.CreateProvider(Context(admin_token).get(), provider, &created);
  EXPECT_TRUE(status.ok()) << "CreateProvider " << id << ": " << status.error_message();
  for (const char* suffix : listing_suffixes) {
    v1::CreateListingRequest listing;
    listing.set_listing_id(id + suffix);
    listing.set_provider_id(id);
    listing.set_display_name("Center");
    listing.set_region(region);
    v1::CreateListingResponse listed;
    status = admin.CreateListing(Context(admin_token).get(), listing, &listed);
    EXPECT_TRUE(status.ok()) << "CreateListing " << id << suffix << ": " << status.error_message();
  }
  v1::IssueProviderTokenRequest issue;
  issue.set_provider_id(id);
  v1::IssueProviderTokenResponse issued;
  status = admin.IssueProviderToken(Context(admin_token).get(), issue, &issued);
  EXPECT_TRUE(status.ok()) << "IssueProviderToken " << id << ": " << status.error_message();
  return {issued.token(), issued.token_id()};
}

// The field paths of the BadRequest a failed call carried; empty if it carried none.
inline std::set<std::string> BadFields(const grpc::Status& status) {
  std::set<std::string> fields;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return fields;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& violation : bad_request.field_violations()) {
      fields.insert(violation.field());
    }
  }
  return fields;
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_RPC_HELPERS_H_
