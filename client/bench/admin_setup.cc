#include "client/bench/admin_setup.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/bench/channels.h"
#include "grpcpp/client_context.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::bench {
namespace {

constexpr char kProviderId[] = "bench-provider";
constexpr char kListingId[] = "bench-listing";

// One admin RPC's context: the bearer token and the deadline.
void PrepareContext(absl::string_view admin_token, absl::Duration timeout,
                    grpc::ClientContext* context) {
  context->AddMetadata("authorization", absl::StrCat("Bearer ", admin_token));
  context->set_deadline(DeadlineIn(timeout));
}

// `status` of RPC `rpc` as an absl::Status; ALREADY_EXISTS is OK when `exists_ok`.
absl::Status CallStatus(absl::string_view rpc, const grpc::Status& status, bool exists_ok) {
  if (status.ok()) return absl::OkStatus();
  if (exists_ok && status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    return absl::OkStatus();
  }
  // Abseil's codes carry gRPC's numbers.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("AdminService.", rpc, ": ", status.error_message()));
}

}  // namespace

absl::StatusOr<std::string> ReadAdminToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the admin token file ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(contents.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the admin token file ", path, " is empty"));
  }
  return token;
}

absl::StatusOr<BenchProvider> SetUpBenchProvider(
    const std::shared_ptr<grpc::Channel>& admin_channel, absl::string_view admin_token,
    absl::Duration timeout) {
  const std::unique_ptr<v1::AdminService::Stub> admin = v1::AdminService::NewStub(admin_channel);

  v1::CreateProviderRequest provider;
  provider.set_provider_id(kProviderId);
  provider.set_display_name("Bench Provider");
  provider.set_state(v1::PROVIDER_STATE_ACTIVE);
  {
    grpc::ClientContext context;
    PrepareContext(admin_token, timeout, &context);
    v1::CreateProviderResponse response;
    absl::Status s =
        CallStatus("CreateProvider", admin->CreateProvider(&context, provider, &response),
                   /*exists_ok=*/true);
    if (!s.ok()) return s;
  }

  v1::CreateListingRequest listing;
  listing.set_listing_id(kListingId);
  listing.set_provider_id(kProviderId);
  listing.set_display_name("Bench Listing");
  listing.set_region("NY");
  {
    grpc::ClientContext context;
    PrepareContext(admin_token, timeout, &context);
    v1::CreateListingResponse response;
    absl::Status s = CallStatus("CreateListing", admin->CreateListing(&context, listing, &response),
                                /*exists_ok=*/true);
    if (!s.ok()) return s;
  }

  v1::IssueProviderTokenRequest issue;
  issue.set_provider_id(kProviderId);
  grpc::ClientContext context;
  PrepareContext(admin_token, timeout, &context);
  v1::IssueProviderTokenResponse issued;
  absl::Status s =
      CallStatus("IssueProviderToken", admin->IssueProviderToken(&context, issue, &issued),
                 /*exists_ok=*/false);
  if (!s.ok()) return s;
  return BenchProvider{kProviderId, kListingId, issued.token()};
}

}  // namespace intake::bench
