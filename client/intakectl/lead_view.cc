#include "client/intakectl/lead_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/intakectl/enum_labels.h"

namespace intake::ctl {

std::string EventTypeLabel(v1::LeadEventType type) {
  return EnumLabel(v1::LeadEventType_descriptor(), type);
}

std::string LeadStateLabel(v1::LeadState state) {
  return EnumLabel(v1::LeadState_descriptor(), state);
}

void PrintLeadTable(const google::protobuf::RepeatedPtrField<v1::Lead>& leads, bool show_pii,
                    std::ostream& out) {
  Table table(
      {"LEAD", "STATE", "PROVIDER", "LISTING", "PHONE", "REGION", "SUBMISSIONS", "CREATED"});
  for (const v1::Lead& lead : leads) {
    table.AddRow({lead.lead_id(), LeadStateLabel(lead.state()), OrDash(lead.provider_id()),
                  OrDash(lead.listing_id()), OrDash(ShowPhone(lead.caller().phone(), show_pii)),
                  OrDash(lead.caller().region()), std::to_string(lead.submission_count()),
                  FormatTimestamp(lead.create_time())});
  }
  table.Print(out);
}

Record LeadRecord(const v1::Lead& lead, bool show_pii) {
  const v1::Caller& caller = lead.caller();
  std::string routing = EnumLabel(v1::RoutingReason_descriptor(), lead.routing().reason());
  if (!lead.routing().detail().empty()) {
    absl::StrAppend(&routing, " (", lead.routing().detail(), ")");
  }
  return {
      {"lead", lead.lead_id()},
      {"state", LeadStateLabel(lead.state())},
      {"provider", OrDash(lead.provider_id())},
      {"listing", lead.listing_id().empty() ? "- (general helpline)" : lead.listing_id()},
      {"routing", routing},
      {"name", OrDash(ShowPii(caller.name(), show_pii))},
      {"phone", OrDash(ShowPhone(caller.phone(), show_pii))},
      {"postal code", OrDash(ShowPii(caller.postal_code(), show_pii))},
      {"region", OrDash(caller.region())},
      {"message", OrDash(ShowPii(lead.message(), show_pii))},
      {"form", OrDash(lead.form().form_id())},
      {"page", OrDash(lead.form().page_url())},
      {"submissions", std::to_string(lead.submission_count())},
      {"created", FormatTimestamp(lead.create_time())},
      {"last submitted", FormatTimestamp(lead.last_submit_time())},
      {"acknowledged", FormatTimestamp(lead.acknowledge_time())},
      {"first contact", FormatTimestamp(lead.first_contact_time())},
      {"last outcome", EnumLabel(v1::ContactOutcome_descriptor(), lead.last_outcome())},
  };
}

void PrintEvidence(const v1::LeadEvidence& evidence, std::ostream& out) {
  PrintRecord({{"consent text sha256", OrDash(evidence.consent_text_sha256())},
               {"advertisers", OrDash(absl::StrJoin(evidence.advertisers(), ", "))},
               {"consent time", FormatTimestamp(evidence.consent_time())}},
              out);
  out << "\n";
  Table events({"SEQUENCE", "EVENT", "PROVIDER", "TIME"});
  for (const v1::LeadEvent& e : evidence.events()) {
    events.AddRow({std::to_string(e.sequence()), EventTypeLabel(e.type()), OrDash(e.provider_id()),
                   FormatTimestamp(e.event_time())});
  }
  events.Print(out);
}

void PrintDisclosures(const google::protobuf::RepeatedPtrField<v1::Disclosure>& disclosures,
                      std::ostream& out) {
  if (disclosures.empty()) {
    out << "no provider has received this lead's personal data\n";
    return;
  }
  Table table({"PROVIDER", "TOKEN", "CHANNEL", "FIRST RECEIVED"});
  for (const v1::Disclosure& d : disclosures) {
    table.AddRow({d.provider_id(), d.token_id(),
                  EnumLabel(v1::DisclosureChannel_descriptor(), d.channel()),
                  FormatTimestamp(d.first_time())});
  }
  table.Print(out);
}

}  // namespace intake::ctl
