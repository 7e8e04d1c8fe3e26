// The routing policy: which provider a new lead goes to, and why. Price never enters it:
// there is no input through which it could.
#ifndef INTAKE_SERVER_DOMAIN_ROUTING_H_
#define INTAKE_SERVER_DOMAIN_ROUTING_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/provider.h"

namespace intake {

enum class RoutingReason {
  kListingOwner,        // The listing's provider.
  kRotation,            // A general lead, least recently assigned eligible provider.
  kNoEligibleProvider,  // Nobody eligible: the lead is UNASSIGNED.
  kManual,              // Ops reassigned it.
  kListingOwnerPaused,  // A listing lead whose owner is paused, rotated instead.
};

// What the policy knows of one provider when a lead arrives.
struct RoutingCandidate {
  const Provider* provider;
  // When it was last assigned a lead, by any rule or by ops; absl::InfinitePast() if never.
  absl::Time last_assigned;
  // Assignments to it since the start of its current local day (see LocalDayStart), by any
  // rule or by ops, counting leads that have since moved to another provider.
  uint32_t assigned_today = 0;
};

struct RoutingRequest {
  // The owner of the submission's listing; nullptr for a general-helpline submission.
  const Provider* listing_owner = nullptr;
  // The caller's region ("FL"); empty if the caller gave none, which only nationwide
  // providers serve.
  std::string caller_region;
};

struct RoutingDecision {
  // The chosen provider; empty when reason is kNoEligibleProvider.
  std::string provider_id;
  RoutingReason reason;
  // For people: why (e.g. which providers were skipped and for what). Ids only, never PII.
  std::string detail;
};

// Decides where a lead goes at `now`:
// - a listing lead goes to its owner (whatever its regions, cap or hours) unless the owner is
//   PAUSED, in which case it is routed like a general lead with reason kListingOwnerPaused;
// - a general lead goes to the eligible candidate (ACTIVE, serves caller_region or is
//   nationwide, assigned_today below a non-zero daily_cap, open at `now` in its time zone)
//   with the earliest last_assigned, ties broken by the smaller provider_id;
// - with nobody eligible, kNoEligibleProvider and no provider.
// Pure: the same inputs always give the same decision.
RoutingDecision Route(const RoutingRequest& request, absl::Span<const RoutingCandidate> candidates,
                      absl::Time now);

// True if `provider` is open at `now` (always, with no hours), judged in its time zone's
// local wall-clock time, so DST changes move the UTC instants of opening.
bool IsOpen(const Provider& provider, absl::Time now);

// The start of the provider's local calendar day containing `now`: the instant its daily cap
// counts from.
absl::Time LocalDayStart(const Provider& provider, absl::Time now);

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_ROUTING_H_
