// How leads look for people: a table row per lead and a full record for one, with the caller's
// personal data masked unless --show-pii.
#ifndef INTAKE_CLIENT_INTAKECTL_LEAD_VIEW_H_
#define INTAKE_CLIENT_INTAKECTL_LEAD_VIEW_H_

#include <ostream>
#include <string>
#include <vector>

#include "client/intakectl/output.h"
#include "google/protobuf/repeated_field.h"
#include "intake/v1/admin_service.pb.h"
#include "intake/v1/lead.pb.h"

namespace intake::ctl {

// Prints one row per lead: id, state, provider, listing, phone, region, submissions, created.
void PrintLeadTable(const google::protobuf::RepeatedPtrField<v1::Lead>& leads, bool show_pii,
                    std::ostream& out);

// Every field of `lead` as a record.
Record LeadRecord(const v1::Lead& lead, bool show_pii);

// The evidence behind a lead (consent hash, advertisers, form) as a record, and its events as a
// table.
void PrintEvidence(const v1::LeadEvidence& evidence, std::ostream& out);

// Where a lead's personal data went: one row per provider token, oldest first.
void PrintDisclosures(const google::protobuf::RepeatedPtrField<v1::Disclosure>& disclosures,
                      std::ostream& out);

// "ASSIGNED" for LEAD_EVENT_TYPE_ASSIGNED, and so on for the lead enums.
std::string EventTypeLabel(v1::LeadEventType type);
std::string LeadStateLabel(v1::LeadState state);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_LEAD_VIEW_H_
