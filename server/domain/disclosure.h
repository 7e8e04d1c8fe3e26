// The accounting of disclosures: which provider token received which lead's personal data,
// how and when first. The numbers of the enum are the API's and are what the store keeps.
#ifndef INTAKE_SERVER_DOMAIN_DISCLOSURE_H_
#define INTAKE_SERVER_DOMAIN_DISCLOSURE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace intake {

// How a lead's personal data left Intake to a provider: each way a provider token can
// receive a lead with its caller data.
enum class DisclosureChannel {
  kStream = 1,                // A SubscribeLeads event that carried the lead.
  kGetLead = 2,               // ProviderService.GetLead.
  kListLeads = 3,             // ProviderService.ListLeads.
  kAcknowledgeLead = 4,       // The lead in an AcknowledgeLead reply.
  kRecordContactAttempt = 5,  // The lead in a RecordContactAttempt reply.
};

// The first time one provider token received one lead's personal data.
struct Disclosure {
  std::string provider_id;
  std::string token_id;  // The token's id, never the token.
  DisclosureChannel channel = DisclosureChannel::kStream;
  absl::Time first_time;
};

// One lead of a caller and every disclosure of it, oldest first.
struct LeadDisclosures {
  std::string lead_id;
  std::string listing_id;  // Empty for the general helpline.
  absl::Time create_time;
  std::vector<Disclosure> disclosures;
};

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_DISCLOSURE_H_
