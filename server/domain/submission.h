// A callback submission as plain values, the rules that decide whether it is acceptable, and
// the honeypot verdict. The phone rules sit behind PhoneNormalizer so that this library stays
// free of libphonenumber (the real normalizer is UsPhoneNormalizer in us_phone.h).
#ifndef INTAKE_SERVER_DOMAIN_SUBMISSION_H_
#define INTAKE_SERVER_DOMAIN_SUBMISSION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/field_violation.h"

namespace intake {

// Limits from the API contract (proto/intake/v1). Text lengths are counted in Unicode code
// points, not bytes.
constexpr size_t kMaxRequestIdChars = 64;
constexpr size_t kMaxNameChars = 100;
// Longer than any way of writing a NANP number; a bound on what reaches libphonenumber.
constexpr size_t kMaxPhoneChars = 32;
constexpr size_t kMaxConsentTextChars = 10000;
constexpr size_t kMaxAdvertisers = 100;
constexpr size_t kMaxAdvertiserChars = 200;
constexpr size_t kMaxFormIdChars = 100;
constexpr size_t kMaxUrlChars = 2048;  // page_url and referrer.
constexpr size_t kMaxUserAgentChars = 1024;
constexpr size_t kMaxUtmChars = 200;  // utm_source, utm_medium, utm_campaign.
constexpr size_t kMaxMessageChars = 1000;

// Where the form was (SubmitCallbackRequest.form). Informational only.
struct FormContext {
  std::string form_id;
  std::string page_url;
  std::string referrer;
  std::string user_agent;
  std::string client_ip;
  std::string utm_source;
  std::string utm_medium;
  std::string utm_campaign;
};

// One SubmitCallback request, with the values exactly as the API received them (until
// ValidateSubmission normalises them).
struct Submission {
  std::string request_id;
  std::string listing_id;  // Empty = the general helpline.
  std::string caller_name;
  std::string phone;
  std::string postal_code;
  std::string region;
  bool consent_granted = false;
  std::string consent_text;
  std::vector<std::string> advertisers;
  std::string honeypot;
  FormContext form;
  std::string message;
};

// Turns a phone number as a person typed it into E.164. Implementations are thread-safe.
class PhoneNormalizer {
 public:
  virtual ~PhoneNormalizer() = default;

  // Returns the number in E.164 ("+1NXXNXXXXXX"), or kInvalidArgument (and no other code)
  // when it is not an acceptable number. The error message is a short reason fit to show the
  // caller ("is not a valid US phone number"); it never contains the input or any of its
  // digits.
  virtual absl::StatusOr<std::string> ToE164(absl::string_view input) const = 0;
};

// A phone number as a person typed it, checked by the rules of caller.phone (required, at
// most kMaxPhoneChars characters of valid text, accepted by `phones`), in E.164. Otherwise
// kInvalidArgument whose message says what is wrong ("is required", "is not a valid US phone
// number") and never contains the input. For every request that names a caller by phone.
absl::StatusOr<std::string> NormalizePhone(absl::string_view input, const PhoneNormalizer& phones);

// Checks every field of `submission` against the API contract and returns one violation per
// bad field, all of them at once, named by the field's path in SubmitCallbackRequest
// (`request_id`, `listing_id`, `caller.name`, `caller.phone`, `caller.postal_code`,
// `caller.region`, `consent.granted`, `consent.text`, `consent.advertisers`,
// `consent.advertisers[3]`, `form.page_url`, ..., `message`), in that order. Empty means the
// submission is acceptable. Descriptions never contain the submitted value.
//
// The rules: every string is valid UTF-8 within its limit (above) and free of control
// characters (C0, DEL, C1), except that consent.text may hold tab, line feed and carriage
// return (it is the verbatim text the page showed, often in paragraphs, and only its hash is
// compared later) and the message may hold tab and line feed. request_id: optional, at most
// 64 of [A-Za-z0-9_-]. listing_id: empty or [a-z0-9][a-z0-9-]{0,63}. caller.phone: required,
// at most 32 characters, accepted by `phones`. caller.postal_code: optional, "#####" or
// "#####-####". caller.region: optional, a state code of IsValidRegion in any letter case.
// consent.granted: true. consent.text: 1 to 10000 characters. consent.advertisers: at most
// 100 entries of 1 to 200 characters (past 100 entries only the count is reported).
// form.client_ip: empty, or an IPv4 dotted quad or IPv6 address in text form. The honeypot is
// not looked at (see IsBot).
//
// Only when the result is empty is `submission` normalised in place: surrounding ASCII
// whitespace is trimmed from caller.name, caller.postal_code and caller.region (and the
// limits apply to the trimmed values); the phone becomes E.164; the region becomes upper case
// ("fl" -> "FL"), since the API stores and routes on upper-case codes and a lower-case state
// from a form is not worth refusing a callback over; in the message, each CR LF pair (how an
// HTML form posts a textarea line break) becomes LF, while a lone CR is refused. When
// violations are returned, `submission` is left as it was. Thread-safe if `phones` is (and no
// one else touches `submission`).
FieldViolations ValidateSubmission(Submission& submission, const PhoneNormalizer& phones);

// True when the hidden honeypot field holds anything at all, whitespace included: people
// cannot see the field, so any value was put there by software. The verdict is independent of
// ValidateSubmission.
bool IsBot(const Submission& submission);

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_SUBMISSION_H_
