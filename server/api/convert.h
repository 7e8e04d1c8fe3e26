// Conversions between intake.v1 messages and domain values. Proto-to-domain conversions
// report what cannot be represented (an unknown enum value) as field violations.
#ifndef INTAKE_SERVER_API_CONVERT_H_
#define INTAKE_SERVER_API_CONVERT_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "intake/v1/admin_service.pb.h"
#include "intake/v1/intake_service.pb.h"
#include "intake/v1/lead.pb.h"
#include "intake/v1/provider.pb.h"
#include "server/domain/disclosure.h"
#include "server/domain/field_violation.h"
#include "server/domain/lead.h"
#include "server/domain/provider.h"
#include "server/domain/response_stats.h"
#include "server/domain/submission.h"

namespace intake::api {

// Unset (InfinitePast) times leave the timestamp unset.
void ToProto(absl::Time time, google::protobuf::Timestamp* out);
// The time of a timestamp within the range protobuf defines (years 1 to 9999, nanos from 0
// to 999,999,999); nullopt for any other.
std::optional<absl::Time> FromProto(const google::protobuf::Timestamp& timestamp);
void ToProto(const Provider& provider, v1::Provider* out);
void ToProto(const Listing& listing, v1::Listing* out);

void ToProto(const FormContext& form, v1::FormContext* out);
// A quarantined submission's fields as stored (its id and times are the caller's to set).
void ToProto(const Submission& submission, v1::QuarantinedSubmission* out);
void ToProto(const Lead& lead, v1::Lead* out);
// The lead as its provider may see it: the routing reason without the detail, which names
// other providers and why they were passed over.
void ToProviderProto(const Lead& lead, v1::Lead* out);
void ToProto(const LeadEvent& event, v1::LeadEvent* out);
void ToProto(const ResponseFigures& figures, v1::ResponseStats* out);
void ToProto(const Disclosure& disclosure, v1::Disclosure* out);
void ToProto(const LeadDisclosures& lead, v1::LeadDisclosures* out);
// Whether `lead`, as it is about to be sent, carries any of the caller's personal data (what
// erasure deletes: caller, message, the form's client_ip, user_agent and referrer). A lead
// reduced to its id (REASSIGNED_AWAY) or erased carries none: sending it is no disclosure.
bool CarriesPersonalData(const v1::Lead& lead);
v1::LeadEventType ToProto(LeadEventType type);

// A LeadState filter: UNSPECIFIED is nullopt (any state); an unknown number a violation.
std::optional<LeadState> FromProto(v1::LeadState state, absl::string_view field,
                                   FieldViolations* violations);
// A contact outcome; UNSPECIFIED or an unknown number is a violation on `field`.
ContactOutcome FromProto(v1::ContactOutcome outcome, absl::string_view field,
                         FieldViolations* violations);

// `state` as a domain value; UNSPECIFIED is `if_unspecified`, an unknown number a violation
// on `field`.
ProviderState FromProto(v1::ProviderState state, ProviderState if_unspecified,
                        absl::string_view field, FieldViolations* violations);
// Opening periods as given; ValidateProvider judges them (weekday, minute ranges).
std::vector<OpeningPeriod> FromProto(
    const google::protobuf::RepeatedPtrField<v1::OpeningPeriod>& hours);

// A new provider from CreateProviderRequest, with the API's defaults (ACTIVE,
// America/New_York).
Provider FromProto(const v1::CreateProviderRequest& request, FieldViolations* violations);
Listing FromProto(const v1::CreateListingRequest& request);
// The submission as received; ValidateSubmission judges and normalises it.
Submission FromProto(const v1::SubmitCallbackRequest& request);

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_CONVERT_H_
