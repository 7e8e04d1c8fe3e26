#include "server/api/provider_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/paging.h"
#include "server/domain/disclosure.h"
#include "server/domain/lead.h"
#include "server/domain/status_macros.h"

namespace intake::api {
namespace {

// Notes that the token of `p` is about to receive `lead` through `channel`, if the lead
// carries personal data. Never blocks.
void NoteDisclosure(store::Storage& store, const Principal& p, const v1::Lead& lead,
                    DisclosureChannel channel) {
  if (CarriesPersonalData(lead)) {
    store.RecordDisclosure(lead.lead_id(), p.provider_id, p.token_id, channel);
  }
}

absl::Status CheckLeadId(const std::string& lead_id) {
  if (!IsPlausibleLeadId(lead_id)) {
    return BadRequest({{"lead_id", "must be a lead_id this server issued"}});
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeLeadsResponse>* ProviderServiceImpl::SubscribeLeads(
    grpc::CallbackServerContext* context, const v1::SubscribeLeadsRequest* request) {
  absl::StatusOr<Principal> principal = gate_.Authenticate(context, Access::kProvider);
  if (!principal.ok()) {
    return RefusedStream<v1::SubscribeLeadsResponse>(ToGrpcStatus(principal.status()));
  }
  return new LeadStream<v1::SubscribeLeadsResponse>(streams_, principal->provider_id,
                                                    principal->token_hash, principal->token_id,
                                                    request->after_sequence());
}

grpc::ServerUnaryReactor* ProviderServiceImpl::AcknowledgeLead(
    grpc::CallbackServerContext* context, const v1::AcknowledgeLeadRequest* request,
    v1::AcknowledgeLeadResponse* response) {
  return gate_.Unary(context, Access::kProvider, [=](const Principal& p) -> absl::Status {
    INTAKE_RETURN_IF_ERROR(CheckLeadId(request->lead_id()));
    INTAKE_ASSIGN_OR_RETURN(Lead lead, store_.AcknowledgeLead(p.provider_id, request->lead_id()));
    figures_.Invalidate();
    ToProviderProto(lead, response->mutable_lead());
    NoteDisclosure(store_, p, response->lead(), DisclosureChannel::kAcknowledgeLead);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ProviderServiceImpl::RecordContactAttempt(
    grpc::CallbackServerContext* context, const v1::RecordContactAttemptRequest* request,
    v1::RecordContactAttemptResponse* response) {
  return gate_.Unary(context, Access::kProvider, [=](const Principal& p) -> absl::Status {
    FieldViolations violations;
    if (!IsPlausibleLeadId(request->lead_id())) {
      violations.push_back({"lead_id", "must be a lead_id this server issued"});
    }
    const ContactOutcome outcome = FromProto(request->outcome(), "outcome", &violations);
    std::string note = request->note();
    for (FieldViolation& v : NormalizeContactNote(note)) violations.push_back(std::move(v));
    if (!violations.empty()) return BadRequest(violations);
    INTAKE_ASSIGN_OR_RETURN(
        Lead lead, store_.RecordContactAttempt(p.provider_id, request->lead_id(), outcome, note));
    figures_.Invalidate();
    ToProviderProto(lead, response->mutable_lead());
    NoteDisclosure(store_, p, response->lead(), DisclosureChannel::kRecordContactAttempt);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ProviderServiceImpl::ListLeads(grpc::CallbackServerContext* context,
                                                         const v1::ListLeadsRequest* request,
                                                         v1::ListLeadsResponse* response) {
  return gate_.Unary(context, Access::kProvider, [=](const Principal& p) -> absl::Status {
    FieldViolations violations;
    store::LeadFilter filter;
    filter.provider_id = p.provider_id;
    filter.state = FromProto(request->state(), "state", &violations);
    if (!violations.empty()) return BadRequest(violations);
    const std::string scope =
        absl::StrCat("ProviderService.ListLeads/", p.provider_id, "/", request->state());
    INTAKE_ASSIGN_OR_RETURN(const int limit, PageSize(request->page_size()));
    INTAKE_ASSIGN_OR_RETURN(std::string after, page_tokens_.Decode(scope, request->page_token()));
    INTAKE_ASSIGN_OR_RETURN(store::Page<Lead> page, store_.ListLeads(filter, limit, after));
    for (const Lead& lead : page.items) {
      v1::Lead* out = response->add_leads();
      ToProviderProto(lead, out);
      NoteDisclosure(store_, p, *out, DisclosureChannel::kListLeads);
    }
    response->set_next_page_token(page_tokens_.Encode(scope, page.next_after));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ProviderServiceImpl::GetLead(grpc::CallbackServerContext* context,
                                                       const v1::GetLeadRequest* request,
                                                       v1::GetLeadResponse* response) {
  return gate_.Unary(context, Access::kProvider, [=](const Principal& p) -> absl::Status {
    INTAKE_RETURN_IF_ERROR(CheckLeadId(request->lead_id()));
    INTAKE_ASSIGN_OR_RETURN(Lead lead, store_.GetLead(request->lead_id(), p.provider_id));
    ToProviderProto(lead, response->mutable_lead());
    NoteDisclosure(store_, p, response->lead(), DisclosureChannel::kGetLead);
    return absl::OkStatus();
  });
}

}  // namespace intake::api
