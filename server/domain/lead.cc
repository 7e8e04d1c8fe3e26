#include "server/domain/lead.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_replace.h"
#include "server/domain/text.h"

namespace intake {

FieldViolations NormalizeContactNote(std::string& note) {
  std::string folded = absl::StrReplaceAll(note, {{"\r\n", "\n"}});
  std::optional<std::string> problem =
      FindTextProblem(folded, {0, kMaxContactNoteChars, AllowedControls::kTabAndLineFeed});
  if (problem.has_value()) return {FieldViolation{"note", *std::move(problem)}};
  note = std::move(folded);
  return {};
}

void ReassignTo(Lead& lead, const std::string& provider_id) {
  lead.provider_id = provider_id;
  lead.state = LeadState::kNew;
  lead.routing_reason = RoutingReason::kManual;
  lead.routing_detail = "reassigned by ops";
  lead.acknowledge_time.reset();
  lead.first_contact_time.reset();
  lead.last_outcome.reset();
}

bool Acknowledge(Lead& lead, absl::Time now) {
  if (lead.acknowledge_time) return false;
  lead.acknowledge_time = now;
  if (lead.state == LeadState::kNew) lead.state = LeadState::kAcknowledged;
  return true;
}

void RecordContact(Lead& lead, ContactOutcome outcome, absl::Time now) {
  if (!lead.first_contact_time) lead.first_contact_time = now;
  lead.last_outcome = outcome;
  lead.state = LeadState::kContacted;
}

absl::Status CheckFeedbackAllowed(const Lead& lead) {
  if (lead.state == LeadState::kOptedOut || lead.state == LeadState::kErased) {
    return absl::FailedPreconditionError("the caller opted out or was erased: do not contact");
  }
  return absl::OkStatus();
}

}  // namespace intake
