#include "server/api/admin_service.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/paging.h"
#include "server/api/tokens.h"
#include "server/domain/status_macros.h"

namespace intake::api {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// An id in a request that names an existing thing: checked for form before any look-up, so
// a malformed id is INVALID_ARGUMENT and a well-formed unknown one NOT_FOUND.
absl::Status CheckId(absl::string_view field, absl::string_view id) {
  if (IsValidId(id)) return absl::OkStatus();
  return BadRequest({{std::string(field), "must match [a-z0-9][a-z0-9-]{0,63}"}});
}

// Applies the update_mask paths of `request` to `provider`, or refuses the whole update.
absl::Status ApplyProviderUpdate(const v1::UpdateProviderRequest& request, Provider& provider) {
  FieldViolations violations;
  const v1::Provider& changes = request.provider();
  if (request.update_mask().paths().empty()) {
    violations.push_back({"update_mask", "must name at least one field"});
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& path : request.update_mask().paths()) {
    if (!seen.insert(path).second) {
      violations.push_back({"update_mask", "names a field twice"});
    } else if (path == "display_name") {
      provider.display_name = changes.display_name();
    } else if (path == "state") {
      if (changes.state() == v1::PROVIDER_STATE_UNSPECIFIED) {
        violations.push_back({"provider.state", "must be ACTIVE or PAUSED"});
      }
      provider.state = FromProto(changes.state(), provider.state, "provider.state", &violations);
    } else if (path == "regions") {
      provider.regions.assign(changes.regions().begin(), changes.regions().end());
    } else if (path == "daily_cap") {
      provider.daily_cap = changes.daily_cap();
    } else if (path == "time_zone") {
      provider.time_zone = changes.time_zone();
    } else if (path == "hours") {
      provider.hours = FromProto(changes.hours());
    } else {
      // Paths come from the client's own mask; they are field names, not personal data.
      violations.push_back(
          {"update_mask",
           "may name only display_name, state, regions, daily_cap, time_zone and hours"});
    }
  }
  FieldViolations rules = ValidateProvider(provider, "provider.");
  violations.insert(violations.end(), rules.begin(), rules.end());
  if (!violations.empty()) return BadRequest(violations);
  return absl::OkStatus();
}

}  // namespace

ServerUnaryReactor* AdminServiceImpl::CreateProvider(CallbackServerContext* context,
                                                     const v1::CreateProviderRequest* request,
                                                     v1::CreateProviderResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    FieldViolations violations;
    Provider provider = FromProto(*request, &violations);
    FieldViolations rules = ValidateProvider(provider);
    violations.insert(violations.end(), rules.begin(), rules.end());
    if (!violations.empty()) return BadRequest(violations);
    INTAKE_ASSIGN_OR_RETURN(Provider stored, store_.CreateProvider(std::move(provider)));
    ToProto(stored, response->mutable_provider());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::UpdateProvider(CallbackServerContext* context,
                                                     const v1::UpdateProviderRequest* request,
                                                     v1::UpdateProviderResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_RETURN_IF_ERROR(CheckId("provider.provider_id", request->provider().provider_id()));
    INTAKE_ASSIGN_OR_RETURN(
        Provider stored,
        store_.UpdateProvider(request->provider().provider_id(),
                              [request](Provider& p) { return ApplyProviderUpdate(*request, p); }));
    ToProto(stored, response->mutable_provider());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::GetProvider(CallbackServerContext* context,
                                                  const v1::GetProviderRequest* request,
                                                  v1::GetProviderResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_RETURN_IF_ERROR(CheckId("provider_id", request->provider_id()));
    INTAKE_ASSIGN_OR_RETURN(Provider stored, store_.GetProvider(request->provider_id()));
    ToProto(stored, response->mutable_provider());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListProviders(CallbackServerContext* context,
                                                    const v1::ListProvidersRequest* request,
                                                    v1::ListProvidersResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    constexpr absl::string_view kScope = "providers";
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, DecodePageToken(kScope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Provider> page, store_.ListProviders(limit, after));
    for (const Provider& p : page.items) ToProto(p, response->add_providers());
    response->set_next_page_token(EncodePageToken(kScope, page.next_after));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::IssueProviderToken(
    CallbackServerContext* context, const v1::IssueProviderTokenRequest* request,
    v1::IssueProviderTokenResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_RETURN_IF_ERROR(CheckId("provider_id", request->provider_id()));
    std::string token = NewBearerToken();
    INTAKE_ASSIGN_OR_RETURN(store::ProviderToken stored,
                            store_.IssueProviderToken(request->provider_id(), TokenHash(token)));
    gate_.auth().AddProviderToken(stored);
    response->set_token_id(stored.token_id);
    response->set_token(std::move(token));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::RevokeProviderToken(
    CallbackServerContext* context, const v1::RevokeProviderTokenRequest* request,
    v1::RevokeProviderTokenResponse* /*response*/) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    if (request->token_id().empty() || request->token_id().size() > 64) {
      return BadRequest({{"token_id", "must be a token_id from IssueProviderToken"}});
    }
    INTAKE_ASSIGN_OR_RETURN(store::ProviderToken revoked,
                            store_.RevokeProviderToken(request->token_id()));
    gate_.auth().RemoveProviderToken(revoked);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::CreateListing(CallbackServerContext* context,
                                                    const v1::CreateListingRequest* request,
                                                    v1::CreateListingResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    Listing listing = FromProto(*request);
    if (FieldViolations violations = ValidateListing(listing); !violations.empty()) {
      return BadRequest(violations);
    }
    INTAKE_ASSIGN_OR_RETURN(Listing stored, store_.CreateListing(std::move(listing)));
    ToProto(stored, response->mutable_listing());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListListings(CallbackServerContext* context,
                                                   const v1::ListListingsRequest* request,
                                                   v1::ListListingsResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    if (!request->provider_id().empty()) {
      INTAKE_RETURN_IF_ERROR(CheckId("provider_id", request->provider_id()));
    }
    const std::string scope = absl::StrCat("listings/", request->provider_id());
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, DecodePageToken(scope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Listing> page,
                            store_.ListListings(limit, after, request->provider_id()));
    for (const Listing& l : page.items) ToProto(l, response->add_listings());
    response->set_next_page_token(EncodePageToken(scope, page.next_after));
    return absl::OkStatus();
  });
}

}  // namespace intake::api
