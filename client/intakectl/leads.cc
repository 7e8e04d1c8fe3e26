// leads list|get|reassign (AdminService, or ProviderService with --as_provider) and
// leads ack|contact (ProviderService, with a provider token). `leads tail` is in lead_tail.cc.
#include <iostream>
#include <string>
#include <vector>

#include "client/intakectl/command.h"
#include "client/intakectl/lead_view.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;
using v1::ProviderService;

constexpr FlagSpec kLeadFlag = {"lead", "ID", "the lead's id (required)"};
constexpr FlagSpec kAsProviderFlag = {
    "as_provider", "", "use ProviderService with a provider token (on the public listener)"};

// ProviderService calls: the public listener and a provider token.
template <typename Request, typename Response, typename PrintTable>
int RunProvider(const Invocation& run, StubMethod<ProviderService::Stub, Request, Response> method,
                const Request& request, PrintTable print_table) {
  return RunUnary(run, Listener::kPublic, Credential::kProviderToken, method, request, print_table);
}

// The leads as a table, or with --quiet their ids alone, one per line, for shell scripts
// (LEAD=$(intakectl leads list --quiet | head -n 1)).
template <typename Leads>
void PrintLeads(const Leads& leads, bool quiet, bool show_pii) {
  if (!quiet) {
    PrintLeadTable(leads, show_pii, std::cout);
    return;
  }
  for (const v1::Lead& lead : leads) std::cout << lead.lead_id() << "\n";
}

// Tells people how to get the next page; scripts read next_page_token from the JSON.
void PrintMore(const std::string& next_page_token) {
  if (!next_page_token.empty()) {
    std::cerr << "intakectl: more leads: add --page_token=" << next_page_token << "\n";
  }
}

int ListLeads(const Invocation& run) {
  int state = 0;
  int32_t page_size = 0;
  std::string provider;
  if (!run.flags.Enum("state", v1::LeadState_descriptor(), /*required=*/false, &state) ||
      !run.flags.PageSize("page_size", &page_size) ||
      !run.flags.Id("provider", /*required=*/false, &provider)) {
    return kExitUsage;
  }
  const bool unassigned = run.flags.Bool("unassigned");
  const bool show_pii = run.global.show_pii;
  const bool quiet = run.flags.Bool("quiet");
  if (run.flags.Bool("as_provider")) {
    if (!provider.empty() || unassigned) {
      UsageError("--provider and --unassigned are for ops; a provider token sees its own leads");
      return kExitUsage;
    }
    v1::ListLeadsRequest request;
    request.set_state(static_cast<v1::LeadState>(state));
    request.set_page_size(page_size);
    request.set_page_token(run.flags.Get("page_token"));
    return RunProvider(run, &ProviderService::Stub::ListLeads, request,
                       [show_pii, quiet](const v1::ListLeadsResponse& r) {
                         PrintLeads(r.leads(), quiet, show_pii);
                         PrintMore(r.next_page_token());
                       });
  }
  if (!provider.empty() && unassigned) {
    UsageError("--provider and --unassigned exclude each other");
    return kExitUsage;
  }
  v1::AdminServiceListLeadsRequest request;
  request.set_provider_id(provider);
  request.set_state(static_cast<v1::LeadState>(state));
  request.set_unassigned(unassigned);
  request.set_page_size(page_size);
  request.set_page_token(run.flags.Get("page_token"));
  return RunAdmin(run, &AdminService::Stub::ListLeads, request,
                  [show_pii, quiet](const v1::AdminServiceListLeadsResponse& r) {
                    PrintLeads(r.leads(), quiet, show_pii);
                    PrintMore(r.next_page_token());
                  });
}

int GetLead(const Invocation& run) {
  std::string lead_id;
  if (!run.flags.Text("lead", /*required=*/true, &lead_id)) return kExitUsage;
  const bool show_pii = run.global.show_pii;
  if (run.flags.Bool("as_provider")) {
    v1::GetLeadRequest request;
    request.set_lead_id(lead_id);
    return RunProvider(run, &ProviderService::Stub::GetLead, request,
                       [show_pii](const v1::GetLeadResponse& r) {
                         PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                       });
  }
  v1::AdminServiceGetLeadRequest request;
  request.set_lead_id(lead_id);
  return RunAdmin(run, &AdminService::Stub::GetLead, request,
                  [show_pii](const v1::AdminServiceGetLeadResponse& r) {
                    PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                    std::cout << "\n";
                    PrintEvidence(r.evidence(), std::cout);
                    std::cout << "\n";
                    PrintDisclosures(r.disclosures(), std::cout);
                  });
}

int ReassignLead(const Invocation& run) {
  v1::ReassignLeadRequest request;
  if (!run.flags.Text("lead", /*required=*/true, request.mutable_lead_id()) ||
      !run.flags.Id("provider", /*required=*/true, request.mutable_provider_id())) {
    return kExitUsage;
  }
  const bool show_pii = run.global.show_pii;
  return RunAdmin(run, &AdminService::Stub::ReassignLead, request,
                  [show_pii](const v1::ReassignLeadResponse& r) {
                    PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                  });
}

int AcknowledgeLead(const Invocation& run) {
  v1::AcknowledgeLeadRequest request;
  if (!run.flags.Text("lead", /*required=*/true, request.mutable_lead_id())) return kExitUsage;
  const bool show_pii = run.global.show_pii;
  return RunProvider(run, &ProviderService::Stub::AcknowledgeLead, request,
                     [show_pii](const v1::AcknowledgeLeadResponse& r) {
                       PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                     });
}

int RecordContact(const Invocation& run) {
  v1::RecordContactAttemptRequest request;
  int outcome = 0;
  if (!run.flags.Text("lead", /*required=*/true, request.mutable_lead_id()) ||
      !run.flags.Enum("outcome", v1::ContactOutcome_descriptor(), /*required=*/true, &outcome) ||
      !run.flags.Text("note", /*required=*/false, request.mutable_note())) {
    return kExitUsage;
  }
  request.set_outcome(static_cast<v1::ContactOutcome>(outcome));
  const bool show_pii = run.global.show_pii;
  return RunProvider(run, &ProviderService::Stub::RecordContactAttempt, request,
                     [show_pii](const v1::RecordContactAttemptResponse& r) {
                       PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                     });
}

}  // namespace

std::vector<Command> LeadCommands() {
  return {
      {"leads",
       "list",
       "List leads, newest first, one page at a time.",
       "intakectl leads list --provider=acme --state=new",
       {{"provider", "ID", "only this provider's leads"},
        {"state", "STATE",
         "only leads in this state: new, unassigned, acknowledged, contacted, opted_out, erased"},
        {"unassigned", "", "only leads with no provider"},
        {"page_size", "N", "leads per page, 1 to 1000 (default 50)"},
        {"page_token", "TOKEN", "the page after the one that printed this token"},
        {"quiet", "", "print only the lead ids, one per line (for scripts)"},
        kAsProviderFlag},
       ListLeads},
      {"leads",
       "get",
       "Show one lead with its consent evidence, event history and disclosures.",
       "intakectl leads get --lead=lead-0190c5a4e2b17f3d9a6c1e8b5d2f4a07 --show-pii",
       {kLeadFlag, kAsProviderFlag},
       GetLead},
      {"leads",
       "reassign",
       "Give a lead to a provider (how ops place an UNASSIGNED lead); the old provider loses it.",
       "intakectl leads reassign --lead=lead-0190c5a4e2b17f3d9a6c1e8b5d2f4a07 --provider=acme",
       {kLeadFlag, {"provider", "ID", "the provider to give it to (required)"}},
       ReassignLead},
      LeadTailCommand(),
      {"leads",
       "ack",
       "Acknowledge a lead as its provider (ProviderService; needs a provider token).",
       "intakectl leads ack --token_file=acme.token --lead=lead-0190c5a4e2b17f3d9a6c1e8b5d2f4a07",
       {kLeadFlag},
       AcknowledgeLead},
      {"leads",
       "contact",
       "Record a call-back attempt as the lead's provider (ProviderService; provider token).",
       "intakectl leads contact --token_file=acme.token "
       "--lead=lead-0190c5a4e2b17f3d9a6c1e8b5d2f4a07 --outcome=reached",
       {kLeadFlag,
        {"outcome", "OUTCOME",
         "reached, no_answer, left_voicemail, wrong_number or declined (required)"},
        {"note", "TEXT",
         "a note for the provider's records, at most 500 characters; no caller "
         "details"}},
       RecordContact},
  };
}

}  // namespace intake::ctl
