// Leads and their event log as plain values. The numbers of the enums are the API's and are
// what the store keeps, so they never change.
#ifndef INTAKE_SERVER_DOMAIN_LEAD_H_
#define INTAKE_SERVER_DOMAIN_LEAD_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
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

struct SubmitResult {
  std::string submission_id;
  SubmissionOutcome outcome;
  std::string lead_id;  // Empty for bots.
};

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_LEAD_H_
