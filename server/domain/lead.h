// Leads and their event log as plain values. The numbers of the enums are the API's and are
// what the store keeps, so they never change.
#ifndef INTAKE_SERVER_DOMAIN_LEAD_H_
#define INTAKE_SERVER_DOMAIN_LEAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/field_violation.h"
#include "server/domain/routing.h"
#include "server/domain/submission.h"

namespace intake {

enum class LeadState {
  kNew = 1,
  kUnassigned = 2,
  kAcknowledged = 3,
  kContacted = 4,
  kOptedOut = 5,
  kErased = 6,
};

enum class LeadEventType {
  kAssigned = 1,
  kResubmitted = 2,
  kReassignedAway = 3,
  kOptedOut = 4,
  kErased = 5,
};

// What became of an accepted submission. Never shown to the public caller: a duplicate and a
// bot get the same reply as a new lead.
enum class SubmissionOutcome {
  kNewLead = 1,
  kMerged = 2,    // A duplicate within the dedup window: folded into an existing lead.
  kBot = 3,       // The honeypot was filled: quarantined, no lead.
  kReplayed = 4,  // A repeated request_id: the first submission's result, nothing new.
};

enum class ContactOutcome {
  kReached = 1,
  kNoAnswer = 2,
  kLeftVoicemail = 3,
  kWrongNumber = 4,
  kDeclined = 5,
};

// A lead as stored, its personal data opened. Once erased, the caller fields, the message
// and the form's client_ip, user_agent and referrer are empty.
struct Lead {
  std::string lead_id;
  LeadState state = LeadState::kNew;
  std::string listing_id;   // Empty for the general helpline.
  std::string provider_id;  // Empty while unassigned.
  RoutingReason routing_reason = RoutingReason::kRotation;
  std::string routing_detail;
  std::string caller_name;
  std::string phone;  // E.164.
  std::string postal_code;
  std::string region;
  std::string message;
  FormContext form;
  absl::Time create_time;
  absl::Time last_submit_time;
  std::optional<absl::Time> acknowledge_time;
  std::optional<absl::Time> first_contact_time;
  std::optional<ContactOutcome> last_outcome;
  uint32_t submission_count = 1;
};

// One entry of the event log.
struct LeadEvent {
  uint64_t sequence = 0;
  LeadEventType type = LeadEventType::kAssigned;
  std::string lead_id;
  std::string provider_id;  // Whose stream carries it; empty: admin watchers only.
  absl::Time event_time;
};

// Server-issued ids are opaque; a request's lead_id is only checked for a sane length before
// the look-up (an id that passes may still be unknown: NOT_FOUND).
inline bool IsPlausibleLeadId(absl::string_view lead_id) {
  return !lead_id.empty() && lead_id.size() <= 64;
}

// The longest note a contact attempt may carry, in code points (the API's limit).
constexpr size_t kMaxContactNoteChars = 500;

// Checks a contact attempt's note and puts it in the form it is stored in: CR LF pairs folded
// to LF, as for a submission's message (a browser's textarea sends CR LF). The note is fine
// (the result empty) when it is then valid UTF-8 of at most kMaxContactNoteChars code points
// whose only control characters are tab and line feed: a note may span lines, while a CR on
// its own and every other control character are refused. Otherwise the result is one
// violation on field "note", whose description never contains the note.
FieldViolations NormalizeContactNote(std::string& note);

// Whether a provider may still acknowledge `lead` or record a contact attempt on it: not once
// the caller opted out or was erased (kFailedPrecondition, the same for every backend).
absl::Status CheckFeedbackAllowed(const Lead& lead);

// What ops reassigning `lead` to `provider_id` makes of it, in every backend: a NEW lead of
// that provider, routed MANUAL, with no acknowledgement, contact or outcome of the last one.
void ReassignTo(Lead& lead, const std::string& provider_id);

// A provider's first acknowledgement of `lead` at `now`: stamps it and moves a NEW lead to
// ACKNOWLEDGED. False (and nothing changes) when it was acknowledged before.
bool Acknowledge(Lead& lead, absl::Time now);

// A contact attempt on `lead` at `now`: the first one is stamped, the outcome kept, the lead
// CONTACTED.
void RecordContact(Lead& lead, ContactOutcome outcome, absl::Time now);

struct SubmitResult {
  std::string submission_id;
  SubmissionOutcome outcome;
  std::string lead_id;  // Empty for bots.
  // How the new lead was routed; only for kNewLead.
  std::optional<RoutingReason> routing;
  // The provider that owns the submission's listing (whatever the outcome); empty for the
  // general helpline. The reply's figures are this provider's.
  std::string listing_owner;
};

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_LEAD_H_
