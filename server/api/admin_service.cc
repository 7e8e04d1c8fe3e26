#include "server/api/admin_service.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/api/backup_stream.h"
#include "server/api/convert.h"
#include "server/api/paging.h"
#include "server/api/provider_service.h"
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

// Longer than any submission_id this server issues ("sub-" and 32 hex digits).
constexpr size_t kMaxSubmissionIdChars = 64;

// The phone of a privacy request in E.164, or INVALID_ARGUMENT naming `phone`.
absl::StatusOr<std::string> RequestPhone(const std::string& phone, const PhoneNormalizer& phones) {
  absl::StatusOr<std::string> e164 = NormalizePhone(phone, phones);
  if (!e164.ok()) return BadRequest({{"phone", std::string(e164.status().message())}});
  return e164;
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
    constexpr absl::string_view kScope = "AdminService.ListProviders";
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, page_tokens_.Decode(kScope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Provider> page, store_.ListProviders(limit, after));
    for (const Provider& p : page.items) ToProto(p, response->add_providers());
    response->set_next_page_token(page_tokens_.Encode(kScope, page.next_after));
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
    streams_.registry->Revoke(revoked.token_sha256);
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
    // No figures to invalidate: SubmitCallback and GetResponseStats learn a listing's owner
    // from the store when their snapshot does not know the listing yet.
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
    const std::string scope = absl::StrCat("AdminService.ListListings/", request->provider_id());
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, page_tokens_.Decode(scope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Listing> page,
                            store_.ListListings(limit, after, request->provider_id()));
    for (const Listing& l : page.items) ToProto(l, response->add_listings());
    response->set_next_page_token(page_tokens_.Encode(scope, page.next_after));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListLeads(CallbackServerContext* context,
                                                const v1::AdminServiceListLeadsRequest* request,
                                                v1::AdminServiceListLeadsResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    FieldViolations violations;
    store::LeadFilter filter;
    filter.provider_id = request->provider_id();
    filter.unassigned = request->unassigned();
    filter.state = FromProto(request->state(), "state", &violations);
    if (!filter.provider_id.empty() && !IsValidId(filter.provider_id)) {
      violations.push_back({"provider_id", "must match [a-z0-9][a-z0-9-]{0,63}"});
    }
    if (filter.unassigned && !filter.provider_id.empty()) {
      violations.push_back({"unassigned", "cannot be combined with provider_id"});
    }
    if (!violations.empty()) return BadRequest(violations);
    const std::string scope = absl::StrCat("AdminService.ListLeads/", filter.provider_id, "/",
                                           request->state(), "/", filter.unassigned);
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, page_tokens_.Decode(scope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Lead> page, store_.ListLeads(filter, limit, after));
    for (const Lead& lead : page.items) ToProto(lead, response->add_leads());
    response->set_next_page_token(page_tokens_.Encode(scope, page.next_after));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::GetLead(CallbackServerContext* context,
                                              const v1::AdminServiceGetLeadRequest* request,
                                              v1::AdminServiceGetLeadResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    if (!IsPlausibleLeadId(request->lead_id())) {
      return BadRequest({{"lead_id", "must be a lead_id this server issued"}});
    }
    INTAKE_ASSIGN_OR_RETURN(Lead lead, store_.GetLead(request->lead_id(), ""));
    INTAKE_ASSIGN_OR_RETURN(store::LeadEvidence evidence,
                            store_.GetLeadEvidence(request->lead_id()));
    ToProto(lead, response->mutable_lead());
    v1::LeadEvidence* out = response->mutable_evidence();
    out->set_consent_text_sha256(absl::BytesToHexString(evidence.consent_text_sha256));
    for (const std::string& a : evidence.advertisers) out->add_advertisers(a);
    ToProto(evidence.consent_time, out->mutable_consent_time());
    out->set_form_id(lead.form.form_id);
    out->set_page_url(lead.form.page_url);
    *out->mutable_routing() = response->lead().routing();
    for (const LeadEvent& event : evidence.history) ToProto(event, out->add_events());
    INTAKE_ASSIGN_OR_RETURN(std::vector<Disclosure> disclosures,
                            store_.ListLeadDisclosures(request->lead_id()));
    for (const Disclosure& d : disclosures) ToProto(d, response->add_disclosures());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ReassignLead(CallbackServerContext* context,
                                                   const v1::ReassignLeadRequest* request,
                                                   v1::ReassignLeadResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    FieldViolations violations;
    if (!IsPlausibleLeadId(request->lead_id())) {
      violations.push_back({"lead_id", "must be a lead_id this server issued"});
    }
    if (!IsValidId(request->provider_id())) {
      violations.push_back({"provider_id", "must match [a-z0-9][a-z0-9-]{0,63}"});
    }
    if (!violations.empty()) return BadRequest(violations);
    INTAKE_ASSIGN_OR_RETURN(Lead lead,
                            store_.ReassignLead(request->lead_id(), request->provider_id()));
    figures_.Invalidate();
    ToProto(lead, response->mutable_lead());
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::WatchLeadsResponse>* AdminServiceImpl::WatchLeads(
    CallbackServerContext* context, const v1::WatchLeadsRequest* request) {
  absl::StatusOr<Principal> principal = gate_.Authenticate(context, Access::kAdmin);
  if (!principal.ok()) {
    return RefusedStream<v1::WatchLeadsResponse>(ToGrpcStatus(principal.status()));
  }
  return new LeadStream<v1::WatchLeadsResponse>(streams_, "", "", "", request->after_sequence());
}

grpc::ServerWriteReactor<v1::BackupDatabaseResponse>* AdminServiceImpl::BackupDatabase(
    CallbackServerContext* context, const v1::BackupDatabaseRequest* /*request*/) {
  absl::StatusOr<Principal> principal = gate_.Authenticate(context, Access::kAdmin);
  if (!principal.ok()) {
    return RefusedStream<v1::BackupDatabaseResponse>(ToGrpcStatus(principal.status()));
  }
  return new BackupStream(streams_.store, streams_.executor, streams_.registry);
}

ServerUnaryReactor* AdminServiceImpl::GetStats(CallbackServerContext* context,
                                               const v1::GetStatsRequest* /*request*/,
                                               v1::GetStatsResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(auto counters, store_.Counters());
    INTAKE_ASSIGN_OR_RETURN(absl::Time since, store_.CreateTime());
    v1::StatsTotals* totals = response->mutable_totals();
    for (const auto& [name, value] : counters) {
      const auto count = static_cast<uint64_t>(value);
      if (name == "submissions") totals->set_submissions(count);
      if (name == "leads") totals->set_leads(count);
      if (name == "duplicates_merged") totals->set_duplicates_merged(count);
      if (name == "bot_submissions") totals->set_bot_submissions(count);
      if (name == "invalid_submissions") totals->set_invalid_submissions(count);
      if (name == "rate_limited") totals->set_rate_limited(count);
    }
    ToProto(since, totals->mutable_count_start_time());
    INTAKE_ASSIGN_OR_RETURN(auto snapshot, figures_.Fresh());
    std::string after;
    do {
      INTAKE_ASSIGN_OR_RETURN(store::Page<Provider> page,
                              store_.ListProviders(kMaxPageSize, after));
      for (const Provider& provider : page.items) {
        v1::ProviderStats* out = response->add_providers();
        out->set_provider_id(provider.provider_id);
        auto it = snapshot->providers.find(provider.provider_id);
        const ResponseFiguresCache::ProviderFigures figures =
            it == snapshot->providers.end()
                ? ResponseFiguresCache::ProviderFigures{snapshot->no_leads, 0, 0, 0}
                : it->second;
        out->set_assigned(figures.assigned);
        out->set_acknowledged(figures.acknowledged);
        out->set_contacted(figures.contacted);
        out->set_median_response_seconds(absl::ToDoubleSeconds(figures.figures.median_response));
        out->set_response_rate(figures.figures.response_rate);
        out->set_sample_size(figures.figures.sample_size);
        out->set_window_days(figures.figures.window_days);
      }
      after = page.next_after;
    } while (!after.empty());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::RecordOptOut(CallbackServerContext* context,
                                                   const v1::RecordOptOutRequest* request,
                                                   v1::RecordOptOutResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(const std::string e164, RequestPhone(request->phone(), phones_));
    INTAKE_ASSIGN_OR_RETURN(const uint32_t changed, store_.OptOutCaller(e164));
    response->set_opted_out_leads(changed);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::EraseCaller(CallbackServerContext* context,
                                                  const v1::EraseCallerRequest* request,
                                                  v1::EraseCallerResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(const std::string e164, RequestPhone(request->phone(), phones_));
    INTAKE_ASSIGN_OR_RETURN(const uint32_t erased, store_.EraseCaller(e164));
    response->set_erased_leads(erased);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::PurgeLeads(CallbackServerContext* context,
                                                 const v1::PurgeLeadsRequest* request,
                                                 v1::PurgeLeadsResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    if (!request->has_older_than()) return BadRequest({{"older_than", "is required"}});
    const std::optional<absl::Time> older_than = FromProto(request->older_than());
    if (!older_than) return BadRequest({{"older_than", "is not a valid timestamp"}});
    if (*older_than > clock_.Now()) {
      return BadRequest({{"older_than", "must not be in the future"}});
    }
    INTAKE_ASSIGN_OR_RETURN(const uint32_t purged, store_.PurgeLeads(*older_than));
    if (purged > 0) figures_.Invalidate();
    response->set_purged_leads(purged);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListDisclosures(CallbackServerContext* context,
                                                      const v1::ListDisclosuresRequest* request,
                                                      v1::ListDisclosuresResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(const std::string e164, RequestPhone(request->phone(), phones_));
    INTAKE_ASSIGN_OR_RETURN(std::vector<LeadDisclosures> leads, store_.ListCallerDisclosures(e164));
    for (const LeadDisclosures& lead : leads) ToProto(lead, response->add_leads());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ListQuarantinedSubmissions(
    CallbackServerContext* context, const v1::ListQuarantinedSubmissionsRequest* request,
    v1::ListQuarantinedSubmissionsResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    constexpr absl::string_view kScope = "AdminService.ListQuarantinedSubmissions";
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, page_tokens_.Decode(kScope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<store::QuarantinedSubmission> page,
                            store_.ListQuarantined(limit, after));
    for (const store::QuarantinedSubmission& held : page.items) {
      v1::QuarantinedSubmission* out = response->add_submissions();
      ToProto(held.submission, out);
      out->set_submission_id(held.submission_id);
      ToProto(held.create_time, out->mutable_create_time());
      ToProto(held.expire_time, out->mutable_expire_time());
    }
    response->set_next_page_token(page_tokens_.Encode(kScope, page.next_after));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* AdminServiceImpl::ReleaseQuarantinedSubmission(
    CallbackServerContext* context, const v1::ReleaseQuarantinedSubmissionRequest* request,
    v1::ReleaseQuarantinedSubmissionResponse* response) {
  return gate_.Unary(context, Access::kAdmin, [=](const Principal&) -> absl::Status {
    // Server-issued and opaque, like lead ids: checked for a sane length only.
    const std::string& id = request->submission_id();
    if (id.empty() || id.size() > kMaxSubmissionIdChars) {
      return BadRequest({{"submission_id", "must be a submission_id this server issued"}});
    }
    INTAKE_ASSIGN_OR_RETURN(Lead lead, store_.ReleaseQuarantined(id));
    figures_.Invalidate();
    ToProto(lead, response->mutable_lead());
    return absl::OkStatus();
  });
}

}  // namespace intake::api
