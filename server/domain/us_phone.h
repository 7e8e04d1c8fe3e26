// The real PhoneNormalizer: North American Numbering Plan numbers, checked with libphonenumber.
// Kept out of intake_domain because libphonenumber links protobuf.
#ifndef INTAKE_SERVER_DOMAIN_US_PHONE_H_
#define INTAKE_SERVER_DOMAIN_US_PHONE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/submission.h"

namespace intake {

// Accepts a number a person in the US would write for a callback: "(305) 736-5000",
// "305-736-5000", "305.736.5000", "305/736-5000", "+1 305 736 5000", "1-305-736-5000",
// "3057365000", with or without surrounding spaces, also with Unicode dashes or no-break
// spaces from copy and paste. Returns E.164, "+1NXXNXXXXXX".
//
// The number must be a valid NANP number by libphonenumber's metadata: any country code 1
// number, so Canada, Puerto Rico and the other NANP territories and countries are accepted
// too, as are toll-free and 5XX personal numbers. Refused, with kInvalidArgument and a short
// reason that holds no digit of the input (indeed no digit at all):
// - more than kMaxPhoneChars characters, or any character other than digits, spaces and
//   ( ) - . / + (so letters: vanity numbers such as 1-800-FLOWERS, and extensions);
// - numbers libphonenumber cannot parse or does not deem valid, and non-NANP numbers;
// - N11 service codes as area code or as exchange (411, 911, 305-411-...);
// - the fictional 555-0100..555-0199 range;
// - premium-rate (900) and shared-cost numbers.
//
// Thread-safe (PhoneNumberUtil is a thread-safe singleton). Throws nothing.
class UsPhoneNormalizer final : public PhoneNormalizer {
 public:
  absl::StatusOr<std::string> ToE164(absl::string_view input) const override;
};

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_US_PHONE_H_
